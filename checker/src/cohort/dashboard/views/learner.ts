import type { Cohort } from '../../store/cohorts.repository';
import type { FeedbackNote } from '../../store/feedback.repository';
import type { Attempt } from '../../store/grid.repository';
import type { Learner } from '../../store/learners.repository';
import type { CourseStep } from '../../server/deps';
import { lineChart } from '../chart';
import { ago, score, utc } from '../format';
import { html, type SafeHtml } from '../html';
import type { Comparison, LearnerModel } from '../learner.model';
import { page, type PageOptions } from './layout';

function attemptTitle(a: Attempt): string {
  const steps = a.submission.upToStep ? `steps 1-${a.submission.upToStep}` : 'whole course';
  return `${utc(a.submission.createdAt)} · ${steps}`;
}

function resultSummary(a: Attempt): SafeHtml {
  if (!a.result)
    return html`<span class="sub-${a.submission.status}">${a.submission.status}</span>`;
  const word =
    a.result.status === 'pass'
      ? '✓ passed'
      : a.result.status === 'fail'
        ? '✗ failing'
        : '! not graded';
  return html`<span class="res-${a.result.status}">${word}</span>
    ${score(a.result.score, a.result.maxScore)}`;
}

function attemptSection(a: Attempt, now: number): SafeHtml {
  return html`<li class="attempt" id="attempt-${a.submission.id}">
    <h3>
      ${attemptTitle(a)} <span class="ago">(${ago(a.submission.createdAt, now)})</span> ·
      ${resultSummary(a)}
    </h3>
    ${a.result?.error ? html`<p class="error">Could not be graded: ${a.result.error.code}: ${a.result.error.message}</p>` : ''}
    ${
      a.steps.length > 0
        ? html`<p class="steps">
            ${a.steps.map((s) => html`<span class="chip ${s.status}">${s.number} ${s.slug} ${score(s.score, s.maxScore)}</span> `)}
          </p>`
        : ''
    }
    ${
      a.failingChecks.length > 0
        ? html`<details ${a.failingChecks.length <= 3 ? 'open' : ''}>
            <summary>
              ${a.failingChecks.length} failing check${a.failingChecks.length === 1 ? '' : 's'}
            </summary>
            <ul class="checks">
              ${a.failingChecks.map(
                (c) =>
                  html`<li>
                    <p>
                      <strong>${c.step}: ${c.name}</strong> (${c.status},
                      ${score(c.points, c.maxPoints)})
                    </p>
                    <pre class="message">${c.message}</pre>
                    ${c.hint ? html`<p class="hint"><strong>Hint:</strong> ${c.hint}</p>` : ''}
                    ${
                      c.logExcerpt
                        ? html`<details>
                            <summary>App log excerpt</summary>
                            <pre class="log">${c.logExcerpt}</pre>
                          </details>`
                        : ''
                    }
                  </li>`,
              )}
            </ul>
          </details>`
        : ''
    }
  </li>`;
}

function noteStatus(n: FeedbackNote): SafeHtml {
  if (n.readAt) return html`<span class="note-read">read ${utc(n.readAt)}</span>`;
  if (n.receivedAt) return html`<span class="note-received">received ${utc(n.receivedAt)}</span>`;
  return html`<span class="note-pending">not received yet</span>`;
}

function comparisonSection(c: Comparison | undefined, attempts: Attempt[], base: string): SafeHtml {
  const option = (a: Attempt, selected: Attempt | undefined): SafeHtml =>
    html`<option value="${a.submission.id}" ${a === selected ? 'selected' : ''}>
      ${attemptTitle(a)}
    </option>`;
  return html`<section aria-labelledby="compare-h">
    <h2 id="compare-h">What changed between two attempts</h2>
    ${
      attempts.length < 2
        ? html`<p>Two attempts are needed to compare.</p>`
        : html`<form method="get" action="${base}#compare-h" class="inline">
            <label for="from">From</label>
            <select id="from" name="from">
              ${attempts.map((a) => option(a, c?.from))}
            </select>
            <label for="to">to</label>
            <select id="to" name="to">
              ${attempts.map((a) => option(a, c?.to))}
            </select>
            <button type="submit">Compare</button>
          </form>`
    }
    ${
      c
        ? html`<div class="compare">
            <div>
              <h3>Files (${c.files.length} changed, ${c.unchangedFiles} unchanged)</h3>
              ${
                c.files.length === 0
                  ? html`<p>No file changed.</p>`
                  : html`<ul class="files">
                      ${c.files.map(
                        (f) =>
                          html`<li class="file-${f.change}">
                            <code>${f.path}</code>
                            ${f.change}${f.change === 'changed' ? html` (${f.sizeBefore} → ${f.sizeAfter} bytes)` : ''}
                          </li>`,
                      )}
                    </ul>`
              }
            </div>
            <div>
              <h3>Check results (${c.checks.length} changed)</h3>
              ${
                c.checks.length === 0
                  ? html`<p>No check changed its result.</p>`
                  : html`<ul class="check-changes">
                      ${c.checks.map(
                        (k) =>
                          html`<li>
                            <strong>${k.step}: ${k.name}</strong>: ${k.before} →
                            <span class="res-${k.after}">${k.after}</span>
                          </li>`,
                      )}
                    </ul>`
              }
            </div>
          </div>`
        : ''
    }
  </section>`;
}

export function learnerPage(o: {
  mentor: NonNullable<PageOptions['mentor']>;
  csrfToken: string;
  cohort: Cohort;
  learner: Learner;
  model: LearnerModel;
  steps: CourseStep[];
  now: number;
}): string {
  const { cohort, learner, model, now } = o;
  const base = `/dashboard/cohorts/${cohort.id}/learners/${learner.id}`;
  const graded = model.attempts.filter((a) => a.result).reverse();
  const percents = graded.map((a) =>
    a.result!.maxScore > 0 ? (100 * a.result!.score) / a.result!.maxScore : 0,
  );
  return page({
    title: learner.name,
    mentor: o.mentor,
    csrfToken: o.csrfToken,
    crumbs: [
      [cohort.name, `/dashboard/cohorts/${cohort.id}`],
      [learner.name, base],
    ],
    live: { events: `/dashboard/live/cohorts/${cohort.id}/events`, learnerId: learner.id },
    body: html`<h1>${learner.name}</h1>
      <p class="meta">
        Joined ${utc(learner.joinedAt)} · last seen ${ago(learner.lastSeenAt, now)} ·
        ${model.attempts.length} attempt${model.attempts.length === 1 ? '' : 's'}
        ${graded.length > 0 ? html`· <a href="${base}/gradescope.json" download>Gradescope results.json (latest graded attempt)</a>` : ''}
      </p>
      <div data-live-region id="learner-summary">
        <h2>Score over time</h2>
        ${
          graded.length === 0
            ? html`<p>No graded attempt yet.</p>`
            : html`<figure class="score-chart">
                ${lineChart({ values: percents, max: 100, label: `Score of ${learner.name}'s ${graded.length} graded attempts, from ${percents[0]!.toFixed(0)}% to ${percents.at(-1)!.toFixed(0)}%` })}
                <figcaption>
                  Score in % of the attempt's maximum, oldest to newest:
                  ${percents.map((p) => p.toFixed(0)).join(', ')}
                </figcaption>
              </figure>`
        }
      </div>
      <section id="notes" aria-labelledby="notes-h">
        <h2 id="notes-h">Feedback notes</h2>
        <div data-live-region id="notes-list">
          ${
            model.notes.length === 0
              ? html`<p>No note yet.</p>`
              : html`<ul class="notes">
                  ${model.notes.map(
                    (n) =>
                      html`<li data-note="${n.id}">
                        <p class="note-head">
                          <strong>${n.author}</strong> ·
                          ${utc(n.createdAt)}${n.step ? html` · step ${n.step}` : ''} ·
                          ${noteStatus(n)}
                        </p>
                        <p class="note-body">${n.message}</p>
                      </li>`,
                  )}
                </ul>`
          }
        </div>
        <form method="post" action="${base}/notes" class="note-form">
          <input type="hidden" name="_csrf" value="${o.csrfToken}" />
          <label for="note-step">Step</label>
          <select id="note-step" name="step">
            <option value="">(the whole course)</option>
            ${o.steps.map((s) => html`<option value="${s.slug}">${s.number} ${s.slug}</option>`)}
          </select>
          <label for="note-message"
            >Note to ${learner.name} (they get it with <code>sandbox submit</code> and
            <code>sandbox status</code>)</label
          >
          <textarea id="note-message" name="message" rows="3" maxlength="5000" required></textarea>
          <button type="submit">Send note</button>
        </form>
      </section>
      <div data-live-region id="learner-compare">
        ${comparisonSection(model.comparison, model.attempts, base)}
      </div>
      <section aria-labelledby="timeline-h">
        <h2 id="timeline-h">Attempts, newest first</h2>
        <div data-live-region id="timeline">
          ${
            model.attempts.length === 0
              ? html`<p>No submission yet.</p>`
              : html`<ol class="timeline">
                  ${model.attempts.map((a) => attemptSection(a, now))}
                </ol>`
          }
        </div>
      </section>`,
  });
}
