import { check, expectErrorBody, inCase, sandbox } from '@sandbox/harness';

const lesson = '(steps/01-hello-server/README.md)';

check(
  'an unknown route answers 404 NOT_FOUND as JSON',
  {
    concurrent: true,
    points: 2,
    hint: `Add a last "not found" handler after your routes that answers 404 {"error":{"code":"NOT_FOUND","message":"..."}} ${lesson}.`,
  },
  async () => {
    const { app } = sandbox();
    expectErrorBody(await app.http.get(`/${sandbox().unique('nowhere')}`), 404, 'NOT_FOUND');
    expectErrorBody(
      await app.http.post(`/${sandbox().unique('nowhere')}/deeper`, { json: { a: 1 } }),
      404,
      'NOT_FOUND',
    );
  },
);

check(
  'an unknown route answers 404 NOT_FOUND as JSON for every method (GET, POST, PUT, PATCH, DELETE)',
  {
    concurrent: true,
    points: 2,
    hint: `Register the "not found" handler with app.use (every method), not app.get, and make sure no other middleware answers unknown paths first ${lesson}.`,
  },
  async () => {
    const { app } = sandbox();
    // Not OPTIONS: a CORS middleware may answer preflights on any path, which the contract allows.
    for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']) {
      const path = `/${sandbox().unique('nowhere')}/${sandbox().unique('x')}`;
      await inCase(`${method} ${path}`, async () => {
        const withBody = method !== 'GET';
        expectErrorBody(
          await app.http.request(method, path, withBody ? { json: { a: 1 } } : {}),
          404,
          'NOT_FOUND',
        );
      });
    }
  },
);

check(
  'a malformed JSON body answers 400 BAD_JSON on any route',
  {
    concurrent: true,
    points: 2,
    hint: `express.json() throws a SyntaxError (type "entity.parse.failed") on bad JSON: map it to 400 BAD_JSON in your error handler ${lesson}.`,
  },
  async () => {
    const { app } = sandbox();
    const headers = { 'Content-Type': 'application/json' };
    expectErrorBody(
      await app.http.post('/health', { headers, raw: '{"status": ' }),
      400,
      'BAD_JSON',
    );
    expectErrorBody(
      await app.http.post(`/${sandbox().unique('x')}`, { headers, raw: "{'single': 'quotes'}" }),
      400,
      'BAD_JSON',
    );
  },
);
