/** What the owner's sockets receive when one of their notes changes (steps/CONTRACT.md step 8). */
export type NoteEvent =
  | { type: 'note.created'; note: object }
  | { type: 'note.updated'; note: object }
  | { type: 'note.deleted'; note: { id: string } };

export interface NoteEventsPublisher {
  publish(userId: string, event: NoteEvent): Promise<void>;
}
