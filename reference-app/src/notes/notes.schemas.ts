import { z } from 'zod';

const title = z
  .string({ error: 'title must be a string' })
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters');
const body = z
  .string({ error: 'body must be a string' })
  .max(10_000, 'must be at most 10000 characters');

export const createNoteSchema = z.object({ title, body: body.default('') });

export const updateNoteSchema = z
  .object({ title: title.optional(), body: body.optional() })
  .refine((patch) => patch.title !== undefined || patch.body !== undefined, {
    message: 'send title, body or both',
    path: ['title'],
  });

export const listNotesQuerySchema = z.object({
  limit: z
    .string()
    .regex(/^\d+$/, 'must be a whole number from 1 to 100')
    .transform(Number)
    .pipe(z.number().min(1, 'must be at least 1').max(100, 'must be at most 100'))
    .default(20),
  cursor: z.string().optional(),
});

export type CreateNoteInput = z.output<typeof createNoteSchema>;
export type UpdateNoteInput = z.output<typeof updateNoteSchema>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids that are not UUIDs cannot name a note: they are answered 404 like unknown ones. */
export const isNoteId = (id: string): boolean => UUID.test(id);
