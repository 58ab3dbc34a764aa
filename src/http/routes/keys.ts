import type { FastifyInstance } from 'fastify';
import { exportJWK } from 'jose';
import type { Runtime } from '../../runtime.js';

/**
 * The public keys that verify registry tokens, for registries that read a
 * JWKS (distribution 3, zot, Harbor) rather than a certificate bundle. Old
 * keys stay listed until nothing they signed can still be accepted.
 */
export function registerKeyRoutes(app: FastifyInstance, runtime: Runtime): void {
  app.get('/.well-known/jwks.json', async (_request, reply) => {
    const keys = await Promise.all(
      runtime.keys.published(runtime.now()).map(async (key) => ({
        ...(await exportJWK(key.publicKey)),
        kid: key.kid,
        alg: key.alg,
        use: 'sig',
        ...(key.certificateChain.length > 0 ? { x5c: key.certificateChain.map((der) => der.toString('base64')) } : {}),
      })),
    );
    return reply.header('cache-control', 'public, max-age=60').send({ keys });
  });
}
