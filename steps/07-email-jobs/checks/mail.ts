import {
  fail,
  isCheckFailure,
  sandbox,
  type MailMessage,
  type RedisInspector,
  type RefusedAttempt,
} from '@sandbox/harness';

export function mailsTo(email: string): MailMessage[] {
  return sandbox()
    .mail.messages()
    .filter((m) => m.to.some((to) => to.toLowerCase().includes(email)));
}

/** The delivery attempts to `email` that the test SMTP server refused (its faults for that address). */
export function refusedAttemptsTo(email: string): RefusedAttempt[] {
  return sandbox()
    .mail.refusedAttempts()
    .filter((a) => a.to.some((to) => to.toLowerCase().includes(email)));
}

/**
 * How long into a wait an app that has not once connected to the test SMTP server in the whole
 * run is given before the wait fails: a working app's first attempt comes at once (the restart
 * check allows 5 s for it), and by then the run has signed users up before. Longer waits are for
 * retries and restarts, which need a first connection.
 */
const FIRST_CONNECTION_MS = 5000;

/** Waits for a delivered email to `email`, failing with what the sink holds. */
export async function waitForMailTo(
  email: string,
  timeoutMs = 5000,
  after = 0,
): Promise<MailMessage> {
  const { mail } = sandbox();
  const wanted = (m: MailMessage): boolean =>
    m.receivedAt >= after && m.to.some((to) => to.toLowerCase().includes(email));
  /** The email, or undefined when `ms` pass without it. */
  const within = (ms: number): Promise<MailMessage | undefined> =>
    mail.waitFor(wanted, ms).catch((e: unknown) => {
      if (isCheckFailure(e)) throw e;
      return undefined;
    });
  const started = Date.now();
  const found =
    (await within(Math.min(timeoutMs, FIRST_CONNECTION_MS))) ??
    (timeoutMs > FIRST_CONNECTION_MS && mail.connections() > 0
      ? await within(timeoutMs - (Date.now() - started))
      : undefined);
  if (found) return found;
  // Not once connected in the whole run: no other check's load or faults explain that.
  const neverConnected = mail.connections() === 0;
  const waited = Math.round((Date.now() - started) / 1000);
  fail(`no email to ${email} was delivered within ${waited} s`, {
    expected: `a verification email to ${email} sent by a BullMQ job over SMTP_URL`,
    observed: neverConnected
      ? 'the app has not once connected to the test SMTP server (SMTP_URL) in this run'
      : `${mail.messages().length} email(s) delivered in this run, ${mail.refusedCount()} attempt(s) refused by the test SMTP server`,
    definite: neverConnected,
  });
}

/** The token of the `${PUBLIC_URL}/auth/verify?token=` link in the email (PUBLIC_URL from `env`: the primary's, or the instance's that sent it). */
export function verifyToken(
  mail: MailMessage,
  env: Readonly<Record<string, string>> = sandbox().env,
): string {
  const base = (env.PUBLIC_URL ?? '').replace(/\/$/, '');
  const escaped = `${base}/auth/verify?token=`.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const found = new RegExp(`${escaped}([^\\s"'<>&]+)`).exec(mail.text);
  if (!found?.[1]) {
    fail('the verification email has no verify link in its text', {
      expected: `text containing ${base}/auth/verify?token=<token>`,
      observed: `subject: ${mail.subject}\ntext: ${mail.text.slice(0, 500)}`,
    });
  }
  return decodeURIComponent(found[1]);
}

/** Jobs waiting in Redis for a retry: the members of every BullMQ `<prefix>:<queue>:delayed` set (of the run's Redis database, or an instance's own). */
export async function delayedJobs(redis: RedisInspector = sandbox().redis): Promise<number> {
  let total = 0;
  for (const key of (await redis.call('KEYS', '*:delayed')) as string[]) {
    if ((await redis.call('TYPE', key)) === 'zset') total += Number(await redis.call('ZCARD', key));
  }
  return total;
}
