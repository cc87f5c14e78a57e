import { z } from 'zod';

/** Where a page ended: the last note's creation time and id (the keyset of the listing order). */
export interface NotesCursor {
  createdAt: Date;
  id: string;
}

const cursorSchema = z.tuple([z.iso.datetime(), z.uuid()]);

/** Opaque to clients: base64url of a small JSON tuple. */
export function encodeCursor({ createdAt, id }: NotesCursor): string {
  return Buffer.from(JSON.stringify([createdAt.toISOString(), id])).toString('base64url');
}

/** The cursor, or undefined when the text is not one of ours. */
export function decodeCursor(text: string): NotesCursor | undefined {
  try {
    const parsed = cursorSchema.safeParse(
      JSON.parse(Buffer.from(text, 'base64url').toString('utf8')),
    );
    return parsed.success ? { createdAt: new Date(parsed.data[0]), id: parsed.data[1] } : undefined;
  } catch {
    return undefined;
  }
}
