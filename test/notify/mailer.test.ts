import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { smtpSchema } from '../../src/config/schema.js';
import { normalizeEmail } from '../../src/core/email-address.js';
import { createMailer, invitationMail } from '../../src/notify/mailer.js';
import { startSmtpCatcher, type SmtpCatcher } from '../helpers/smtp-catcher.js';

describe('mailer', () => {
  let smtp: SmtpCatcher;
  beforeAll(async () => {
    smtp = await startSmtpCatcher({ auth: { username: 'portcullis', password: 'smtp-secret' } });
  });
  afterAll(async () => smtp?.close());

  const config = (extra: Record<string, unknown> = {}) => smtpSchema.parse({ host: '127.0.0.1', port: smtp.port, tls: 'none', username: 'portcullis', ...extra });

  it('is absent without a host', () => {
    expect(createMailer(smtpSchema.parse({}), undefined)).toBeUndefined();
  });

  it('logs in with the username and secrets.smtp_password and delivers text and HTML from the configured sender', async () => {
    const mailer = createMailer(config({ from: 'Acme <registry@acme.test>' }), 'smtp-secret')!;
    await mailer.send({ to: 'ann@example.com', subject: 'Hello', text: 'plain body', html: '<p>html body</p>' });
    const mail = await smtp.waitFor('ann@example.com');
    expect(mail).toMatchObject({ from: 'registry@acme.test', subject: 'Hello', text: 'plain body', login: { username: 'portcullis' } });
    expect(mail.html).toContain('<p>html body</p>');
  });

  it('fails with a message naming the server when the login or the mail is refused', async () => {
    await expect(createMailer(config(), 'wrong')!.send({ to: 'bob@example.com', subject: 's', text: 't', html: 'h' })).rejects.toThrow(/^SMTP 127\.0\.0\.1:\d+: .*Invalid login/i);
    smtp.reject = 550;
    try {
      await expect(createMailer(config(), 'smtp-secret')!.send({ to: 'bob@example.com', subject: 's', text: 't', html: 'h' })).rejects.toThrow(/550/);
    } finally {
      smtp.reject = undefined;
    }
  });

  it('delivers to exactly the one mailbox normalizeEmail accepted; what it refuses would have reached someone else', async () => {
    const mailer = createMailer(config(), 'smtp-secret')!;
    const sendTo = async (to: string) => {
      const before = smtp.mails.length;
      await mailer.send({ to, subject: 'Invitation', text: 't', html: 'h' });
      return smtp.mails.slice(before).flatMap((m) => m.to);
    };
    for (const accepted of ['ann@example.com', 'first.last+tag@sub.example.co.uk', "o'brien@example.ie", 'a/b=c?d^e`f{g|h}i~j#k$l&m*n@example.com']) {
      expect(await sendTo(normalizeEmail(accepted)), accepted).toEqual([accepted]);
    }
    // The attacks the check stops: sent as typed, each mail goes to evil@example.com.
    for (const attack of ['x,evil@example.com', 'x;evil@example.com', 'x:evil@example.com', 'x<evil@example.com>']) {
      expect(() => normalizeEmail(attack), JSON.stringify(attack)).toThrow(/one plain mailbox/);
      expect(await sendTo(attack).catch(() => []), JSON.stringify(attack)).toContain('evil@example.com');
    }
  });

  it('refuses to send in clear when starttls is required and the server cannot upgrade', async () => {
    await expect(createMailer(config({ tls: 'starttls' }), 'smtp-secret')!.send({ to: 'eve@example.com', subject: 's', text: 't', html: 'h' })).rejects.toThrow(/STARTTLS/i);
    expect(smtp.mails.some((m) => m.to.includes('eve@example.com'))).toBe(false);
  });
});

describe('invitationMail', () => {
  it('names the vendor, the link and its end, and escapes the HTML', () => {
    const mail = invitationMail({ to: 'ann@example.com', vendorName: 'a<b>&c', url: 'https://r.example.com/accept#token=abc', expiresAt: new Date('2026-12-01T12:00:00.000Z'), role: 'admin' });
    expect(mail.subject).toBe('You are invited to the a<b>&c registry dashboard');
    expect(mail.text).toContain('https://r.example.com/accept#token=abc');
    expect(mail.text).toContain('until 2026-12-01 12:00:00Z (UTC)');
    expect(mail.text).toContain('(role: admin)');
    expect(mail.html).toContain('a&#60;b&#62;&#38;c');
    expect(mail.html).not.toContain('a<b>');
    expect(mail.html).toContain('href="https://r.example.com/accept#token=abc"');
  });
});
