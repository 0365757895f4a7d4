// What issuer tests do through the API: declare a compromise event, list cards in it.
import { expect } from 'vitest';
import { bearer, type TestApp } from './app.ts';

let declared = 0;

/**
 * A compromise event declared through the API: by an admin for `issuerId` (who may then list any card
 * in it), or under an issuer's own key. Expects it created.
 */
export async function declareEvent(
  t: TestApp,
  dataElements: string[],
  { key = t.keys.admin, issuerId, ...extra }: { key?: string; issuerId?: string } & Record<string, unknown> = {},
): Promise<{ id: string; externalId: string; statistics: Record<string, unknown> }> {
  const res = await t.app.inject({
    method: 'POST',
    url: '/v1/compromise-events',
    headers: bearer(key),
    payload: {
      externalId: `ev-${process.pid}-${++declared}`,
      source: 'card network alert',
      description: 'test breach',
      exposureStart: '2026-05-01T00:00:00Z',
      exposureEnd: '2026-10-31T00:00:00Z',
      discoveredAt: '2026-11-10T00:00:00Z',
      dataElements,
      confidence: 'confirmed',
      ...(issuerId ? { issuerId } : {}),
      ...extra,
    },
  });
  expect([200, 201], res.body).toContain(res.statusCode);
  return res.json();
}

/** A card list uploaded to an event as CSV (an admin's key unless told): the upload's report. */
export async function listCards(t: TestApp, eventId: string, body: string, key = t.keys.admin) {
  const res = await t.app.inject({
    method: 'POST',
    url: `/v1/compromise-events/${eventId}/cards`,
    headers: { ...bearer(key), 'content-type': 'text/csv' },
    payload: body,
  });
  return res.json();
}

/** Each issuer's BIN ranges, set by an admin: which card numbers it may list, remove and look up. */
export async function setBinRanges(
  t: TestApp,
  rangesByIssuer: Record<string, readonly { from: string; to: string }[]>,
): Promise<void> {
  for (const [issuer, ranges] of Object.entries(rangesByIssuer)) {
    const res = await t.app.inject({
      method: 'PUT',
      url: `/v1/issuers/${issuer}/bin-ranges`,
      headers: bearer(t.keys.admin),
      payload: ranges,
    });
    expect(res.statusCode, res.body).toBe(200);
  }
}
