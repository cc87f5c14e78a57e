import type { Cohort } from '../../store/cohorts.repository';
import { html } from '../html';
import { page, type PageOptions } from './layout';

export function cohortsPage(o: {
  mentor: NonNullable<PageOptions['mentor']>;
  csrfToken: string;
  cohorts: (Cohort & { learners: number })[];
  publicUrl: string;
  error?: string;
}): string {
  return page({
    title: 'Your cohorts',
    mentor: o.mentor,
    csrfToken: o.csrfToken,
    body: html`<h1>Your cohorts</h1>
      ${
        o.cohorts.length === 0
          ? html`<p>You do not mentor a cohort yet: create one below.</p>`
          : html`<table class="list">
              <thead>
                <tr>
                  <th scope="col">Cohort</th>
                  <th scope="col">Learners</th>
                  <th scope="col">Invite code</th>
                  <th scope="col">Learners join with</th>
                </tr>
              </thead>
              <tbody>
                ${o.cohorts.map(
                  (c) =>
                    html`<tr>
                      <th scope="row"><a href="/dashboard/cohorts/${c.id}">${c.name}</a></th>
                      <td>${c.learners}</td>
                      <td><code>${c.inviteCode}</code>${c.inviteOpen ? '' : ' (closed)'}</td>
                      <td><code>npx sandbox join ${c.inviteCode} --server ${o.publicUrl}</code></td>
                    </tr>`,
                )}
              </tbody>
            </table>`
      }
      <h2>New cohort</h2>
      ${o.error ? html`<p class="error" role="alert">${o.error}</p>` : ''}
      <form method="post" action="/dashboard/cohorts" class="inline">
        <input type="hidden" name="_csrf" value="${o.csrfToken}" />
        <label for="cohort-name">Name</label>
        <input id="cohort-name" name="name" required maxlength="200" />
        <button type="submit">Create cohort</button>
      </form>`,
  });
}
