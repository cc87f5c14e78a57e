import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { ArchiveError } from '../../src/cohort/archive/limits';
import { packWorkspace } from '../../src/cohort/archive/pack';
import { writeArchiveFiles } from '../../src/cohort/archive/write-files';
import { DEFAULT_LIMITS } from '../../src/cohort/archive/limits';
import { rawTar, rawTarGz, type RawEntry } from './support/tar-builder';
import {
  joinAs,
  json,
  mentorWithCohort,
  startTestService,
  type TestService,
} from './support/service';

// Hostile uploads, duplicate submissions and the packer, against a real service (about 5 s).
jest.setTimeout(60_000);
let service: TestService;
let learner: { token: string; learnerId: string };

beforeAll(async () => {
  service = await startTestService();
  const mentor = await mentorWithCohort(service);
  learner = await joinAs(service, mentor.inviteCode, 'mallory');
});
afterAll(async () => service?.dispose());

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const upload = (
  body: Buffer,
  headers: Record<string, string> = { 'x-sandbox-sha256': sha(body) },
) =>
  json<{
    error: { code: string; message: string };
    submission: { id: string };
    duplicate: boolean;
  }>(service.url, 'POST', '/api/submissions', { token: learner.token, raw: body, headers });
const stored = async (): Promise<number> =>
  Number(
    (
      await service
        .db('submissions')
        .where('learner_id', learner.learnerId)
        .count<{ n: string }[]>({ n: '*' })
    )[0]!.n,
  );

const file = (name: string, data = 'x'): RawEntry => ({ name, data });

describe('POST /api/submissions refuses hostile archives, naming the problem, storing nothing', () => {
  const manyFiles = Array.from({ length: DEFAULT_LIMITS.maxFiles + 1 }, (_, i) =>
    file(`f${i}.txt`),
  );
  const cases: [string, Buffer, number, string][] = [
    [
      'an absolute path',
      rawTarGz([file('package.json'), file('/etc/cron.d/evil')]),
      400,
      'ARCHIVE_ABSOLUTE_PATH',
    ],
    [
      'a path climbing out with ..',
      rawTarGz([file('src/../../evil.js')]),
      400,
      'ARCHIVE_PATH_TRAVERSAL',
    ],
    [
      'a symbolic link',
      rawTarGz([{ name: 'leak', type: '2', linkname: '/etc/shadow' }]),
      400,
      'ARCHIVE_SYMLINK',
    ],
    [
      'a hard link',
      rawTarGz([file('a'), { name: 'b', type: '1', linkname: '/etc/shadow' }]),
      400,
      'ARCHIVE_HARDLINK',
    ],
    ['a character device', rawTarGz([{ name: 'null', type: '3' }]), 400, 'ARCHIVE_DEVICE'],
    ['a FIFO', rawTarGz([{ name: 'pipe', type: '6' }]), 400, 'ARCHIVE_DEVICE'],
    [
      'the same path twice',
      rawTarGz([file('a.js'), file('./a.js')]),
      400,
      'ARCHIVE_DUPLICATE_PATH',
    ],
    ['more files than the limit', rawTarGz(manyFiles), 413, 'ARCHIVE_TOO_MANY_FILES'],
    [
      'more unpacked bytes than the limit (a gzip bomb)',
      rawTarGz([file('zeros', '\0'.repeat(DEFAULT_LIMITS.maxUnpackedBytes + 1))]),
      413,
      'ARCHIVE_TOO_LARGE',
    ],
    ['a body that is not gzip', Buffer.from('just some text'), 400, 'NOT_AN_ARCHIVE'],
    ['gzip that is not a tar', gzipSync(randomBytes(2000)), 400, 'NOT_AN_ARCHIVE'],
    [
      'a truncated archive',
      rawTarGz([file('a.js', 'x'.repeat(3000))]).subarray(0, 40),
      400,
      'NOT_AN_ARCHIVE',
    ],
    ['an archive with no files', gzipSync(rawTar([])), 400, 'EMPTY_ARCHIVE'],
  ];
  it.each(cases)('%s', async (_what, body, status, code) => {
    const r = await upload(body);
    expect([r.status, r.body.error?.code]).toEqual([status, code]);
    expect(r.body.error.message.length).toBeGreaterThan(10);
    expect(await stored()).toBe(0);
  });

  it('a body over the upload limit is 413', async () => {
    const body = randomBytes(DEFAULT_LIMITS.maxArchiveBytes + 1);
    const r = await upload(body);
    expect([r.status, r.body.error.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
  });

  it('a wrong or missing sha256 is 400', async () => {
    const body = rawTarGz([file('package.json')]);
    const wrong = await upload(body, { 'x-sandbox-sha256': sha(Buffer.from('other')) });
    expect([wrong.status, wrong.body.error.code]).toEqual([400, 'SHA256_MISMATCH']);
    const missing = await upload(body, {});
    expect([missing.status, missing.body.error.code]).toEqual([400, 'SHA256_MISSING']);
    expect(await stored()).toBe(0);
  });

  it('a step out of range is 400', async () => {
    const body = rawTarGz([file('package.json')]);
    const r = await upload(body, { 'x-sandbox-sha256': sha(body), 'x-sandbox-step': '10' });
    expect([r.status, r.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);
  });
});

describe('duplicate submissions', () => {
  it('the same content for the same steps is one submission; other steps are another', async () => {
    const body = rawTarGz([
      file('package.json', '{"scripts":{"start":"node ."}}'),
      file('index.js', 'x'),
    ]);
    const first = await upload(body, { 'x-sandbox-sha256': sha(body), 'x-sandbox-step': '1' });
    const again = await upload(body, { 'x-sandbox-sha256': sha(body), 'x-sandbox-step': '1' });
    expect([first.status, first.body.duplicate]).toEqual([202, false]);
    expect([again.status, again.body.duplicate, again.body.submission.id]).toEqual([
      200,
      true,
      first.body.submission.id,
    ]);
    const other = await upload(body, { 'x-sandbox-sha256': sha(body), 'x-sandbox-step': '2' });
    expect(other.status).toBe(202);
    expect(other.body.submission.id).not.toBe(first.body.submission.id);
    // Two identical uploads at once still make one submission.
    const racing = rawTarGz([
      file('package.json'),
      file('race.js', randomBytes(8).toString('hex')),
    ]);
    const both = await Promise.all([upload(racing), upload(racing)]);
    expect(new Set(both.map((r) => r.body.submission.id)).size).toBe(1);
    expect(both.map((r) => r.status).sort()).toEqual([200, 202]);
  });
});

describe('the packer and the extractor', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'cohort-pack-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('packs the same files to the same bytes, without node_modules, dist, .git or .sandbox', async () => {
    const { writeFileSync, mkdirSync, symlinkSync } = await import('node:fs');
    for (const d of ['src', 'node_modules/x', 'dist', '.sandbox', '.git'])
      mkdirSync(path.join(dir, d), { recursive: true });
    writeFileSync(path.join(dir, 'package.json'), '{}');
    writeFileSync(path.join(dir, 'src/a.ts'), 'a');
    for (const f of ['node_modules/x/i.js', 'dist/a.js', '.sandbox/progress.json', '.git/HEAD'])
      writeFileSync(path.join(dir, f), 'no');
    symlinkSync('/etc/passwd', path.join(dir, 'src/link'));
    const one = await packWorkspace(dir, DEFAULT_LIMITS);
    const two = await packWorkspace(dir, DEFAULT_LIMITS);
    expect(one.files).toEqual(['package.json', 'src/a.ts']);
    expect(one.skipped).toEqual(['src/link']);
    expect(two.sha256).toBe(one.sha256);
  });

  it('never writes outside the submission folder', async () => {
    const root = path.join(dir, 'workspace');
    const attempt = writeArchiveFiles(root, [
      { path: '../outside.txt', data: Buffer.from('x'), sha256: '', executable: false },
    ]);
    await expect(attempt).rejects.toBeInstanceOf(ArchiveError);
    const clash = writeArchiveFiles(root, [
      { path: 'a', data: Buffer.from('x'), sha256: '', executable: false },
      { path: 'a/b', data: Buffer.from('x'), sha256: '', executable: false },
    ]);
    await expect(clash).rejects.toMatchObject({ code: 'ARCHIVE_PATH_CONFLICT' });
    expect(readdirSync(dir)).toEqual(['workspace']);
  });
});
