// Administration pages: console users (with a new account's enrolment code shown once) and the audit log.
import type { AuditEntry } from '../../cases/audit.ts';
import { CONSOLE_ROLES, type ConsoleUser, type SessionView } from '../../cases/users.ts';
import { consoleHref, html, type Safe } from '../html.ts';
import { select } from './parts.ts';

export function usersPage(
  users: ConsoleUser[],
  session: SessionView,
  created?: { username: string; code: string; expiresAt: string },
  message?: string,
): Safe {
  return html`<h1>Users</h1>
    ${message ? html`<p class="notice" id="notice">${message}</p>` : ''}
    ${
      created
        ? html`<div class="card" id="new-enrolment">
            <h2>Enrolment code for ${created.username} — shown once</h2>
            <p>Code: <span class="secret" id="enrolment-code">${created.code}</span></p>
            <p>
              Valid once, until <span id="enrolment-expires">${created.expiresAt}</span>. Give it to ${created.username}
              by another channel than the username; they open
              <a href="${consoleHref('/console/enrol', { username: created.username })}" id="enrolment-link"
                >/console/enrol</a
              >, enter it, and set their own password and authenticator. Until then nobody signs in as
              ${created.username}; you never learn their password or second factor.
            </p>
          </div>`
        : ''
    }
    <div class="card">
      <h2>Create a user</h2>
      <form method="post" action="/console/admin/users" class="filters" id="create-user">
        <input type="hidden" name="_csrf" value="${session.csrfToken}" />
        <label>Username <input name="username" id="new-username" required maxlength="64" /></label>
        <label>Role ${select('role', CONSOLE_ROLES, 'analyst')}</label
        ><button type="submit" id="create-user-button">Create</button>
      </form>
    </div>
    <table id="users">
      <thead>
        <tr>
          <th>User</th>
          <th>Role</th>
          <th>State</th>
          <th>Failed attempts</th>
          <th>Actions</th>
        </tr>
      </thead>
      <tbody>
        ${users.map(
          (u) =>
            html`<tr data-user="${u.username}">
              <td>${u.username}</td>
              <td>${u.role}</td>
              <td>${userState(u)}</td>
              <td>
                ${u.failedAttempts}${u.codeFailures > 0 ? html`<br /><span class="muted">wrong codes: ${u.codeFailures}</span>` : ''}
              </td>
              <td>
                <form method="post" action="${consoleHref(`/console/admin/users/${u.username}`)}" class="filters">
                  <input type="hidden" name="_csrf" value="${session.csrfToken}" />
                  ${select('role', CONSOLE_ROLES, u.role)}<button name="op" value="role">Set role</button>
                  <button name="op" value="${u.disabled ? 'enable' : 'disable'}">
                    ${u.disabled ? 'Enable' : 'Disable'}
                  </button>
                  <button name="op" value="unlock">Unlock</button
                  ><button name="op" value="reset">Reset credentials</button>
                </form>
              </td>
            </tr>`,
        )}
      </tbody>
    </table>`;
}

/** Disabled, locked (for the failing addresses, or its second factor for every address), or active. */
function userState(u: ConsoleUser): string {
  if (u.disabled) return 'disabled';
  if (u.enrolmentPending)
    return u.enrolmentExpiresAt
      ? `enrolment pending until ${u.enrolmentExpiresAt}`
      : 'enrolment code expired: reset the credentials for a new one';
  const at = Date.now();
  const states: string[] = [];
  // Wrong codes with the right password: the password is known to someone, whatever address they use.
  if (u.codeLockedUntil && Date.parse(u.codeLockedUntil) > at)
    states.push(
      `second factor locked for every address until ${u.codeLockedUntil} (wrong codes: reset the credentials)`,
    );
  if (u.lockedUntil && Date.parse(u.lockedUntil) > at)
    states.push(`locked for the failing addresses until ${u.lockedUntil}`);
  return states.length ? states.join('; ') : 'active';
}

/** Entries a page of the audit log shows; the plugin reads one more, which says whether there are older ones. */
export const AUDIT_PAGE = 100;

export function auditPage(
  read: AuditEntry[],
  filter: { action?: string; actor?: string },
  session: SessionView,
  verify?: { ok: boolean; checked: number; brokenAt?: number; reason?: string },
): Safe {
  const entries = read.slice(0, AUDIT_PAGE);
  const last = entries[entries.length - 1];
  // A filtered page's last entry is rarely #1: whether older ones match is what the extra entry tells.
  const older = read.length > AUDIT_PAGE;
  return html`<h1>Audit log</h1>
    ${verify ? html`<p class="notice" id="verify-result">${verify.ok ? `Chain intact: ${verify.checked} entries verified.` : `Chain broken at entry ${verify.brokenAt}: ${verify.reason}`}</p>` : ''}
    <div class="card">
      <form class="filters" method="get" action="/console/admin/audit">
        <label>Action <input name="action" value="${filter.action ?? ''}" maxlength="64" /></label>
        <label>Actor <input name="actor" value="${filter.actor ?? ''}" maxlength="128" /></label
        ><button type="submit">Filter</button>
        <a href="/console/admin/audit?verify=1" id="verify-chain">Verify chain</a> ·
        <a href="/console/admin/audit/export" id="export-audit">Export (NDJSON)</a>
      </form>
    </div>
    <table id="audit">
      <thead>
        <tr>
          <th>#</th>
          <th>At</th>
          <th>Actor</th>
          <th>Action</th>
          <th>Target</th>
          <th>Detail</th>
          <th>Hash</th>
        </tr>
      </thead>
      <tbody>
        ${entries.map(
          (e) =>
            html`<tr>
              <td>${e.seq}</td>
              <td>${e.at}</td>
              <td>${e.actor}</td>
              <td>${e.action}</td>
              <td>${e.target}</td>
              <td><pre class="detail">${JSON.stringify(e.detail)}</pre></td>
              <td class="muted">${e.hash.slice(0, 12)}…</td>
            </tr>`,
        )}
      </tbody>
    </table>
    ${last && older ? html`<div class="pager"><a href="${consoleHref('/console/admin/audit', { before: last.seq, action: filter.action, actor: filter.actor })}" id="older">Older →</a></div>` : ''}`;
}
