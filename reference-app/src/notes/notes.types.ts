export interface Note {
  id: string;
  title: string;
  body: string;
  createdAt: string;
  updatedAt: string;
}

export type NoteEvent =
  | { type: 'note.created'; note: Note }
  | { type: 'note.updated'; note: Note }
  | { type: 'note.deleted'; note: { id: string } };

/** Where note changes are announced (the realtime feature fills it; a no-op otherwise). */
export interface NoteEventPublisher {
  publish(userId: string, event: NoteEvent): void;
}
