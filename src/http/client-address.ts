import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/schema.js';
import { clientAddress, forwardedHopsOf } from '../core/forwarded.js';
import { trustedProxies } from '../core/trusted-proxies.js';

/**
 * `request.ip` is the one client address every consumer reads: lockouts,
 * audit sources, usage events, a token's last-used address. Without
 * `[server] trusted_proxies` it is the socket peer, as Fastify has it. With
 * them, a request whose peer is a trusted proxy gets the address the
 * configured forwarding header names (src/core/forwarded.ts), set once per
 * request before any other hook reads it; its log lines carry it as `client`
 * (`remoteAddress` stays the peer).
 *
 * Fastify's own `trustProxy` is not used: it reads X-Forwarded-For only, and
 * it would also take the host and protocol from X-Forwarded-Host/-Proto,
 * which must never steer anything here (the public URL comes from config).
 *
 * Call it right after creating the app: route contexts copy the child logger
 * factory when they are made, and later onRequest hooks must see the address.
 */
export function registerClientAddress(app: FastifyInstance, server: Pick<Config['server'], 'trusted_proxies' | 'forwarded_header'>): void {
  if (server.trusted_proxies.length === 0) return;
  const isTrusted = trustedProxies(server.trusted_proxies);
  const header = server.forwarded_header;
  const forwarded = new WeakMap<IncomingMessage, string>();
  /** The forwarded client of a request from a trusted proxy, computed once; undefined from anyone else. */
  const forwardedClient = (raw: IncomingMessage): string | undefined => {
    const known = forwarded.get(raw);
    if (known !== undefined) return known;
    const peer = raw.socket?.remoteAddress;
    if (peer === undefined || !isTrusted(peer)) return undefined;
    const client = clientAddress(peer, forwardedHopsOf(header, raw.headers[header]), isTrusted);
    forwarded.set(raw, client);
    return client;
  };
  // Runs before Fastify's "incoming request" line, which precedes every hook.
  app.setChildLoggerFactory((logger, bindings, options, raw) => {
    const client = forwardedClient(raw);
    return logger.child(client === undefined ? bindings : { ...bindings, client }, options);
  });
  app.addHook('onRequest', (request, _reply, done) => {
    const client = forwardedClient(request.raw);
    // request.ip is a getter on Fastify's request prototype; an own property shadows it for this request only.
    if (client !== undefined) Object.defineProperty(request, 'ip', { value: client, enumerable: true, configurable: true });
    done();
  });
}
