import { client } from './support/http';
import { startTestApp, type TestApp } from './support/app';

// Real services, and a machine shared with other suites: starting an app can take seconds.
jest.setTimeout(20_000);

describe('step 1: hello-server', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.stop());

  it('GET /health answers 200 with status ok', async () => {
    const res = await client(app.url).get('/health');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'ok' });
  });

  it('answers an unknown route with a JSON 404 NOT_FOUND', async () => {
    const res = await client(app.url).get('/no/such/route');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: { code: 'NOT_FOUND', message: expect.any(String) } });
  });

  it.each(['/health', '/auth/signup', '/nowhere'])(
    'answers malformed JSON on %s with 400 BAD_JSON',
    async (path) => {
      const res = await client(app.url).post(path, { rawBody: '{"email": ' });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: { code: 'BAD_JSON', message: expect.any(String) } });
    },
  );

  it('echoes a well-formed X-Request-Id', async () => {
    const id = 'abc.DEF_123-x';
    const res = await client(app.url).get('/health', { headers: { 'x-request-id': id } });
    expect(res.headers.get('x-request-id')).toBe(id);
  });

  it.each([
    ['too long', 'a'.repeat(129)],
    ['bad characters', 'abc def/<x>'],
  ])('replaces an X-Request-Id that is %s', async (_why, id) => {
    const res = await client(app.url).get('/health', { headers: { 'x-request-id': id } });
    const answered = res.headers.get('x-request-id');
    expect(answered).not.toBe(id);
    expect(answered).toMatch(/^[A-Za-z0-9._-]{1,128}$/);
  });

  it('gives every response, errors included, its own X-Request-Id', async () => {
    const [a, b] = await Promise.all([
      client(app.url).get('/health'),
      client(app.url).get('/missing'),
    ]);
    expect(a.headers.get('x-request-id')).toBeTruthy();
    expect(b.headers.get('x-request-id')).toBeTruthy();
    expect(a.headers.get('x-request-id')).not.toBe(b.headers.get('x-request-id'));
  });
});
