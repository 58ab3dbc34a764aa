import type { Transporter } from 'nodemailer';
import type { Config } from '../config/schema.js';
import type { UserRole } from '../core/roles.js';

export interface Mail {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** Sends one mail; resolves once the server took it, throws (a message naming the cause, no content) when it did not. */
export interface Mailer {
  send(mail: Mail): Promise<void>;
}

/**
 * The SMTP sender of [smtp], or undefined when no host is configured. TLS is
 * required unless `tls = "none"`: with starttls a server that cannot upgrade
 * is refused rather than sent the password in clear.
 */
export function createMailer(smtp: Readonly<Config['smtp']>, password: string | undefined): Mailer | undefined {
  if (!smtp.host) return undefined;
  const host = smtp.host;
  // nodemailer is loaded by the first mail: most instances send none for days, and it is a big module to hold.
  let transporter: Promise<Transporter> | undefined;
  const connect = async (): Promise<Transporter> => (await import('nodemailer')).createTransport({
    host,
    port: smtp.port,
    secure: smtp.tls === 'implicit',
    requireTLS: smtp.tls === 'starttls',
    ignoreTLS: smtp.tls === 'none',
    ...(smtp.username ? { auth: { user: smtp.username, pass: password ?? '' } } : {}),
    // An invitation waits for this answer: a dead server must not hold it for minutes.
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
  });
  return {
    async send(mail) {
      try {
        await (await (transporter ??= connect())).sendMail({ from: smtp.from, ...mail });
      } catch (err) {
        // nodemailer's messages carry the server's reply, never the message body.
        throw new Error(`SMTP ${host}:${smtp.port}: ${(err as Error).message ?? String(err)}`);
      }
    },
  };
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Invitation mail: the link, who invites (the vendor) and until when, in plain text and simple HTML. */
export function invitationMail(input: { to: string; vendorName: string; url: string; expiresAt: Date; role: UserRole }): Mail {
  const until = input.expiresAt.toISOString().replace(/\.\d{3}Z$/, 'Z').replace('T', ' ');
  const subject = `You are invited to the ${input.vendorName} registry dashboard`;
  const text = [
    `You are invited to the container registry dashboard of ${input.vendorName} (role: ${input.role}).`,
    '',
    'Choose your password with this link:',
    '',
    input.url,
    '',
    `The link works once, until ${until} (UTC).`,
    'If you did not expect this invitation, ignore this mail.',
    '',
  ].join('\n');
  const html = [
    '<!doctype html><html><body style="font-family:sans-serif;line-height:1.5">',
    `<p>You are invited to the container registry dashboard of <strong>${escapeHtml(input.vendorName)}</strong> (role: ${escapeHtml(input.role)}).</p>`,
    `<p><a href="${escapeHtml(input.url)}">Choose your password</a></p>`,
    `<p style="color:#555">Or open this address: ${escapeHtml(input.url)}</p>`,
    `<p style="color:#555">The link works once, until ${escapeHtml(until)} (UTC). If you did not expect this invitation, ignore this mail.</p>`,
    '</body></html>',
  ].join('\n');
  return { to: input.to, subject, text, html };
}
