// The console's pages, one file per page or group (views/*.ts). Every value from a case
// (merchant-supplied) is interpolated through the escaping `html` template: text, never markup.
// Here: the frame (header, navigation, sign-out), the sign-in form and the error page.
import { atLeast, type SessionView } from '../../cases/users.ts';
import { html, type Safe } from '../html.ts';
import { codeField } from './account.ts';

/** Wrong codes given with the user's password before this sign-in: on every page of the session, since they may not be theirs. */
function wrongCodesAlert(n: number | undefined): Safe | '' {
  if (!n) return '';
  const what = n === 1 ? '1 wrong authenticator code was' : `${n} wrong authenticator codes were`;
  return html`<p class="error" id="wrong-codes-alert">
    ${what} entered with your password since your last sign-in. If that was not you, someone knows your password: change
    it now (your name, top right) and tell an admin.
  </p>`;
}

export function page(title: string, body: Safe, session?: SessionView): string {
  const nav = session
    ? html`<header class="top">
        <a class="brand" href="/console/queue">Leakguard</a>
        <nav>
          <a href="/console/queue">Queue</a> · <a href="/console/dashboard">Dashboard</a> ·
          <a href="/console/breaches">Breaches</a
          >${atLeast(session.role, 'admin') ? html` · <a href="/console/admin/users">Users</a> · <a href="/console/admin/audit">Audit log</a>` : ''}
        </nav>
        <div class="who">
          <a href="/console/account" id="current-user">${session.username}</a><span class="muted">${session.role}</span>
          <form method="post" action="/console/logout">
            <input type="hidden" name="_csrf" value="${session.csrfToken}" /><button
              class="link"
              type="submit"
              id="logout"
            >
              Log out
            </button>
          </form>
        </div>
      </header>`
    : html`<header class="top"><span class="brand">Leakguard console</span></header>`;
  const alert = session ? wrongCodesAlert(session.wrongCodesBefore) : '';
  return `<!doctype html>\n${
    html`<html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · Leakguard</title>
        <link rel="stylesheet" href="/console/assets/console.css" />
      </head>
      <body>
        ${nav} ${alert}
        <main>${body}</main>
      </body>
    </html>`.html
  }`;
}

/** `carried`: hidden fields the form sends back with the sign-in (a decision kept from an expired session: resume.ts). */
export function loginPage(csrf: string, message?: string, notice?: string, carried?: Safe): Safe {
  return html`<div class="card login">
    <h1>Sign in</h1>
    ${notice ? html`<p class="notice" id="notice">${notice}</p>` : ''}${message ? html`<p class="error" id="login-error">${message}</p>` : ''}
    <form method="post" action="/console/login" autocomplete="off">
      <input type="hidden" name="_csrf" value="${csrf}" />${carried ?? ''}
      <label>Username <input name="username" id="username" required autocomplete="username" maxlength="64" /></label>
      <label
        >Password
        <input name="password" id="password" type="password" required autocomplete="current-password" maxlength="200"
      /></label>
      ${codeField('Authenticator code')}
      <button type="submit" id="sign-in">Sign in</button>
    </form>
  </div>`;
}

export function errorPage(status: number, message: string): Safe {
  return html`<div class="card">
    <h1>${status === 403 ? 'Not allowed' : status === 404 ? 'Not found' : 'Something went wrong'}</h1>
    <p id="error-message">${message}</p>
    <p><a href="/console/queue">Back to the queue</a></p>
  </div>`;
}
