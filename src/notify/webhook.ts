import { createHmac } from 'node:crypto';
import { deliveryId, expiryPayload, NotifyError, type ExpiryNotice, type Notifier } from './notifier.js';

export const SIGNATURE_HEADER = 'x-portcullis-signature';
const TIMEOUT_MS = 10_000;

/** `sha256=<hex HMAC-SHA256 of the raw body>`, as GitHub signs its hooks, so receivers can reuse their check. */
export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export interface WebhookOptions {
  url: string;
  secret?: string;
  timeoutMs?: number;
}

/** POSTs each notice as JSON; any answer but 2xx, or none within the timeout, is a failure. */
export class WebhookNotifier implements Notifier {
  readonly channel = 'webhook';

  constructor(private readonly options: WebhookOptions) {}

  async notify(notice: ExpiryNotice, at: Date): Promise<void> {
    const body = JSON.stringify(expiryPayload(notice, at));
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'portcullis',
      'x-portcullis-event': notice.warning.event,
      'x-portcullis-delivery': deliveryId(notice),
    };
    if (this.options.secret) headers[SIGNATURE_HEADER] = signBody(this.options.secret, body);
    const timeoutMs = this.options.timeoutMs ?? TIMEOUT_MS;
    let response: Response;
    try {
      // A redirect is a failure: following it would send the body somewhere nobody configured.
      response = await fetch(this.options.url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      throw new NotifyError(describeFetchError(err, timeoutMs));
    }
    await response.body?.cancel().catch(() => undefined);
    if (!response.ok) throw new NotifyError(`webhook answered HTTP ${response.status}`);
  }
}

/** The cause without the URL, which may carry a token of the receiver's. */
function describeFetchError(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `webhook did not answer within ${timeoutMs / 1000} s`;
  const code = e.cause?.code;
  return `webhook unreachable${code ? `: ${code}` : ''}`;
}
