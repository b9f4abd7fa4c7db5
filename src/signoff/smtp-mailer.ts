/** An SMTP mailer for notifications.ts, from the configuration's `smtpUrl` and `mailFrom`. */
import nodemailer from 'nodemailer';
import { KernelError } from '../errors.ts';
import type { Mailer } from './notifications.ts';

export function smtpMailer(smtpUrl: string, from: string): Mailer {
  const transport = nodemailer.createTransport(smtpUrl);
  return async (mail) => {
    try {
      await transport.sendMail({ from, to: mail.to, subject: mail.subject, text: mail.text });
    } catch (error) {
      // The message names the server, never the recipient or the mail.
      throw new KernelError('config', `The mail server at ${new URL(smtpUrl).host} did not take the email`, {
        hint: 'Check smtpUrl in the configuration, and that the server accepts mail from Kernel',
        cause: error,
      });
    }
  };
}
