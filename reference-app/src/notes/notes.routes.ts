import { Router, type Request } from 'express';
import { notFound, unauthorized } from '../lib/errors';
import { validate, validationFailed } from '../lib/validate';
import { decodeCursor, encodeCursor } from './notes.cursor';
import {
  createNoteSchema,
  isNoteId,
  listNotesQuerySchema,
  updateNoteSchema,
} from './notes.schemas';
import type { NotesService } from './notes.service';
import type { NoteCacheRead } from '../cache/note-cache';
import type { RequestHandler } from 'express';

const ownerOf = (req: Request): string => {
  if (!req.user) throw unauthorized();
  return req.user.id;
};

const noteIdOf = (req: Request<{ id: string }>): string => {
  if (!isNoteId(req.params.id)) throw notFound('Note not found');
  return req.params.id;
};

export function notesRoutes(notes: NotesService, requireAuth: RequestHandler): Router {
  const router = Router();
  // The cache read starts before the token check so that the check's Redis command (revocation)
  // and this one leave in the same write (auto-pipelining); the entry is used only once authorized.
  const cacheReads = new WeakMap<Request, Promise<NoteCacheRead>>();
  router.get('/notes/:id', (req, _res, next) => {
    if (isNoteId(req.params.id)) cacheReads.set(req, notes.readCache(req.params.id));
    next();
  });
  router.use('/notes', requireAuth);

  router.post('/notes', async (req, res) => {
    const input = validate(createNoteSchema, req.body ?? {});
    res.status(201).json({ note: await notes.create(ownerOf(req), input) });
  });

  router.get('/notes', async (req, res) => {
    const { limit, cursor } = validate(listNotesQuerySchema, req.query);
    const after = cursor === undefined ? undefined : decodeCursor(cursor);
    if (cursor !== undefined && !after)
      throw validationFailed([{ field: 'cursor', message: 'is not a valid cursor' }]);
    const page = await notes.list(ownerOf(req), limit, after);
    res.json({ notes: page.notes, nextCursor: page.next ? encodeCursor(page.next) : null });
  });

  router.get('/notes/:id', async (req, res) => {
    const { note, cache } = await notes.get(ownerOf(req), noteIdOf(req), cacheReads.get(req));
    res.setHeader('X-Cache', cache);
    res.json({ note });
  });

  router.patch('/notes/:id', async (req, res) => {
    const id = noteIdOf(req);
    const patch = validate(updateNoteSchema, req.body ?? {});
    res.json({ note: await notes.update(ownerOf(req), id, patch) });
  });

  router.delete('/notes/:id', async (req, res) => {
    await notes.delete(ownerOf(req), noteIdOf(req));
    res.status(204).end();
  });

  return router;
}
