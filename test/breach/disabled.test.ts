// Breach discovery switched off (LEAKGUARD_CPP=off): no card history is kept, scoring goes on as
// before, and an admin's scan is refused with its own code rather than answered empty.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, buildTestApp, scoreBody, type TestApp } from '../support/app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ LEAKGUARD_CPP: 'off' });
});
afterAll(() => t?.close());

describe('breach discovery off', () => {
  it('keeps no histories, scores as usual, and refuses a scan with CPP_DISABLED (409)', async () => {
    expect(t.runtime.breach).toBeUndefined();
    const scored = await t.app.inject({
      method: 'POST',
      url: '/v1/score',
      headers: bearer(t.keys.merchant),
      payload: scoreBody(),
    });
    expect(scored.statusCode).toBe(200);
    const scan = await t.app.inject({
      method: 'POST',
      url: '/v1/admin/cpp/scan',
      headers: bearer(t.keys.admin),
      payload: {},
    });
    expect(scan.statusCode).toBe(409);
    expect(scan.json()).toMatchObject({ code: 'CPP_DISABLED', error: 'breach discovery is off (LEAKGUARD_CPP=off)' });
    // Issuers' view stays answerable: no suspected event exists.
    const issuer = await t.app.inject({
      method: 'GET',
      url: '/v1/issuer/suspected-events',
      headers: bearer(t.keys.issuer),
    });
    expect(issuer.json()).toEqual({ events: [], has_more: false, next: null });
  });
});
