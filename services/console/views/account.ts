// Pages of one's own account: enrolment with a one-time code (set one's own password and
// authenticator; no session yet) and changing one's password (signed in).
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../credentials.ts';
import type { SessionView } from '../../cases/users.ts';
import { html, type Safe } from '../html.ts';

const POLICY = `At least ${PASSWORD_MIN_LENGTH} characters (at most ${PASSWORD_MAX_LENGTH}), not containing your username, not a few characters repeated. A passphrase of several words is good.`;

/** A new password's field, or its repetition (`again`). */
const newPasswordField = (again: boolean) =>
  html`<label
    >${again ? 'New password again' : 'New password'}
    <input
      name="${again ? 'password2' : 'password'}"
      id="${again ? 'new-password2' : 'new-password'}"
      type="password"
      required
      autocomplete="new-password"
      minlength="${PASSWORD_MIN_LENGTH}"
      maxlength="${PASSWORD_MAX_LENGTH}"
  /></label>`;

const newPasswordFields = html`${newPasswordField(false)} ${newPasswordField(true)}
  <p class="muted">${POLICY}</p>`;

/** The authenticator's six digits: here and on the sign-in page. */
export const codeField = (label: string) =>
  html`<label
    >${label}
    <input
      name="code"
      id="code"
      inputmode="numeric"
      pattern="[0-9]{6}"
      required
      maxlength="6"
      autocomplete="one-time-code"
  /></label>`;

const messages = (message?: string, notice?: string) =>
  html`${notice ? html`<p class="notice" id="notice">${notice}</p>` : ''}${message ? html`<p class="error" id="enrol-error">${message}</p>` : ''}`;

/** Step 1: the username and the enrolment code an admin gave. */
export function enrolStartPage(csrf: string, username = '', message?: string): Safe {
  return html`<div class="card login">
    <h1>Set up your account</h1>
    ${messages(message)}
    <p>Enter your username and the one-time enrolment code an admin gave you.</p>
    <form method="post" action="/console/enrol" autocomplete="off">
      <input type="hidden" name="_csrf" value="${csrf}" />
      <label
        >Username
        <input name="username" id="username" required autocomplete="username" maxlength="64" value="${username}"
      /></label>
      <label
        >Enrolment code <input name="enrolmentCode" id="enrolment-code" required autocomplete="off" maxlength="64"
      /></label>
      <button type="submit" id="enrol-start">Continue</button>
    </form>
  </div>`;
}

/** Step 2: the user's own authenticator (a secret made for this page) and password. */
export function enrolFinishPage(
  csrf: string,
  v: { username: string; enrolmentCode: string; totpSecret: string; qrSvg: string },
  message?: string,
): Safe {
  return html`<div class="card login">
    <h1>Set up your account: ${v.username}</h1>
    ${messages(message)}
    <form method="post" action="/console/enrol" autocomplete="off" id="enrol-form">
      <input type="hidden" name="_csrf" value="${csrf}" />
      <input type="hidden" name="username" value="${v.username}" />
      <input type="hidden" name="enrolmentCode" value="${v.enrolmentCode}" />
      <input type="hidden" name="totpSecret" value="${v.totpSecret}" />
      <h2>1. Your authenticator</h2>
      <div class="qr">${safeQr(v.qrSvg)}</div>
      <p>
        Scan it with an authenticator app, or type the secret (SHA-1, 6 digits, 30 s):
        <span class="secret" id="totp-secret">${v.totpSecret}</span>
      </p>
      ${codeField('Code from your authenticator')}
      <h2>2. Your password</h2>
      ${newPasswordFields}
      <button type="submit" id="enrol-finish">Set password and authenticator</button>
    </form>
  </div>`;
}

/** Changing one's own password: the current one and a code first. */
export function passwordPage(session: SessionView, message?: string, notice?: string): Safe {
  return html`<div class="card login">
    <h1>Change your password</h1>
    ${messages(message, notice)}
    <form method="post" action="/console/account/password" autocomplete="off" id="password-form">
      <input type="hidden" name="_csrf" value="${session.csrfToken}" />
      <label
        >Current password
        <input
          name="current"
          id="current-password"
          type="password"
          required
          autocomplete="current-password"
          maxlength="200"
      /></label>
      ${codeField('Authenticator code')} ${newPasswordFields}
      <button type="submit" id="change-password">Change password</button>
    </form>
    <p class="muted">Every session of yours ends: sign in again with the new password.</p>
  </div>`;
}

/** The QR library's SVG is ours (no input but a base32 secret); still, only its path data passes. */
function safeQr(svg: string): Safe {
  const viewBox = /viewBox="([0-9 .]+)"/.exec(svg)?.[1] ?? '0 0 33 33';
  const paths = [
    ...svg.matchAll(/<path[^>]*?(?:fill="(#[0-9a-fA-F]{3,8})")?[^>]*?\sd="([MmHhVvZz0-9 .-]+)"[^>]*\/?>/g),
  ];
  const strokes = [...svg.matchAll(/<path[^>]*?stroke="(#[0-9a-fA-F]{3,8})"[^>]*?\sd="([MmHhVvZz0-9 .-]+)"/g)];
  // One line, no space between the elements (the console's tests read it so): kept as written.
  // prettier-ignore
  return html`<svg xmlns="http://www.w3.org/2000/svg" viewBox="${viewBox}" shape-rendering="crispEdges"><rect width="100%" height="100%" fill="#ffffff"/>${strokes.map((m) => html`<path stroke="#000000" d="${m[2]!}"/>`)}${strokes.length === 0 ? paths.map((m) => html`<path fill="#000000" d="${m[2]!}"/>`) : ''}</svg>`;
}
