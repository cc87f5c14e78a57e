import { html, type SafeHtml } from '../html';

export interface PageOptions {
  title: string;
  /** The signed-in mentor (absent on the sign-in page). */
  mentor?: { name: string; email: string };
  csrfToken?: string;
  /** Where "back" goes: [label, href] pairs shown as breadcrumbs. */
  crumbs?: [string, string][];
  /** The live stream this page follows (the client script swaps its [data-live-region] parts). */
  live?: { events: string; learnerId?: string };
  body: SafeHtml;
}

/** The page shell: readable without JavaScript; the one script only adds live updates. */
export function page(o: PageOptions): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${o.title} · sandbox mentor dashboard</title>
        <link rel="stylesheet" href="/dashboard/assets/dashboard.css" />
        ${o.live ? html`<script src="/dashboard/assets/live.js" defer></script>` : ''}
      </head>
      <body
        ${o.live ? html`data-live-events="${o.live.events}"` : ''}
        ${o.live?.learnerId ? html`data-live-learner="${o.live.learnerId}"` : ''}
      >
        <a class="skip" href="#main">Skip to content</a>
        <header class="top">
          <nav aria-label="Breadcrumbs">
            <a href="/dashboard">Cohorts</a>
            ${(o.crumbs ?? []).map(([label, href]) => html` › <a href="${href}">${label}</a>`)}
          </nav>
          ${
            o.mentor
              ? html`<form method="post" action="/dashboard/logout" class="signout">
                  <span>${o.mentor.name} &lt;${o.mentor.email}&gt;</span>
                  <input type="hidden" name="_csrf" value="${o.csrfToken ?? ''}" />
                  <button type="submit">Sign out</button>
                </form>`
              : ''
          }
        </header>
        <main id="main">${o.body}</main>
        ${
          o.live
            ? html`<p class="live-status" role="status" aria-live="polite" id="live-status">
                Live updates: connecting…
              </p>`
            : ''
        }
      </body>
    </html> `.value;
}

export function errorPage(status: number, message: string, mentor?: PageOptions['mentor']): string {
  return page({
    title: `${status}`,
    ...(mentor ? { mentor } : {}),
    body: html`<h1>
        ${status === 404 ? 'Not found' : status === 403 ? 'Not allowed' : 'Something went wrong'}
      </h1>
      <p>${message}</p>
      <p><a href="/dashboard">Back to your cohorts</a></p>`,
  });
}
