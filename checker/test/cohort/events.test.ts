import { createHash } from 'node:crypto';
import { rawTarGz } from './support/tar-builder';
import {
  joinAs,
  json,
  mentorWithCohort,
  startTestService,
  type TestService,
} from './support/service';

// The live event stream (server-sent events) of a cohort, real Postgres and Redis (about 4 s).
jest.setTimeout(60_000);
let service: TestService;
afterAll(async () => service?.dispose());

/** Reads SSE frames from a fetch body until `count` events arrived or the time is up. */
async function readEvents(
  res: Response,
  count: number,
  ms: number,
): Promise<{ id: string; event: string; data: { type: string; learnerId: string | null } }[]> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const events: { id: string; event: string; data: { type: string; learnerId: string | null } }[] =
    [];
  let buffer = '';
  const deadline = Date.now() + ms;
  while (events.length < count && Date.now() < deadline) {
    const chunk = await Promise.race([
      reader.read(),
      new Promise<{ done: true; value: undefined }>((r) =>
        setTimeout(() => r({ done: true, value: undefined }), Math.max(0, deadline - Date.now())),
      ),
    ]);
    if (chunk.done) break;
    buffer += decoder.decode(chunk.value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const field = (name: string): string | undefined =>
        frame
          .split('\n')
          .find((l) => l.startsWith(`${name}: `))
          ?.slice(name.length + 2);
      const data = field('data');
      if (data)
        events.push({
          id: field('id')!,
          event: field('event')!,
          data: JSON.parse(data) as { type: string; learnerId: string | null },
        });
    }
  }
  await reader.cancel();
  return events;
}

it('a mentor sees joins, submissions and notes as they happen, and resumes after Last-Event-ID', async () => {
  service = await startTestService();
  const mentor = await mentorWithCohort(service);
  const stream = await fetch(`${service.url}/api/cohorts/${mentor.cohortId}/events`, {
    headers: { authorization: `Bearer ${mentor.token}` },
  });
  expect(stream.status).toBe(200);
  expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const started = Date.now();
  const ada = await joinAs(service, mentor.inviteCode, 'ada');
  const body = rawTarGz([{ name: 'index.js', data: 'x' }]);
  await json(service.url, 'POST', '/api/submissions', {
    token: ada.token,
    raw: body,
    headers: { 'x-sandbox-sha256': createHash('sha256').update(body).digest('hex') },
  });
  await json(
    service.url,
    'POST',
    `/api/cohorts/${mentor.cohortId}/learners/${ada.learnerId}/notes`,
    { token: mentor.token, body: { message: 'hello' } },
  );
  const events = await readEvents(stream, 3, 10_000);
  expect(events.map((e) => e.event)).toEqual([
    'learner.joined',
    'submission.created',
    'note.created',
  ]);
  expect(events.every((e) => e.data.learnerId === ada.learnerId)).toBe(true);
  expect(Date.now() - started).toBeLessThan(10_000);

  // Reconnecting after the first event replays the two that followed.
  const resumed = await fetch(`${service.url}/api/cohorts/${mentor.cohortId}/events`, {
    headers: { authorization: `Bearer ${mentor.token}`, 'last-event-id': events[0]!.id },
  });
  expect((await readEvents(resumed, 2, 5_000)).map((e) => e.event)).toEqual([
    'submission.created',
    'note.created',
  ]);
});

it('a cohort name with line breaks cannot forge events in the stream', async () => {
  service ??= await startTestService();
  const forged = 'Evil\n\nid: 1\nevent: note.created\ndata: {"type":"forged","learnerId":null}\n';
  const mentor = await mentorWithCohort(service, forged);
  const stream = await fetch(`${service.url}/api/cohorts/${mentor.cohortId}/events`, {
    headers: { authorization: `Bearer ${mentor.token}` },
  });
  expect(stream.status).toBe(200);
  expect(await readEvents(stream, 1, 1_500)).toEqual([]);
});
