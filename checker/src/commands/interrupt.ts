import { EXIT } from './exit';

/** Ctrl-C (SIGINT) and SIGTERM during a command: the first stops the work cleanly, a second quits at once. */
export interface Interrupt {
  signal: AbortSignal;
  /** The signal received, if any. */
  received(): NodeJS.Signals | undefined;
  /** 130 after SIGINT, 143 after SIGTERM (128 + the signal's number, as a shell reports it). */
  exitCode(): number;
  remove(): void;
}

/** A signal this soon after the first is the same interrupt (npm forwards the terminal's Ctrl-C to its script). */
const SAME_INTERRUPT_MS = 1500;

export function listenForInterrupt(say: (message: string) => void): Interrupt {
  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  let receivedAt = 0;
  const handler = (sig: NodeJS.Signals): void => {
    if (received) {
      if (performance.now() - receivedAt < SAME_INTERRUPT_MS) return;
      process.exit(exitCodeOf(received));
    }
    received = sig;
    receivedAt = performance.now();
    say(
      `Interrupted (${sig}): stopping the app and the services${sig === 'SIGINT' ? ' (Ctrl-C again to quit at once)' : ''}...`,
    );
    controller.abort();
  };
  const onInt = (): void => handler('SIGINT');
  const onTerm = (): void => handler('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return {
    signal: controller.signal,
    received: () => received,
    exitCode: () => (received ? exitCodeOf(received) : EXIT.ok),
    remove: () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    },
  };
}

const exitCodeOf = (sig: NodeJS.Signals): number =>
  sig === 'SIGTERM' ? EXIT.terminated : EXIT.interrupted;
