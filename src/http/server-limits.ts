import type { ServerOptions } from 'node:http';
import type { Config } from '../config/schema.js';

/** Largest JSON or form body the admin API and /token parse; /v2 bodies stream and are bounded by registry.max_blob_bytes. */
export const BODY_LIMIT_BYTES = 1024 * 1024;

/** Options for Fastify(): `http` goes to Node's http.createServer, Fastify applies the rest to the server. */
export interface ServerLimits {
  bodyLimit: number;
  http: ServerOptions;
  keepAliveTimeout: number;
  connectionTimeout: number;
  requestTimeout: number;
}

/**
 * The HTTP server's limits from `[server]`. There is deliberately no limit on
 * a whole request: Node's requestTimeout would cut a blob upload of many GiB,
 * so a body is only bounded by idle time (nothing moving on the socket).
 */
export function serverLimits(server: Readonly<Config['server']>): ServerLimits {
  return {
    bodyLimit: BODY_LIMIT_BYTES,
    http: {
      maxHeaderSize: server.max_header_bytes,
      // Here too: Node checks headersTimeout against its own 300 s requestTimeout when it creates the server.
      requestTimeout: 0,
      headersTimeout: server.headers_timeout_ms,
      // Node only notices a late request head when it sweeps its connections: sweep often enough to honour the limit.
      connectionsCheckingInterval: Math.min(30_000, Math.max(100, Math.floor(server.headers_timeout_ms / 2))),
    },
    keepAliveTimeout: server.keep_alive_timeout_ms,
    connectionTimeout: server.idle_timeout_ms,
    requestTimeout: 0,
  };
}
