import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSteps } from './paths';

/**
 * The coverage map (steps/coverage.json): every normative sentence of steps/CONTRACT.md maps
 * to the checks that hold it and to broken submissions (test/broken/) those checks catch, or
 * is listed as untestable with the reason. `npm run course:coverage` prints the figures;
 * test/coverage.test.ts fails on any gap.
 */
export interface CoverageFile {
  sentences: { text: string; checks: string[]; cases: string[] }[];
  untestable: { text: string; why: string }[];
}

function squeeze(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** Splits a paragraph or bullet into sentences (a period followed by a capital or a backtick). */
function sentencesOf(text: string): string[] {
  return squeeze(text)
    .split(/(?<=\.)\s+(?=[A-Z`(])/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * The sentences of steps/CONTRACT.md, in order: table rows (without the variables' examples),
 * bullets and paragraph sentences, from the first `##` section on (the preamble is about the
 * course's documents). Every one of them is taken as a promise.
 */
export function contractSentences(root: string): string[] {
  const text = readFileSync(join(root, 'steps', 'CONTRACT.md'), 'utf8');
  const lines = text.slice(text.indexOf('\n## ')).split('\n');
  const out: string[] = [];
  let block: string[] = [];
  let header: string[] = [];
  const flush = (): void => {
    if (block.length > 0) out.push(...sentencesOf(block.join(' ')));
    block = [];
  };
  for (const line of lines) {
    if (line.startsWith('#') || line.trim() === '') {
      flush();
    } else if (line.startsWith('|')) {
      flush();
      const cells = line
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim());
      if (cells.every((c) => /^-+$/.test(c))) continue;
      if (cells[0] === 'variable' || cells[0] === 'status') {
        header = cells;
        continue;
      }
      const kept = header.at(-1) === 'example' ? cells.slice(0, -1) : cells;
      out.push(squeeze(kept.join(' | ')));
    } else if (line.startsWith('- ')) {
      flush();
      block = [line.slice(2)];
    } else {
      block.push(line);
    }
  }
  flush();
  // A sentence ending in a colon only introduces what follows (a table or a list).
  return [...new Set(out.filter((s) => !s.endsWith(':')))];
}

/** `slug/check name` of every check the steps declare (first argument of each `check(` call). */
export function declaredChecks(root: string): Set<string> {
  const ids = new Set<string>();
  for (const step of loadSteps(root)) {
    const dir = join(step.dir, 'checks');
    if (!existsSync(dir)) continue;
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.check.ts'))) {
      const source = readFileSync(join(dir, file), 'utf8');
      for (const m of source.matchAll(/\bcheck\(\s*(['"`])((?:\\.|(?!\1).)*)\1/gs))
        ids.add(`${step.slug}/${(m[2] ?? '').replace(/\\(.)/g, '$1')}`);
    }
  }
  return ids;
}

interface BrokenCase {
  step: string;
  fails: 'all' | { check: string; message: string }[];
}

export function brokenCases(root: string): Map<string, BrokenCase> {
  const dir = join(root, 'test', 'broken');
  const cases = new Map<string, BrokenCase>();
  for (const d of readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()))
    cases.set(
      d.name,
      JSON.parse(readFileSync(join(dir, d.name, 'expected.json'), 'utf8')) as BrokenCase,
    );
  return cases;
}

export function loadCoverage(root: string): CoverageFile {
  return JSON.parse(readFileSync(join(root, 'steps', 'coverage.json'), 'utf8')) as CoverageFile;
}

export interface CoverageReport {
  sentences: number;
  covered: number;
  untestable: number;
  checks: { total: number; mapped: number };
  cases: { total: number; mapped: number };
  /** Everything wrong, one line each; empty when the map is complete and true. */
  problems: string[];
}

/** Compares the map with the contract, the checks and the catalogue. */
export function coverageReport(
  root: string,
  map: CoverageFile = loadCoverage(root),
): CoverageReport {
  const sentences = contractSentences(root);
  const checks = declaredChecks(root);
  const cases = brokenCases(root);
  const problems: string[] = [];
  const mapped = new Map(map.sentences.map((s) => [squeeze(s.text), s]));
  const untestable = new Map(map.untestable.map((u) => [squeeze(u.text), u]));
  const inContract = new Set(sentences);
  const order = loadSteps(root).map((s) => s.slug);
  // A case that fails at setup ("all") fails every check of the steps it is graded on (1..its step).
  const graded = (check: string, step: string): boolean =>
    order.indexOf(check.split('/')[0] ?? '') <= order.indexOf(step);

  for (const s of sentences)
    if (!mapped.has(s) && !untestable.has(s))
      problems.push(`no check for the contract sentence: "${s}"`);
  for (const text of [...mapped.keys(), ...untestable.keys()])
    if (!inContract.has(text))
      problems.push(`steps/coverage.json names a sentence the contract no longer has: "${text}"`);
  for (const [text, u] of untestable)
    if (!u.why.trim()) problems.push(`untestable without a reason: "${text}"`);

  for (const [text, entry] of mapped) {
    if (entry.checks.length === 0) problems.push(`no check listed for: "${text}"`);
    for (const c of entry.checks)
      if (!checks.has(c)) problems.push(`unknown check "${c}" (for "${text}")`);
    if (entry.cases.length === 0) problems.push(`no broken case listed for: "${text}"`);
    for (const name of entry.cases) {
      const found = cases.get(name);
      if (!found) {
        problems.push(`unknown broken case "${name}" (for "${text}")`);
        continue;
      }
      const caught =
        found.fails === 'all'
          ? entry.checks.some((c) => graded(c, found.step))
          : found.fails.some((f) => entry.checks.includes(f.check) && f.message.trim() !== '');
      if (!caught)
        problems.push(
          `test/broken/${name} is not caught by any check listed for "${text}" (with a message)`,
        );
    }
  }

  const usedChecks = new Set(map.sentences.flatMap((s) => s.checks));
  const usedCases = new Set(map.sentences.flatMap((s) => s.cases));
  return {
    sentences: sentences.length,
    covered: sentences.filter((s) => mapped.has(s)).length,
    untestable: sentences.filter((s) => untestable.has(s)).length,
    checks: { total: checks.size, mapped: [...checks].filter((c) => usedChecks.has(c)).length },
    cases: { total: cases.size, mapped: [...cases.keys()].filter((c) => usedCases.has(c)).length },
    problems,
  };
}
