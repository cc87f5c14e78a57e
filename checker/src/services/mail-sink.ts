import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import PostalMime from 'postal-mime';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import type { MailMessage, MailSink, RefusedAttempt } from '../harness/api';

/** Where a refused attempt is refused: at RCPT TO (before the body) or after DATA. */
export type RefusalStage = 'rcpt' | 'data';

export interface MailFaults {
  /** Delay the final answer of every transaction by this many ms. */
  delayMs?: number;
  /** Refuse the next N transactions with a 4xx (temporary failure). */
  refuseNext?: number;
  /** Stage of the refusal (default 'data'). */
  refuseAt?: RefusalStage;
  /**
   * Only transactions addressed to this recipient (compared case-insensitively): each recipient
   * keeps faults of its own, and every other email is delivered as usual.
   */
  to?: string;
}

type Faults = Required<Omit<MailFaults, 'to'>>;
const NO_FAULTS: Faults = { delayMs: 0, refuseNext: 0, refuseAt: 'data' };

export interface MailSinkOptions {
  host?: string;
  port?: number;
  /** Largest accepted message in bytes (default 1 MiB). */
  maxBytes?: number;
}

export interface StartedMailSink {
  readonly port: number;
  readonly url: string;
  readonly sink: SandboxMailSink;
  close(): Promise<void>;
}

/** The MailSink of api.ts, plus a reset the runtime calls between runs. */
export interface SandboxMailSink extends MailSink {
  setFaults(f: MailFaults): void;
  /** Forget every fault, the recipients' own included. */
  clearFaults(): void;
  /** Forget delivered messages and faults (not the refusal count). */
  clear(): void;
}

type SmtpCallback = (err?: Error | null) => void;

function temporaryFailure(message: string): Error {
  return Object.assign(new Error(message), { responseCode: 451 });
}

function formatAddress(address: PostalMime.Address | undefined): string {
  if (!address || !('address' in address) || address.address === undefined) return '';
  return address.name ? `${address.name} <${address.address}>` : address.address;
}

class MailStore implements SandboxMailSink {
  private readonly delivered: MailMessage[] = [];
  private readonly events = new EventEmitter();
  private faults: Faults = { ...NO_FAULTS };
  /** Faults of single recipients, by lower-cased address. */
  private readonly faultsFor = new Map<string, Faults>();
  private refused = 0;
  private connected = 0;
  private readonly refusedLog: RefusedAttempt[] = [];

  messages(): MailMessage[] {
    return [...this.delivered];
  }

  waitFor(pred: (m: MailMessage) => boolean, timeoutMs = 5000): Promise<MailMessage> {
    const found = this.delivered.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const onMessage = (m: MailMessage): void => {
        if (!pred(m)) return;
        clearTimeout(timer);
        this.events.off('message', onMessage);
        resolve(m);
      };
      const timer = setTimeout(() => {
        this.events.off('message', onMessage);
        reject(
          new Error(
            `no matching email arrived within ${timeoutMs} ms (${this.delivered.length} delivered)`,
          ),
        );
      }, timeoutMs);
      this.events.on('message', onMessage);
    });
  }

  setFaults({ to, ...f }: MailFaults): void {
    if (to === undefined) {
      this.faults = { ...this.faults, ...f };
      return;
    }
    const key = to.toLowerCase();
    this.faultsFor.set(key, { ...(this.faultsFor.get(key) ?? NO_FAULTS), ...f });
  }

  clearFaults(): void {
    this.faults = { ...NO_FAULTS };
    this.faultsFor.clear();
  }

  refusedCount(): number {
    return this.refused;
  }

  connections(): number {
    return this.connected;
  }

  /** Called when a client opens an SMTP connection. */
  countConnection(): void {
    this.connected += 1;
  }

  refusedAttempts(): RefusedAttempt[] {
    return [...this.refusedLog];
  }

  /** Called where a refused attempt is answered with its 4xx: when it began and for whom. */
  logRefusal(attempt: RefusedAttempt): void {
    this.refusedLog.push(attempt);
  }

  clear(): void {
    this.delivered.length = 0;
    this.clearFaults();
  }

  /** Called at MAIL FROM: decides whether this transaction is one of the refused ones. */
  takeRefusal(): RefusalStage | undefined {
    return this.take(this.faults);
  }

  /** Called at RCPT TO when MAIL FROM refused nothing: the recipient's own refusals. */
  takeRefusalFor(address: string): RefusalStage | undefined {
    const own = this.faultsFor.get(address.toLowerCase());
    return own ? this.take(own) : undefined;
  }

  private take(faults: Faults): RefusalStage | undefined {
    if (faults.refuseNext <= 0) return undefined;
    faults.refuseNext -= 1;
    this.refused += 1;
    return faults.refuseAt;
  }

  /** The delay of a transaction to these recipients: the longest that applies. */
  delayMs(recipients: string[]): number {
    const own = recipients.map((r) => this.faultsFor.get(r.toLowerCase())?.delayMs ?? 0);
    return Math.max(this.faults.delayMs, ...own);
  }

  deliver(m: MailMessage): void {
    this.delivered.push(m);
    this.events.emit('message', m);
  }
}

/** A local SMTP server that accepts any auth-less mail and keeps it in memory for checks. */
export async function startMailSink(opts: MailSinkOptions = {}): Promise<StartedMailSink> {
  const store = new MailStore();
  const maxBytes = opts.maxBytes ?? 1024 * 1024;
  // The refusal decided at MAIL FROM for each session's current transaction.
  const refusals = new WeakMap<SMTPServerSession, RefusalStage | undefined>();
  // When each session's current transaction began (MAIL FROM): the attempt's time.
  const began = new WeakMap<SMTPServerSession, number>();
  const timers = new Set<NodeJS.Timeout>();
  const later = (recipients: string[], fn: () => void): void => {
    const ms = store.delayMs(recipients);
    if (ms <= 0) return fn();
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    size: maxBytes,
    logger: false,
    closeTimeout: 100,
    onConnect(_session, cb: SmtpCallback) {
      store.countConnection();
      cb();
    },
    onMailFrom(_address, session, cb: SmtpCallback) {
      began.set(session, Date.now());
      refusals.set(session, store.takeRefusal());
      cb();
    },
    onRcptTo(address, session, cb: SmtpCallback) {
      if (refusals.get(session) === undefined)
        refusals.set(session, store.takeRefusalFor(address.address));
      if (refusals.get(session) === 'rcpt') {
        store.logRefusal({ at: began.get(session) ?? Date.now(), to: [address.address] });
        return cb(Object.assign(new Error('Mailbox busy, try later'), { responseCode: 450 }));
      }
      cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (stream.sizeExceeded)
          return cb(
            Object.assign(new Error(`Message exceeds ${maxBytes} bytes`), { responseCode: 552 }),
          );
        const rcpts = session.envelope.rcptTo.map((r) => r.address);
        if (refusals.get(session) === 'data') {
          store.logRefusal({ at: began.get(session) ?? Date.now(), to: rcpts });
          return later(rcpts, () => cb(temporaryFailure('Temporary failure, try again later')));
        }
        const raw = Buffer.concat(chunks);
        const envelopeFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        PostalMime.parse(raw)
          .then((email) => {
            later(rcpts, () => {
              store.deliver({
                from: formatAddress(email.from) || envelopeFrom,
                to: rcpts,
                subject: email.subject ?? '',
                text: email.text ?? '',
                ...(email.html !== undefined ? { html: email.html } : {}),
                receivedAt: Date.now(),
              });
              cb();
            });
          })
          .catch((e: unknown) =>
            cb(
              Object.assign(new Error(`Unparseable message: ${String(e)}`), { responseCode: 554 }),
            ),
          );
      });
    },
  });

  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // smtp-server logs its own errors; keep them from crashing the checker.
  server.on('error', () => undefined);
  const port = (server.server.address() as AddressInfo).port;

  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    sink: store,
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        server.close(() => resolve());
      }),
  };
}
