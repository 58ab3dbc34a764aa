import { invalid } from './errors.js';
import { quote } from './text.js';

export interface ListenAddress {
  host: string;
  port: number;
}

const EXPECTED = 'expected HOST:PORT such as 127.0.0.1:9464, [::1]:9464 or 0.0.0.0:9464';

/**
 * `host:port` for a listener; an IPv6 host goes in brackets (`[::1]:9464`).
 * Port 0 lets the system pick one (what tests use).
 */
export function parseListenAddress(text: string, field: string): ListenAddress {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(text.trim());
  if (!m) throw invalid(`${quote(text)} is not a listen address: ${EXPECTED}`, field);
  const port = Number(m[3]);
  if (port > 65535) throw invalid(`${quote(text)}: the port must be a number from 0 to 65535`, field);
  return { host: m[1] ?? m[2]!, port };
}
