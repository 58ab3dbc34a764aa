import { collectDefaultMetrics, Counter, Registry } from 'prom-client';

/**
 * One registry per app (not prom-client's global one), so several instances in
 * one process, as in tests, keep their counts apart.
 */
export interface Metrics {
  registry: Registry;
  tokenIssued: Counter;
  tokenRejected: Counter<'reason'>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'portcullis_' });
  return {
    registry,
    tokenIssued: new Counter({
      name: 'registry_token_issued_total',
      help: 'Registry tokens (JWTs) issued by /token.',
      registers: [registry],
    }),
    tokenRejected: new Counter({
      name: 'registry_token_rejected_total',
      help: 'Requests to /token refused, by reason.',
      labelNames: ['reason'],
      registers: [registry],
    }),
  };
}
