import type { Cohort } from '../../store/cohorts.repository';
import type { GridCell } from '../../store/grid.repository';
import { ago, score, utc } from '../format';
import type { GridModel, GridQuery, GridSort, LearnerLine } from '../grid.model';
import { html, type SafeHtml } from '../html';
import { page, type PageOptions } from './layout';

const STATUS_TEXT: Record<GridCell['status'], [string, string]> = {
  pass: ['✓', 'passed'],
  fail: ['✗', 'failing'],
  error: ['!', 'not graded'],
};

function queryString(q: GridQuery, sort: GridSort = q.sort): string {
  const params = new URLSearchParams({ sort });
  if (q.stuckOnly) params.set('stuck', '1');
  params.set('attempts', String(q.attempts));
  params.set('days', String(q.days));
  return `?${params.toString()}`;
}

function cell(c: GridCell | undefined, now: number): SafeHtml {
  if (!c) return html`<td class="cell none"><span class="st">· never tried</span></td>`;
  const [mark, word] = STATUS_TEXT[c.status];
  return html`<td class="cell ${c.status}" title="graded ${utc(c.gradedAt)}">
    <span class="st">${mark} ${word}</span>
    <span class="sc">${score(c.score, c.maxScore)}</span>
    <span class="ago">${ago(c.gradedAt, now)}</span>
  </td>`;
}

/** One learner's row (also what live updates swap in). */
export function learnerRow(
  cohortId: string,
  steps: GridModel['steps'],
  l: LearnerLine,
  now: number,
): SafeHtml {
  const latest = l.latest;
  return html`<tr data-learner="${l.learnerId}" class="${l.stuck.length > 0 ? 'stuck' : ''}">
    <th scope="row" class="name">
      <a href="/dashboard/cohorts/${cohortId}/learners/${l.learnerId}">${l.name}</a>
    </th>
    ${steps.map((s) => cell(l.cells[s.slug], now))}
    <td class="num">${l.passed}/${steps.length}</td>
    <td class="latest">
      ${
        latest
          ? html`<span class="sub-${latest.status}">${latest.status}</span>
              <span class="ago">${ago(latest.createdAt, now)}</span>`
          : html`<span class="muted">no submission</span>`
      }
    </td>
    <td class="stuck-reasons">
      ${
        l.stuck.length > 0
          ? html`<strong>Stuck:</strong> ${l.stuck.join('; ')}`
          : html`<span class="muted">–</span>`
      }
    </td>
  </tr>`;
}

export function gridPage(o: {
  mentor: NonNullable<PageOptions['mentor']>;
  csrfToken: string;
  cohort: Cohort;
  grid: GridModel;
  query: GridQuery;
  now: number;
}): string {
  const { cohort, grid, query, now } = o;
  const base = `/dashboard/cohorts/${cohort.id}`;
  const sortLink = (sort: GridSort, label: string): SafeHtml =>
    query.sort === sort
      ? html`<span aria-current="true">${label} ▾</span>`
      : html`<a href="${base}${queryString(query, sort)}">${label}</a>`;
  return page({
    title: cohort.name,
    mentor: o.mentor,
    csrfToken: o.csrfToken,
    crumbs: [[cohort.name, base]],
    live: { events: `/dashboard/live/cohorts/${cohort.id}/events` },
    body: html`<h1>${cohort.name}</h1>
      <p class="meta">
        ${
          cohort.inviteOpen
            ? html`Invite code <code>${cohort.inviteCode}</code>`
            : html`Invite closed: nobody can join`
        }
        · ${grid.total} learner${grid.total === 1 ? '' : 's'} ·
        <a href="${base}/hard">Where the course is hard</a> ·
        <a href="${base}/export.csv" download>Export the grid (CSV)</a>
      </p>
      <form method="post" action="${base}/invite" class="inline invite">
        <input type="hidden" name="_csrf" value="${o.csrfToken}" />
        ${
          cohort.inviteOpen
            ? html`<input type="hidden" name="state" value="closed" />
                <button type="submit">Close the invite</button>`
            : html`<input type="hidden" name="state" value="open" />
                <button type="submit">Open with a new code</button>`
        }
      </form>
      <form method="get" action="${base}" class="filters" aria-label="Sort and filter">
        <label for="sort">Sort by</label>
        <select id="sort" name="sort">
          <option value="name" ${query.sort === 'name' ? 'selected' : ''}>name</option>
          <option value="progress" ${query.sort === 'progress' ? 'selected' : ''}>
            progress (steps passed)
          </option>
          <option value="activity" ${query.sort === 'activity' ? 'selected' : ''}>
            last activity
          </option>
        </select>
        <input
          type="checkbox"
          id="stuck"
          name="stuck"
          value="1"
          ${query.stuckOnly ? 'checked' : ''}
        />
        <label for="stuck">Only stuck learners:</label>
        <label for="attempts">same check failing in the last</label>
        <input
          id="attempts"
          name="attempts"
          type="number"
          min="2"
          max="50"
          value="${query.attempts}"
        />
        <label for="days">attempts, or no new step for</label>
        <input id="days" name="days" type="number" min="1" max="365" value="${query.days}" />
        <span>days</span>
        <button type="submit">Apply</button>
      </form>
      <div data-live-region id="grid-region">
        ${
          query.stuckOnly
            ? html`<p>${grid.lines.length} of ${grid.total} learners are stuck.</p>`
            : ''
        }
        <div class="scroll">
          <table class="grid">
            <caption class="visually-hidden">
              Learners by step: status, score and how long ago each step was graded
            </caption>
            <thead>
              <tr>
                <th scope="col">${sortLink('name', 'Learner')}</th>
                ${grid.steps.map(
                  (s) =>
                    html`<th scope="col" class="step" title="${s.title}">
                      ${s.number}<br /><span>${s.slug}</span>
                    </th>`,
                )}
                <th scope="col">${sortLink('progress', 'Passed')}</th>
                <th scope="col">${sortLink('activity', 'Latest submission')}</th>
                <th scope="col">Stuck</th>
              </tr>
            </thead>
            <tbody>
              ${
                grid.lines.length === 0
                  ? html`<tr>
                      <td colspan="${grid.steps.length + 4}">
                        ${grid.total > 0 ? 'No learner matches the filter.' : cohort.inviteOpen ? html`No learner yet: they join with <code>npx sandbox join ${cohort.inviteCode} --server URL</code>.` : 'No learner yet, and the invite is closed.'}
                      </td>
                    </tr>`
                  : grid.lines.map((l) => learnerRow(cohort.id, grid.steps, l, now))
              }
            </tbody>
            <tfoot>
              <tr>
                <th scope="row">Learners per step</th>
                ${grid.steps.map((s) => {
                  const n = grid.perStep[s.slug]!;
                  return html`<td class="per-step">
                    <span>${n.passed} passed</span><span>${n.current} on it</span>
                  </td>`;
                })}
                <td colspan="3"></td>
              </tr>
            </tfoot>
          </table>
        </div>
      </div>`,
  });
}
