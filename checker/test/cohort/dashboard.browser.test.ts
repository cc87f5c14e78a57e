import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { request, type APIRequestContext, type BrowserContext, type Page } from 'playwright-core';
import { fabricatedResult, seedAttempts, seedLearners } from '../../bench/support/cohort-seed';
import { loadStepsDir } from '../../src/course/paths';
import { defaultStepsDir } from '../../src/runner/steps';
import { recordResult } from '../../src/cohort/store/results.repository';
import { submissionById } from '../../src/cohort/store/submissions.repository';
import { ARTIFACTS, launchBrowser } from './support/browser';
import {
  joinAs,
  json,
  mentorWithCohort,
  startTestService,
  type TestService,
} from './support/service';

// The mentor dashboard in Debian's Chromium, against a real cohort service (Postgres, Redis):
// data is seeded through the store; learners use the real CLI (join, submit, status); nothing
// is graded (results are recorded through the store). About 30 s.
jest.setTimeout(120_000);

const REPO = path.join(__dirname, '..', '..', '..');
// The built CLI, as learners run it (npm install / npm ci builds checker/dist).
const CLI = path.join(REPO, 'checker', 'bin', 'sandbox.js');
const PASSWORD = 'correct-horse-battery';
const steps = loadStepsDir(defaultStepsDir()).map(({ number, slug, title }) => ({
  number,
  slug,
  title,
}));

let service: TestService;
let browser: { context: BrowserContext; close(): Promise<void> };
let page: Page;
let mentorA: Awaited<ReturnType<typeof mentorWithCohort>>;
let mentorB: Awaited<ReturnType<typeof mentorWithCohort>>;
let emailA: string;
let emailB: string;
let learners: Awaited<ReturnType<typeof seedLearners>>;
let tmp: string;
const HOSTILE = 'Mallory <img src=x onerror="window.__xss=1">';

/** Runs the CLI without blocking: the service answers from this very process. */
function sandbox(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      {
        encoding: 'utf8',
        cwd: tmp,
        timeout: 60_000,
        env: { ...process.env, NO_COLOR: '1', SANDBOX_CONFIG_DIR: path.join(tmp, 'config') },
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const shot = (name: string): Promise<Buffer> =>
  page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });

async function emailOf(mentorId: string): Promise<string> {
  const row = await service.db('mentors').where('id', mentorId).first<{ email: string }>('email');
  return row.email;
}

async function signIn(p: Page, email: string, password = PASSWORD): Promise<void> {
  await p.goto(`${service.url}/dashboard/login`);
  await p.getByLabel('Email').fill(email);
  await p.getByLabel('Password').fill(password);
  await p.getByRole('button', { name: 'Sign in' }).click();
}

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'dashboard-browser-'));
  service = await startTestService();
  mentorA = await mentorWithCohort(service, 'Autumn cohort');
  mentorB = await mentorWithCohort(service, 'Other cohort');
  [emailA, emailB] = await Promise.all([emailOf(mentorA.mentorId), emailOf(mentorB.mentorId)]);
  learners = await seedLearners(service.db, mentorA.cohortId, ['Ada', 'Grace', HOSTILE], 6);
  const [ada, grace] = learners;
  const now = Date.now();
  await seedAttempts(service.db, mentorA.cohortId, steps, [
    // Ada passes steps 1-3 (failing 3 first, then fixing it).
    { learnerId: ada!.id, at: new Date(now - 3 * 86_400_000), upTo: 3, failingStep: 2 },
    {
      learnerId: ada!.id,
      at: new Date(now - 2 * 3_600_000),
      upTo: 3,
      failingStep: 9,
      files: { 'src/app.ts': 'v2', 'src/signup.ts': 'new' },
    },
    // Grace fails the same check of step 2 three times: stuck.
    ...[5, 4, 1].map((d) => ({
      learnerId: grace!.id,
      at: new Date(now - d * 86_400_000),
      upTo: 2,
      failingStep: 1,
    })),
  ]);
  browser = await launchBrowser();
  page = await browser.context.newPage();
});

afterAll(async () => {
  await browser?.close();
  await service?.dispose();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('the mentor dashboard in a browser', () => {
  it('sends a visitor who is not signed in to the sign-in page, then signs the mentor in', async () => {
    await page.goto(`${service.url}/dashboard/cohorts/${mentorA.cohortId}`);
    expect(new URL(page.url()).pathname).toBe('/dashboard/login');
    await shot('login');
    await page.getByLabel('Email').fill(emailA);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`**/dashboard/cohorts/${mentorA.cohortId}`);
    const cookie = (await browser.context.cookies()).find((c) => c.name === 'sandbox.sid');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
    await page.goto(`${service.url}/dashboard`);
    await expect(page.getByRole('link', { name: 'Autumn cohort' }).count()).resolves.toBe(1);
    await expect(page.getByRole('link', { name: 'Other cohort' }).count()).resolves.toBe(0);
    await shot('cohorts');
  });

  it('shows the grid with learners passing, failing, stuck and never tried, names escaped', async () => {
    await page.goto(`${service.url}/dashboard/cohorts/${mentorA.cohortId}`);
    const row = (name: string) =>
      page.locator('tbody tr', { has: page.getByRole('link', { name, exact: true }) });
    await expect(row('Ada').locator('td.cell.pass').count()).resolves.toBe(3);
    await expect(row('Ada').locator('td.cell.none').count()).resolves.toBe(6);
    await expect(row('Grace').locator('td.cell.fail').first().innerText()).resolves.toMatch(
      /failing\s+9\/12\s+24 h ago/,
    );
    await expect(row('Grace').locator('.stuck-reasons').innerText()).resolves.toContain(
      'failed in each of the last 3 attempts',
    );
    // The hostile name is shown as text; its markup never became an element.
    await expect(row(HOSTILE).locator('th a').innerText()).resolves.toBe(HOSTILE);
    await expect(page.locator('img').count()).resolves.toBe(0);
    await expect(
      page.evaluate(() => (window as { __xss?: number }).__xss),
    ).resolves.toBeUndefined();
    await expect(page.locator('tfoot').innerText()).resolves.toMatch(/2 passed/);
    await shot('grid');

    // Sorted by progress, Ada leads; the stuck filter keeps Grace (failing check) and Mallory (no step in 6 days).
    await page.getByLabel('Sort by').selectOption('progress');
    await page.getByLabel('Only stuck learners:').check();
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/stuck=1/);
    const names = await page.locator('tbody th.name').allInnerTexts();
    expect(names).toEqual(['Grace', HOSTILE]);
    // Needing 4 attempts and 7 days, nobody is stuck.
    await page.getByLabel('same check failing in the last').fill('4');
    await page.getByLabel('attempts, or no new step for').fill('7');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/attempts=4/);
    await expect(page.locator('tbody').innerText()).resolves.toContain('No learner matches');
  });

  it('shows a submission made with `sandbox submit` and then its result, without a reload', async () => {
    await page.goto(`${service.url}/dashboard/cohorts/${mentorA.cohortId}`);
    await page.waitForSelector('body[data-live="on"]');
    await page.evaluate(() => ((window as { __sameDocument?: boolean }).__sameDocument = true));
    const joined = await sandbox(
      'join',
      mentorA.inviteCode,
      '--server',
      service.url,
      '--name',
      'Lin',
    );
    expect([joined.code, joined.stderr]).toEqual([0, '']);
    const lin = page.locator('tbody tr', {
      has: page.getByRole('link', { name: 'Lin', exact: true }),
    });
    await lin.waitFor();
    const ws = path.join(tmp, 'ws');
    mkdirSync(path.join(ws, 'src'), { recursive: true });
    writeFileSync(path.join(ws, 'package.json'), '{"name":"ws","version":"1.0.0"}\n');
    writeFileSync(path.join(ws, 'src', 'app.ts'), 'export {};\n');
    const submitted = await sandbox('submit', '--workspace', ws, '--step', '2');
    expect([submitted.code, submitted.stderr]).toEqual([0, expect.stringContaining('queued')]);
    await lin.locator('.sub-queued').waitFor({ timeout: 5000 });

    const id = /as ([0-9a-f-]{36})/.exec(submitted.stderr)![1]!;
    const submission = (await submissionById(service.db, id))!;
    await recordResult(service.db, submission, fabricatedResult(steps, 2, 1), {
      worker: 'test',
      exitCode: 1,
      runtime: 'container',
      contained: true,
      durationMs: 1000,
    });
    const started = Date.now();
    await lin.locator('td.cell.fail').waitFor({ timeout: 5000 });
    expect(Date.now() - started).toBeLessThan(5000);
    await expect(lin.locator('td.cell.pass').count()).resolves.toBe(1);
    await expect(
      page.evaluate(() => (window as { __sameDocument?: boolean }).__sameDocument),
    ).resolves.toBe(true);
  });

  it('sends a note from the learner page that reaches `sandbox status`, and shows it read, live', async () => {
    await page.goto(`${service.url}/dashboard/cohorts/${mentorA.cohortId}`);
    await page.getByRole('link', { name: 'Lin', exact: true }).click();
    await page.waitForSelector('body[data-live="on"]');
    await expect(page.locator('.attempt').count()).resolves.toBe(1);
    await expect(page.locator('.checks').innerText()).resolves.toContain(
      '<script>alert("x")</script>',
    );
    await page.getByLabel('Step').selectOption('database');
    await page.getByLabel(/Note to Lin/).fill('Check the <b>unique</b> index on email.');
    await page.getByRole('button', { name: 'Send note' }).click();
    const note = page.locator('.notes li').first();
    await expect(note.innerText()).resolves.toMatch(/not received yet/);
    await expect(note.locator('.note-body').innerText()).resolves.toBe(
      'Check the <b>unique</b> index on email.',
    );
    await page.evaluate(() => ((window as { __sameDocument?: boolean }).__sameDocument = true));

    const status = await sandbox('status', '--workspace', path.join(tmp, 'ws'));
    expect(status.stdout).toMatch(
      /Mentor feedback:[\s\S]*\(step database\): Check the <b>unique<\/b> index on email\./,
    );
    // status brought the note in (received) and printed it (read): the page shows it without a reload.
    await note.locator('.note-read').waitFor({ timeout: 5000 });
    await expect(
      page.evaluate(() => (window as { __sameDocument?: boolean }).__sameDocument),
    ).resolves.toBe(true);
    await shot('learner');
  });

  it('compares two attempts: files and check results', async () => {
    await page.goto(
      `${service.url}/dashboard/cohorts/${mentorA.cohortId}/learners/${learners[0]!.id}`,
    );
    const compare = page.locator('#learner-compare');
    await expect(compare.innerText()).resolves.toMatch(/src\/signup\.ts added/);
    await expect(compare.innerText()).resolves.toMatch(
      /Check results \(1 changed\)[\s\S]*fail → pass/,
    );
    await expect(page.locator('svg.chart circle').count()).resolves.toBe(2);
  });

  it('shows where the course is hard: the most failed checks this week and passes over time', async () => {
    await page.goto(`${service.url}/dashboard/cohorts/${mentorA.cohortId}/hard`);
    const first = page.locator('#failed-h + p + table tbody tr').first();
    await expect(first.innerText()).resolves.toMatch(/database[\s\S]*rejects bad input\s+2\s+4/);
    await expect(page.locator('table.passes svg.chart').count()).resolves.toBe(steps.length);
    await shot('hard');
  });

  it('exports the grid as CSV and a learner’s latest result as Gradescope results.json', async () => {
    const csv = await page.request.get(
      `${service.url}/dashboard/cohorts/${mentorA.cohortId}/export.csv`,
    );
    expect(csv.status()).toBe(200);
    const text = await csv.text();
    expect(text.split('\r\n')[0]).toContain('1-hello-server status');
    expect(text).toMatch(/\nAda,[^\n]*pass,12\/12/);
    const gs = await page.request.get(
      `${service.url}/dashboard/cohorts/${mentorA.cohortId}/learners/${learners[0]!.id}/gradescope.json`,
    );
    expect(gs.status()).toBe(200);
    const results = (await gs.json()) as { score: number; tests: unknown[] };
    expect(results.score).toBe(36);
    expect(results.tests.length).toBeGreaterThan(0);
  });

  it('closes the invite from the cohort page (joining with the code is refused), then opens it with a new code', async () => {
    await page.goto(`${service.url}/dashboard/cohorts/${mentorA.cohortId}`);
    const meta = page.locator('p.meta');
    const oldCode = (await meta.locator('code').innerText()).trim();
    await page.getByRole('button', { name: 'Close the invite' }).click();
    await page.waitForURL(`**/dashboard/cohorts/${mentorA.cohortId}`);
    await expect(meta.innerText()).resolves.toContain('Invite closed: nobody can join');
    const refused = await json(service.url, 'POST', '/api/join', {
      body: { code: oldCode, name: 'Late' },
    });
    expect(refused.status).toBe(404); // as for a code that never existed
    await page.getByRole('button', { name: 'Open with a new code' }).click();
    await page.waitForURL(`**/dashboard/cohorts/${mentorA.cohortId}`);
    const newCode = (await meta.locator('code').innerText()).trim();
    expect(newCode).not.toBe(oldCode);
    const joined = await joinAs(service, newCode, 'Late');
    expect(joined.token).toBeTruthy();
    const old = await json(service.url, 'POST', '/api/join', {
      body: { code: oldCode, name: 'X' },
    });
    expect(old.status).toBe(refused.status);
    mentorA.inviteCode = newCode; // the tests below join with it
  });
});

describe('who may open the dashboard', () => {
  let api: APIRequestContext;
  beforeAll(async () => {
    api = await request.newContext({ baseURL: service.url, maxRedirects: 0 });
  });
  afterAll(() => api?.dispose());

  const pagesOfA = (): string[] => [
    `/dashboard/cohorts/${mentorA.cohortId}`,
    `/dashboard/cohorts/${mentorA.cohortId}/hard`,
    `/dashboard/cohorts/${mentorA.cohortId}/rows?learner=${learners[0]!.id}`,
    `/dashboard/cohorts/${mentorA.cohortId}/export.csv`,
    `/dashboard/cohorts/${mentorA.cohortId}/learners/${learners[0]!.id}`,
    `/dashboard/cohorts/${mentorA.cohortId}/learners/${learners[0]!.id}/gradescope.json`,
    `/dashboard/live/cohorts/${mentorA.cohortId}/events`,
  ];

  it('refuses a learner (with their token) every page: 403', async () => {
    const learner = await joinAs(service, mentorA.inviteCode, 'Eve');
    for (const route of ['/dashboard', ...pagesOfA()]) {
      const r = await api.get(route, { headers: { authorization: `Bearer ${learner.token}` } });
      expect([route, r.status()]).toEqual([route, 403]);
    }
  });

  it('shows a mentor of another cohort nothing of this one: 404', async () => {
    const other = await browser.context.browser()?.newContext();
    const p = other ? await other.newPage() : await browser.context.newPage();
    const ctx = other ?? browser.context;
    if (!other) await ctx.clearCookies();
    await signIn(p, emailB);
    await p.waitForURL('**/dashboard');
    for (const route of pagesOfA()) {
      const r = await p.request.get(`${service.url}${route}`);
      expect([route, r.status()]).toEqual([route, 404]);
    }
    const note = await p.request.post(
      `${service.url}/dashboard/cohorts/${mentorA.cohortId}/learners/${learners[0]!.id}/notes`,
      { form: { message: 'hi' }, headers: { 'x-csrf-token': await csrfOf(p) } },
    );
    expect(note.status()).toBe(404);
    const invite = await p.request.post(
      `${service.url}/dashboard/cohorts/${mentorA.cohortId}/invite`,
      { form: { state: 'closed' }, headers: { 'x-csrf-token': await csrfOf(p) } },
    );
    expect(invite.status()).toBe(404);
    await other?.close();
    if (!other) {
      await ctx.clearCookies();
      await signIn(page, emailA);
    }
  });

  it('refuses form posts without the session’s CSRF token: 403, nothing stored', async () => {
    const before = await service.db('feedback_notes').count<{ n: string }[]>({ n: '*' }).first();
    const route = `${service.url}/dashboard/cohorts/${mentorA.cohortId}/learners/${learners[0]!.id}/notes`;
    const none = await page.request.post(route, { form: { message: 'forged' } });
    expect(none.status()).toBe(403);
    await expect(none.text()).resolves.toContain('CSRF');
    const wrong = await page.request.post(route, {
      form: { message: 'forged', _csrf: 'a'.repeat(64) },
    });
    expect(wrong.status()).toBe(403);
    const cohort = await page.request.post(`${service.url}/dashboard/cohorts`, {
      form: { name: 'forged' },
    });
    expect(cohort.status()).toBe(403);
    const logout = await page.request.post(`${service.url}/dashboard/logout`, { form: {} });
    expect(logout.status()).toBe(403);
    const login = await api.post('/dashboard/login', {
      form: { email: emailA, password: PASSWORD },
    });
    expect(login.status()).toBe(403);
    const after = await service.db('feedback_notes').count<{ n: string }[]>({ n: '*' }).first();
    expect(after?.n).toBe(before?.n);
    // With the page's own token the same post is accepted.
    const ok = await page.request.post(route, {
      form: { message: 'real', _csrf: await csrfOf(page) },
      maxRedirects: 0,
    });
    expect(ok.status()).toBe(303);
  });

  it('limits failed sign-ins: the sixth wrong password in a row is 429 with Retry-After', async () => {
    const ctx = await request.newContext({ baseURL: service.url, maxRedirects: 0 });
    const token = async (): Promise<string> => {
      const html = await (await ctx.get('/dashboard/login')).text();
      return /name="_csrf" value="([^"]+)"/.exec(html)![1]!;
    };
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await ctx.post('/dashboard/login', {
        form: { _csrf: await token(), email: emailB, password: 'wrong-password' },
      });
      statuses.push(r.status());
      if (r.status() === 429) expect(Number(r.headers()['retry-after'])).toBeGreaterThan(0);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    await ctx.dispose();
  });
});

async function csrfOf(p: Page): Promise<string> {
  const html = await (await p.request.get(`${service.url}/dashboard`)).text();
  return /name="_csrf" value="([^"]+)"/.exec(html)![1]!;
}
