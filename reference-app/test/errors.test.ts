import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { AppError, errorHandler, notFoundHandler } from '../src/lib/errors';
import { createLogger } from '../src/lib/logger';
import { client } from './support/http';

describe('the error mapping', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    const app = express();
    app.use(express.json());
    app.get('/bug', () => {
      throw new Error('connection to 10.0.0.5 refused: password=hunter2');
    });
    app.get('/teapot', () => {
      throw new AppError(418, 'TEAPOT', 'I am a teapot', [
        { field: 'pot', message: 'is a teapot' },
      ]);
    });
    app.post('/echo', (req, res) => {
      res.json(req.body);
    });
    app.use(notFoundHandler);
    app.use(errorHandler(createLogger('silent')));
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('answers an unexpected error with 500 INTERNAL and nothing of its message', async () => {
    const res = await client(url).get('/bug');
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: { code: 'INTERNAL', message: expect.any(String) } });
    expect(res.text).not.toMatch(/10\.0\.0\.5|hunter2|Error/);
  });

  it('answers an AppError with its status, code, message and details', async () => {
    const res = await client(url).get('/teapot');
    expect(res.status).toBe(418);
    expect(res.body).toEqual({
      error: {
        code: 'TEAPOT',
        message: 'I am a teapot',
        details: [{ field: 'pot', message: 'is a teapot' }],
      },
    });
  });

  it('keeps other client mistakes of the body parser (an unknown charset) a 4xx', async () => {
    const res = await client(url).post('/echo', {
      rawBody: '{}',
      headers: { 'content-type': 'application/json; charset=klingon' },
    });
    expect(res.status).toBe(415);
    expect(res.body).toMatchObject({ error: { code: 'UNSUPPORTED_MEDIA_TYPE' } });
  });
});
