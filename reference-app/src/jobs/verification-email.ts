import type { OutgoingEmail } from './mailer';

export function verificationLink(publicUrl: string, token: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/auth/verify?token=${encodeURIComponent(token)}`;
}

export function verificationEmail(to: string, link: string): OutgoingEmail {
  return {
    to,
    subject: 'Confirm your email address',
    text: `Welcome!\n\nConfirm your email address by opening this link within 24 hours:\n\n${link}\n\nIf you did not sign up, ignore this email.\n`,
  };
}
