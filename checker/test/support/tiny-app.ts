import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Source of a tiny Express app that follows the contract's start rules, with test hooks. */
const SERVER = `
const express = require('express');
const { spawn } = require('node:child_process');
const app = express();
app.get('/health', (_req, res) => res.json({ status: 'ok' }));
app.get('/env', (_req, res) => res.json({ PORT: process.env.PORT, NODE_ENV: process.env.NODE_ENV, HOME: process.env.HOME, pid: process.pid }));
// A grandchild that leaves the process group (detached: setsid), like a careless daemon.
app.post('/escape', (_req, res) => {
  const child = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
  child.unref();
  res.json({ pid: child.pid });
});
// Whether a TCP connection to 127.0.0.1:port opens (what the run's network fence lets through).
app.get('/tcp', (req, res) => {
  const socket = require('node:net').connect({ host: '127.0.0.1', port: Number(req.query.port) });
  const answer = (connected) => { socket.destroy(); if (!res.headersSent) res.json({ connected }); };
  socket.once('connect', () => answer(true)).once('error', () => answer(false));
  socket.setTimeout(2000, () => answer(false));
});
app.get('/slow', (_req, res) => setTimeout(() => res.json({ done: true }), 300));
const port = Number(process.env.PORT) + Number(process.env.TINY_PORT_OFFSET || 0);
const server = app.listen(port, '127.0.0.1', () => console.log('listening on ' + port));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

export interface TinyApp {
  dir: string;
  remove(): void;
}

/**
 * Writes the tiny app into a folder under the repository (so `express` resolves from the
 * hoisted node_modules, no install needed), readable by an unprivileged user.
 */
export function writeTinyApp(
  opts: { start?: string; files?: Record<string, string>; noStart?: boolean } = {},
): TinyApp {
  const dir = path.join(
    __dirname,
    '..',
    '..',
    '.cache',
    'apps',
    `tiny-${randomBytes(4).toString('hex')}`,
  );
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const scripts = opts.noStart ? {} : { start: opts.start ?? 'node server.js' };
  writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({ name: 'tiny', private: true, scripts, dependencies: { express: '*' } }),
  );
  writeFileSync(path.join(dir, 'server.js'), SERVER);
  for (const [name, text] of Object.entries(opts.files ?? {}))
    writeFileSync(path.join(dir, name), text);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
