import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface CaughtMail {
  /** Envelope recipients, as the server was told them. */
  to: string[];
  from: string;
  subject: string;
  text: string;
  html: string;
  /** Credentials the client logged in with, if any. */
  login?: { username: string; password: string };
}

/**
 * A real SMTP server (the smtp-server package) on 127.0.0.1 and a free port,
 * catching every mail: what an instance configured with `[smtp] host =
 * 127.0.0.1, tls = "none"` sends. `auth` makes it require that login.
 */
export interface SmtpCatcher {
  port: number;
  mails: CaughtMail[];
  /** Answers the next mails with this SMTP error (e.g. 550) instead of taking them; undefined: take them. */
  reject: number | undefined;
  /** The first mail to `to` caught so far or within the timeout. */
  waitFor(to: string, timeoutMs?: number): Promise<CaughtMail>;
  close(): Promise<void>;
}

export async function startSmtpCatcher(options: { auth?: { username: string; password: string } } = {}): Promise<SmtpCatcher> {
  const mails: CaughtMail[] = [];
  const waiters: (() => void)[] = [];
  const catcher = { mails, reject: undefined } as SmtpCatcher;
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    authOptional: options.auth === undefined,
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, callback) {
      const want = options.auth;
      if (want && auth.username === want.username && auth.password === want.password) return callback(null, { user: auth.username });
      return callback(new Error('invalid login'));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (catcher.reject !== undefined) {
          const err = Object.assign(new Error('mailbox unavailable'), { responseCode: catcher.reject });
          return callback(err);
        }
        void simpleParser(Buffer.concat(chunks)).then((parsed) => {
          const login = session.user ? { username: String(session.user), password: options.auth?.password ?? '' } : undefined;
          mails.push({
            to: session.envelope.rcptTo.map((r) => r.address),
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            subject: parsed.subject ?? '',
            text: parsed.text ?? '',
            html: typeof parsed.html === 'string' ? parsed.html : '',
            ...(login ? { login } : {}),
          });
          for (const wake of waiters.splice(0)) wake();
          callback();
        }, callback);
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  catcher.port = (server.server.address() as AddressInfo).port;
  catcher.waitFor = async (to, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = mails.find((m) => m.to.includes(to));
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no mail to ${to} within ${timeoutMs} ms (caught: ${mails.map((m) => m.to.join(',')).join('; ') || 'none'})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  };
  catcher.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return catcher;
}
