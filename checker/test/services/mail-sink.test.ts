import nodemailer from 'nodemailer';
import { startMailSink, type StartedMailSink } from '../../src/services/mail-sink';

describe('mail sink', () => {
  let started: StartedMailSink;
  beforeEach(async () => {
    started = await startMailSink({ maxBytes: 64 * 1024 });
  });
  afterEach(async () => {
    await started.close();
  });

  const send = (to: string, text = 'hello there') => {
    const transport = nodemailer.createTransport({ url: started.url, connectionTimeout: 2000 });
    return transport
      .sendMail({
        from: 'Sandbox <no-reply@sandbox.test>',
        to,
        subject: 'Verify your email',
        text,
        html: `<p>${text}</p>`,
      })
      .finally(() => transport.close());
  };

  it('accepts auth-less mail and exposes it parsed', async () => {
    expect(started.url).toBe(`smtp://127.0.0.1:${started.port}`);
    await send('ada@example.test', 'visit http://localhost/auth/verify?token=abc');
    const m = await started.sink.waitFor((x) => x.to.includes('ada@example.test'), 1000);
    expect(m.from).toBe('Sandbox <no-reply@sandbox.test>');
    expect(m.subject).toBe('Verify your email');
    expect(m.text).toContain('token=abc');
    expect(m.html).toContain('<p>');
    expect(started.sink.messages()).toHaveLength(1);
  });

  it('counts every SMTP connection, one that sends nothing too', async () => {
    expect(started.sink.connections()).toBe(0);
    const transport = nodemailer.createTransport({ url: started.url, connectionTimeout: 2000 });
    await transport.verify(); // connects and greets, sends no mail
    transport.close();
    expect([started.sink.connections(), started.sink.messages().length]).toEqual([1, 0]);
    await send('ada@example.test');
    expect(started.sink.connections()).toBe(2);
  });

  it('waitFor resolves for a future message and rejects after its timeout', async () => {
    const waiting = started.sink.waitFor((x) => x.to.includes('later@example.test'), 3000);
    await send('later@example.test');
    await expect(waiting).resolves.toMatchObject({ to: ['later@example.test'] });
    await expect(started.sink.waitFor(() => false, 50)).rejects.toThrow(/within 50 ms/);
  });

  it('refuses the next N transactions with a 4xx after DATA, then delivers', async () => {
    started.sink.setFaults({ refuseNext: 2 });
    await expect(send('retry@example.test')).rejects.toMatchObject({ responseCode: 451 });
    await expect(send('retry@example.test')).rejects.toMatchObject({ responseCode: 451 });
    await send('retry@example.test');
    expect(started.sink.refusedCount()).toBe(2);
    expect(started.sink.messages()).toHaveLength(1);
    const attempts = started.sink.refusedAttempts();
    expect(attempts.map((a) => a.to)).toEqual([['retry@example.test'], ['retry@example.test']]);
    expect(attempts[1]!.at).toBeGreaterThanOrEqual(attempts[0]!.at);
  });

  it('can refuse at RCPT TO with a 4xx', async () => {
    started.sink.setFaults({ refuseNext: 1, refuseAt: 'rcpt' });
    await expect(send('rcpt@example.test')).rejects.toMatchObject({ responseCode: 450 });
    expect(started.sink.refusedCount()).toBe(1);
    expect(started.sink.refusedAttempts().map((a) => a.to)).toEqual([['rcpt@example.test']]);
    expect(started.sink.messages()).toHaveLength(0);
  });

  it('faults for one recipient leave every other email alone', async () => {
    const delayMs = 2000;
    started.sink.setFaults({ to: 'Own@Example.test', refuseNext: 1 });
    started.sink.setFaults({ to: 'late@example.test', delayMs });
    await send('other@example.test');
    await expect(send('own@example.test')).rejects.toMatchObject({ responseCode: 451 });
    await send('own@example.test');
    const t0 = Date.now();
    await send('late@example.test');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(delayMs - 10);
    expect(started.sink.refusedAttempts().map((a) => a.to)).toEqual([['own@example.test']]);
    expect(started.sink.messages().map((m) => m.to[0])).toEqual([
      'other@example.test',
      'own@example.test',
      'late@example.test',
    ]);
    started.sink.clearFaults();
    const t1 = Date.now();
    await send('late@example.test');
    expect(Date.now() - t1).toBeLessThan(delayMs - 10);
  });

  it('delays every transaction by delayMs', async () => {
    started.sink.setFaults({ delayMs: 300 });
    const t0 = Date.now();
    await send('slow@example.test');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
  });

  it('refuses messages over the size cap', async () => {
    await expect(send('big@example.test', 'x'.repeat(100 * 1024))).rejects.toMatchObject({
      responseCode: 552,
    });
    expect(started.sink.messages()).toHaveLength(0);
  });
});
