/** Sends one plain-text mail over SMTP with nodemailer, from the smtp_* settings. */
import nodemailer from 'nodemailer';
import type { SmtpConfig } from '../config/types.js';

export interface OutgoingMail {
  readonly to: readonly string[];
  readonly subject: string;
  readonly text: string;
}

export interface MailTransport {
  /** Resolves when the server accepted the mail for at least one recipient; the refused ones are returned. */
  send(mail: OutgoingMail): Promise<{ rejected: string[] }>;
  close(): void;
}

/** Time limits that keep one send well inside the sender's lease. */
const CONNECTION_TIMEOUT_MS = 15_000;
const GREETING_TIMEOUT_MS = 15_000;
const SOCKET_TIMEOUT_MS = 60_000;

export function smtpTransport(smtp: SmtpConfig): MailTransport {
  const transport = nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    // smtp_tls: tls = TLS from the first byte; starttls = upgrade when the
    // server offers it (nodemailer's default); none = never upgrade.
    secure: smtp.tls === 'tls',
    ignoreTLS: smtp.tls === 'none',
    ...(smtp.auth ? { auth: { user: smtp.auth.user, pass: smtp.auth.password.reveal() } } : {}),
    connectionTimeout: CONNECTION_TIMEOUT_MS,
    greetingTimeout: GREETING_TIMEOUT_MS,
    socketTimeout: SOCKET_TIMEOUT_MS,
    // nodemailer logs nothing unless asked; say so, as its debug log would show the login.
    logger: false,
    debug: false,
  });
  return {
    async send(mail) {
      const info = await transport.sendMail({
        from: smtp.from,
        to: [...mail.to],
        subject: mail.subject,
        text: mail.text,
        textEncoding: 'quoted-printable',
      });
      return { rejected: (info.rejected as (string | { address: string })[]).map((r) => (typeof r === 'string' ? r : r.address)) };
    },
    close() {
      transport.close();
    },
  };
}
