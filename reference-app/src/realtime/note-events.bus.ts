import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { NoteEvent, NoteEventsPublisher } from './note-events';

interface Envelope {
  userId: string;
  event: NoteEvent;
}

export interface NoteEventsBus extends NoteEventsPublisher {
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
  await opts.subscriber.subscribe(opts.channel);
  return {
    async publish(userId, event) {
      try {
        await opts.publisher.publish(opts.channel, JSON.stringify({ userId, event } satisfies Envelope));
      } catch (err) {
        opts.logger.warn({ err }, 'Redis refused a note event; delivering it on this instance only');
        opts.deliver(userId, JSON.stringify(event));
      }
    },
    async close() {
      opts.subscriber.off('message', onMessage);
      await opts.subscriber.quit().catch(() => opts.subscriber.disconnect());
    },
  };
}
