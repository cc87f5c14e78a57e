import type { RequestHandler, Response } from 'express';

/** Notes when the request reached the dashboard (for Server-Timing). */
export const startClock: RequestHandler = (_req, res, next) => {
  res.locals['dashboardStart'] = process.hrtime.bigint();
  next();
};

/** Sends a page with `Server-Timing: app;dur=MS` (the time the server spent on it; the benchmark reads it). */
export function sendHtml(res: Response, body: string): void {
  const start = res.locals['dashboardStart'] as bigint | undefined;
  if (start !== undefined)
    res.set(
      'Server-Timing',
      `app;dur=${(Number(process.hrtime.bigint() - start) / 1e6).toFixed(1)}`,
    );
  res.type('html').send(body);
}
