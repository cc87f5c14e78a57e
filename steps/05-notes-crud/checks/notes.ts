import { expectStatus, is, sandbox } from '@sandbox/harness';

export interface Note {
  id: string;
  title: string;
  body: string;
  createdAt: string;
  updatedAt: string;
}

export const noteShape = {
  id: is.uuid,
  title: is.string,
  body: is.string,
  createdAt: is.isoDate,
  updatedAt: is.isoDate,
};

/** Creates a note and insists on 201. */
export async function createNote(
  token: string,
  input: { title?: string; body?: string } = {},
): Promise<Note> {
  const title = input.title ?? sandbox().unique('title');
  const ex = await sandbox().app.http.post('/notes', { token, json: { ...input, title } });
  expectStatus(ex, 201);
  return (ex.response.json as { note: Note }).note;
}
