import { setTimeout as sleep } from 'node:timers/promises';
import { closeRedis, type Redis } from '../lib/redis';
import type { Logger } from '../lib/logger';
import type { NoteEvent } from '../notes/notes.types';

const SUBSCRIBE_WAIT_MS = 2000;

interface Envelope {
  userId: string;
  event: NoteEvent;
}

export interface NoteEventsBus {
  /** Never rejects: a failed publish falls back to this instance's sockets. */
  publish(userId: string, event: NoteEvent): Promise<void>;
  close(): Promise<void>;
}

/**
 * Fan-out across instances: every instance publishes to one Redis channel and delivers what it
 * hears to its own sockets. The subscriber is a connection of its own (subscribed connections
 * cannot run other commands). When Redis cannot take a publish, the event still reaches this
 * instance's sockets.
 */
export async function startNoteEventsBus(opts: {
  publisher: Redis;
  subscriber: Redis;
  channel: string;
  deliver: (userId: string, message: string) => void;
  logger: Logger;
}): Promise<NoteEventsBus> {
  const onMessage = (channel: string, raw: string): void => {
    if (channel !== opts.channel) return;
    try {
      const { userId, event } = JSON.parse(raw) as Envelope;
      opts.deliver(userId, JSON.stringify(event));
    } catch (err) {
      opts.logger.warn({ err }, 'dropped a malformed note event');
    }
  };
  opts.subscriber.on('message', onMessage);
  // Wait for the subscription while Redis is there; when it is not, it happens on reconnect.
  const subscribed = opts.subscriber.subscribe(opts.channel).then(
    () => true,
    (err: unknown) => opts.logger.warn({ err }, 'note events subscription failed'),
  );
  const waited = new AbortController();
  await Promise.race([
    subscribed,
    sleep(SUBSCRIBE_WAIT_MS, undefined, { signal: waited.signal }).catch(() => undefined),
  ]);
  waited.abort();
  return {
    async publish(userId, event) {
      try {
        await opts.publisher.publish(
          opts.channel,
          JSON.stringify({ userId, event } satisfies Envelope),
        );
      } catch (err) {
        opts.logger.warn(
          { err },
          'Redis refused a note event; delivering it on this instance only',
        );
        opts.deliver(userId, JSON.stringify(event));
      }
    },
    async close() {
      opts.subscriber.off('message', onMessage);
      await closeRedis(opts.subscriber);
    },
  };
}
