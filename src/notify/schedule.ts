import type { Logger } from 'pino';
import { durationToSeconds, parseDuration } from '../core/duration.js';
import { notifierFromConfig, runExpiryRound, type ExpiryRoundDeps, type ExpiryRoundResult } from './expiry-round.js';

export interface Repeating {
  /** Stops the timer and waits for a run in progress, so the store can be closed after it. */
  stop(): Promise<void>;
}

/**
 * Runs task now and then `intervalMs` after each run ends, so runs never
 * overlap. The timer does not keep the process alive on its own.
 */
export function every(intervalMs: number, task: () => Promise<void>, onError: (err: unknown) => void): Repeating {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  const tick = () => {
    running = task()
      .catch(onError)
      .finally(() => {
        running = undefined;
        if (stopped) return;
        timer = setTimeout(tick, intervalMs);
        timer.unref();
      });
  };
  tick();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

/** What a round did, for the log: never the webhook URL or its secret. */
export function logRound(logger: Logger, result: ExpiryRoundResult): void {
  for (const { notice, outcome, error } of result.entries) {
    const fields = { event: notice.warning.event, object_id: notice.warning.objectId, ends_at: notice.warning.endsAt.toISOString(), vendor: notice.vendor.name };
    if (outcome === 'sent') logger.info({ ...fields, days_left: notice.warning.daysLeft }, 'expiry warning sent');
    else if (outcome === 'failed') logger.warn({ ...fields, error }, 'expiry warning not sent; it is retried on the next check');
  }
}

/**
 * `serve`'s expiry warnings: a round at start and every check_interval.
 * Undefined when no notifier is configured (nothing to send with).
 */
export function startExpiryWarnings(deps: ExpiryRoundDeps, logger: Logger): Repeating | undefined {
  const notifier = notifierFromConfig(deps.config);
  if (!notifier) return undefined;
  const intervalMs = durationToSeconds(parseDuration(deps.config.notifications.check_interval)!) * 1000;
  logger.info({ channel: notifier.channel, warn_before: deps.config.notifications.warn_before, check_interval: deps.config.notifications.check_interval }, 'expiry warnings on');
  return every(
    intervalMs,
    async () => logRound(logger, await runExpiryRound(deps, notifier)),
    (err) => logger.error({ err }, 'expiry warning check failed; trying again at the next interval'),
  );
}
