import { check, expectHeader, fail, is, randomText, sandbox } from '@sandbox/harness';

const ID_CHARACTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-';

const hint =
  'Add a first middleware that reuses a valid incoming X-Request-Id (1-128 chars of [A-Za-z0-9._-]) as it is, or else makes a new one (crypto.randomUUID()) rather than cutting or cleaning the bad one, and sets it on the response (steps/01-hello-server/README.md).';

check(
  'every response carries an X-Request-Id, a fresh one per request',
  { concurrent: true, points: 2, hint },
  async () => {
    const { app } = sandbox();
    const headers = { 'Content-Type': 'application/json' };
    const answers = [
      await app.http.get('/health'),
      await app.http.get('/health'),
      await app.http.get(`/${sandbox().unique('nowhere')}`),
      await app.http.post('/health', { headers, raw: '{oops' }),
    ];
    const ids = answers.map((ex) => expectHeader(ex, 'X-Request-Id', is.nonEmptyString));
    if (new Set(ids).size !== ids.length) {
      fail('X-Request-Id repeats across requests', {
        exchange: answers[1],
        expected: 'a new id for every request that does not send one',
        observed: `ids: ${ids.join(', ')}`,
      });
    }
  },
);

check(
  'a valid incoming X-Request-Id is echoed, an invalid one replaced',
  { concurrent: true, points: 2, hint },
  async () => {
    const { app } = sandbox();
    const mine = `req.${sandbox().unique('id')}_A-1`;
    expectHeader(
      await app.http.get('/health', { headers: { 'X-Request-Id': mine } }),
      'X-Request-Id',
      mine,
    );
    const longest = randomText(128, ID_CHARACTERS);
    expectHeader(
      await app.http.get('/health', { headers: { 'X-Request-Id': longest } }),
      'X-Request-Id',
      longest,
    );
    const word = (): string => randomText(6);
    const tooLong = randomText(129, ID_CHARACTERS);
    for (const bad of [`${word()} ${word()}`, `${word()};${word()}`, tooLong, `<${word()}>`]) {
      const ex = await app.http.get('/health', { headers: { 'X-Request-Id': bad } });
      // Fresh: not the bad value, nor a cleaned-up copy or a long piece of it (cut to 128 chars).
      // Short ids may be anything (a counter's "7" can occur in the bad value by chance).
      const cleaned = bad.replace(/[^A-Za-z0-9._-]/g, '');
      expectHeader(
        ex,
        'X-Request-Id',
        is.satisfying(
          `a fresh id, neither ${JSON.stringify(bad)} nor a part or cleaned-up copy of it`,
          (v) =>
            typeof v === 'string' &&
            v.length > 0 &&
            v !== bad &&
            v !== cleaned &&
            !(v.length >= 8 && bad.includes(v)),
        ),
      );
    }
  },
);
