import type { Cohort } from '../../store/cohorts.repository';
import { lineChart } from '../chart';
import { utc } from '../format';
import type { HardModel } from '../hard.model';
import { html } from '../html';
import { page, type PageOptions } from './layout';

export function hardPage(o: {
  mentor: NonNullable<PageOptions['mentor']>;
  csrfToken: string;
  cohort: Cohort;
  hard: HardModel;
  now: number;
}): string {
  const { cohort, hard } = o;
  const base = `/dashboard/cohorts/${cohort.id}`;
  return page({
    title: `Where ${cohort.name} finds the course hard`,
    mentor: o.mentor,
    csrfToken: o.csrfToken,
    crumbs: [
      [cohort.name, base],
      ['Where the course is hard', `${base}/hard`],
    ],
    live: { events: `/dashboard/live/cohorts/${cohort.id}/events` },
    body: html`<h1>Where the course is hard</h1>
      <div data-live-region id="hard-region">
        <section aria-labelledby="failed-h">
          <h2 id="failed-h">Checks failed most often this week</h2>
          <p class="meta">
            Submissions since ${utc(hard.since)}; ordered by how many learners failed the check.
          </p>
          ${
            hard.failed.length === 0
              ? html`<p>No check failed this week.</p>`
              : html`<table class="list">
                  <thead>
                    <tr>
                      <th scope="col">Step</th>
                      <th scope="col">Check</th>
                      <th scope="col">Learners failing</th>
                      <th scope="col">Failures</th>
                    </tr>
                  </thead>
                  <tbody>
                    ${hard.failed.map(
                      (f) =>
                        html`<tr>
                          <td>${f.stepNumber} ${f.step}</td>
                          <th scope="row">${f.check}</th>
                          <td class="num">${f.learners}</td>
                          <td class="num">${f.failures}</td>
                        </tr>`,
                    )}
                  </tbody>
                </table>`
          }
        </section>
        <section aria-labelledby="passed-h">
          <h2 id="passed-h">Learners who passed each step, over time</h2>
          <p class="meta">
            ${hard.learners} learners; one point per day from ${hard.days[0] ?? ''} to
            ${hard.days.at(-1) ?? ''}.
          </p>
          <table class="list passes">
            <thead>
              <tr>
                <th scope="col">Step</th>
                <th scope="col">Over time</th>
                <th scope="col">Passed now</th>
              </tr>
            </thead>
            <tbody>
              ${hard.passedByDay.map(
                (s) =>
                  html`<tr>
                    <th scope="row">${s.step.number} ${s.step.slug}</th>
                    <td>
                      ${lineChart({ values: s.counts, max: Math.max(1, hard.learners), label: `Learners who passed step ${s.step.number} (${s.step.slug}) by day: ${s.counts.join(', ')}`, width: 360, height: 48, dots: s.counts.length <= 31 })}
                    </td>
                    <td class="num">${s.counts.at(-1) ?? 0} / ${hard.learners}</td>
                  </tr>`,
              )}
            </tbody>
          </table>
        </section>
      </div>`,
  });
}
