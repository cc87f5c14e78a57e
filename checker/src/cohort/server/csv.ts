import type { GridRow } from '../store/grid.repository';
import type { CourseStep } from './deps';

/** A CSV cell: quoted when it holds a comma, quote or newline; a leading = + - @ is defused (spreadsheet formulas). */
function cell(value: string | number): string {
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The grid as CSV: one row per learner, per step its status and score, then the total. */
export function gridCsv(steps: CourseStep[], rows: GridRow[]): string {
  const header = ['learner', 'joined_at', 'last_submission_at'];
  for (const s of steps) header.push(`${s.number}-${s.slug} status`, `${s.number}-${s.slug} score`);
  header.push('total score', 'total max');
  const lines = [header.map(cell).join(',')];
  for (const r of rows) {
    const line: (string | number)[] = [r.name, r.joinedAt, r.lastSubmissionAt ?? ''];
    let total = 0;
    let max = 0;
    for (const s of steps) {
      const c = r.cells[s.slug];
      line.push(c ? c.status : 'not tried', c ? `${c.score}/${c.maxScore}` : '');
      total += c?.score ?? 0;
      max += c?.maxScore ?? 0;
    }
    line.push(total, max);
    lines.push(line.map(cell).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}
