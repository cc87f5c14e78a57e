import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StepInfo } from './paths';

export const CONTRACT_BEGIN = '<!-- contract:begin -->';
export const CONTRACT_END = '<!-- contract:end -->';

/** The body of `## Step N: slug` in steps/CONTRACT.md (without its heading), trimmed. */
export function contractSection(root: string, step: StepInfo): string {
  const text = readFileSync(join(root, 'steps', 'CONTRACT.md'), 'utf8');
  const heading = `## Step ${step.number}: ${step.slug}`;
  const start = text.indexOf(heading);
  if (start < 0) throw new Error(`steps/CONTRACT.md has no "${heading}" section`);
  const bodyStart = start + heading.length;
  const next = text.indexOf('\n## ', bodyStart);
  return text.slice(bodyStart, next < 0 ? undefined : next).trim();
}

/** The text between the contract markers of a lesson, or undefined when the markers are missing. */
export function lessonContract(lesson: string): string | undefined {
  const begin = lesson.indexOf(CONTRACT_BEGIN);
  const end = lesson.indexOf(CONTRACT_END);
  if (begin < 0 || end < begin) return undefined;
  return lesson.slice(begin + CONTRACT_BEGIN.length, end).trim();
}

/** The lesson with its contract block replaced by `section`. */
export function withContract(lesson: string, section: string): string {
  const begin = lesson.indexOf(CONTRACT_BEGIN);
  const end = lesson.indexOf(CONTRACT_END);
  if (begin < 0 || end < begin) throw new Error('lesson has no contract markers');
  return `${lesson.slice(0, begin + CONTRACT_BEGIN.length)}\n${section}\n${lesson.slice(end)}`;
}

/** Blank lines do not count: Prettier may add one before a list. */
export function sameContract(a: string | undefined, b: string): boolean {
  const squeeze = (t: string) => t.replace(/\n\s*\n/g, '\n').trim();
  return a !== undefined && squeeze(a) === squeeze(b);
}

/** Routes (`GET /notes/:id`), error codes (`NOT_FOUND`) and variables (`PORT`) a text names. */
export function contractTerms(text: string): string[] {
  const routes = text.match(/\b(?:GET|POST|PATCH|PUT|DELETE) \/[\w/:?=.-]*/g) ?? [];
  const codes = text.match(/`[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+`/g) ?? [];
  const statuses = text.match(/\b[2-5]\d\d\b/g) ?? [];
  return [...new Set([...routes, ...codes.map((c) => c.slice(1, -1)), ...statuses])];
}
