import { readFileSync } from 'node:fs';
import { lessonPath, type StepInfo } from './paths';

export interface Lesson {
  step: StepInfo;
  markdown: string;
  /** Hint bodies in order, from `### Hint 1`, `### Hint 2`, ... headings. */
  hints: string[];
}

const HINT_HEADING = /^### Hint (\d+)\s*$/;

export function readLesson(step: StepInfo): Lesson {
  const markdown = readFileSync(lessonPath(step), 'utf8');
  return { step, markdown, hints: parseHints(markdown) };
}

/** Hints are the `### Hint N` sections; each ends at the next heading of level 1 to 3. */
export function parseHints(markdown: string): string[] {
  const hints: string[][] = [];
  let current: string[] | undefined;
  for (const line of markdown.split('\n')) {
    if (HINT_HEADING.test(line)) {
      current = [];
      hints.push(current);
    } else if (/^#{1,3} /.test(line)) {
      current = undefined;
    } else {
      current?.push(line);
    }
  }
  return hints.map((lines) => lines.join('\n').trim());
}

/** The lesson without its hints section: what `sandbox next` prints. */
export function lessonWithoutHints(markdown: string): string {
  const start = markdown.indexOf('\n## Hints');
  if (start < 0) return markdown;
  const next = markdown.indexOf('\n## ', start + 1);
  const tail = next < 0 ? '' : markdown.slice(next);
  return `${markdown.slice(0, start)}\n\n## Hints\n\nAsk for them one at a time: \`npx sandbox hint\`.\n${tail}`;
}
