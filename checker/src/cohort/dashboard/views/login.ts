import { html } from '../html';
import { page } from './layout';

export function loginPage(o: {
  csrfToken: string;
  next: string;
  error?: string;
  email?: string;
}): string {
  return page({
    title: 'Sign in',
    body: html`<h1>Mentor sign-in</h1>
      ${o.error ? html`<p class="error" role="alert">${o.error}</p>` : ''}
      <form method="post" action="/dashboard/login" class="login">
        <input type="hidden" name="_csrf" value="${o.csrfToken}" />
        <input type="hidden" name="next" value="${o.next}" />
        <label for="email">Email</label>
        <input
          id="email"
          name="email"
          type="email"
          autocomplete="username"
          required
          value="${o.email ?? ''}"
          autofocus
        />
        <label for="password">Password</label>
        <input
          id="password"
          name="password"
          type="password"
          autocomplete="current-password"
          required
        />
        <button type="submit">Sign in</button>
      </form>
      <p class="muted">
        The first mentor account is created when <code>npx sandbox serve</code> starts for the first
        time.
      </p>`,
  });
}
