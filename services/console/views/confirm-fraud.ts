// "Mark fraud" asks once more (the console runs no script: a page, not a dialog): what the
// decision will put on the negative lists, for how long, then the same form with confirm=1. Cancel
// is a button of that form, not a link: the note goes back to the case with it (cancel=1 decides nothing).
import type { CaseRecord } from '../../cases/model.ts';
import type { SessionView } from '../../cases/users.ts';
import { consoleHref, html, type Safe } from '../html.ts';

const KINDS = { device: 'device', ip: 'IP', email: 'email', shipping: 'shipping address' } as const;

export function confirmFraudPage(c: CaseRecord, session: SessionView, note: string, listDays: number): Safe {
  const listed = (Object.keys(KINDS) as (keyof typeof KINDS)[]).filter((k) => c.links[k]).map((k) => KINDS[k]);
  return html`<section class="card" id="confirm-fraud-page">
    <h1>Mark case #${c.id} as fraud?</h1>
    <ul id="confirm-effects">
      <li>
        ${
          listed.length
            ? html`Its ${listed.join(', ')} go on the negative lists for ${listDays} days: every merchant's next order
              using them scores higher (device and shipping address together: the decline band).`
            : html`It has no device, IP, email or shipping address: nothing goes on the negative lists.`
        }
      </li>
      <li>The transaction is labelled fraud for the model, breach discovery and backtests.</li>
      <li>Only a lead can reverse it.</li>
    </ul>
    <form method="post" action="${consoleHref(`/console/cases/${c.id}/decision`)}" id="confirm-fraud-form">
      <input type="hidden" name="_csrf" value="${session.csrfToken}" />
      <input type="hidden" name="action" value="mark_fraud" />
      <input type="hidden" name="confirm" value="1" />
      <input type="hidden" name="note" value="${note}" />
      <button class="fraud" type="submit" id="confirm-fraud">Confirm: mark fraud</button>
      <button type="submit" name="cancel" value="1" id="cancel-fraud">Cancel</button>
    </form>
  </section>`;
}
