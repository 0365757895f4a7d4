// A card number never reaches a log line, an error response or a metric, whatever the client sends.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../services/logger.ts';
import { bearer, buildTestApp, type TestApp } from '../support/app.ts';

const PAN = '4111111111111111';
const PAN_RUNS = [PAN, '4111-1111-1111-1111', '4111 1111 1111 1111', '5555555555554444'];

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ LOG_LEVEL: 'trace' });
});
afterAll(() => t.close());

const noPanIn = (text: string) => {
  for (const run of PAN_RUNS) expect(text).not.toContain(run);
};

describe('card numbers stay out of logs and outputs', () => {
  it('masks card numbers in log fields, messages and nested objects', () => {
    const lines: string[] = [];
    const log = createLogger('info', { write: (l: string) => lines.push(l) });
    log.info(
      {
        card: { number: PAN },
        note: `customer typed 4111 1111 1111 1111 in the name`,
        nested: { deep: [{ pan: '5555555555554444' }] },
      },
      `declined ${PAN}`,
    );
    log.error({ err: new Error(`upstream said 4111-1111-1111-1111`) }, 'failure');
    const text = lines.join('');
    noPanIn(text);
    expect(text).toContain('411111******1111');
    expect(text).toContain('[redacted]');
  });

  it('keeps them out of every response and log of hostile requests', async () => {
    const requests = [
      { url: '/v1/score', payload: `{"card":{"number":"${PAN}"` },
      {
        url: '/v1/score',
        payload: JSON.stringify({
          transactionId: PAN,
          amount: PAN,
          currency: PAN,
          channel: PAN,
          card: { number: PAN, expiryMonth: PAN, expiryYear: 1, cvv: PAN },
          customer: { email: `${PAN}@x`, phone: PAN },
          items: [{ name: PAN }],
        }),
      },
      {
        url: '/v1/score',
        payload: JSON.stringify({
          transactionId: 'x',
          amount: 1,
          currency: 'EUR',
          channel: 'pos',
          card: { number: `${PAN}0`, expiryMonth: 1, expiryYear: 2030 },
        }),
      },
      { url: `/v1/transactions/${PAN}/outcome`, payload: JSON.stringify({ outcome: PAN }) },
      { url: `/v1/${PAN}`, payload: '{}' },
    ];
    for (const r of requests) {
      const res = await t.app.inject({
        method: 'POST',
        url: r.url,
        headers: { ...bearer(t.keys.merchant), 'content-type': 'application/json' },
        payload: r.payload,
      });
      expect(res.statusCode).toBeGreaterThanOrEqual(400);
      expect(res.statusCode).toBeLessThan(500);
      noPanIn(res.body);
      expect(res.body).not.toMatch(/at .*\.ts:\d+/); // never a stack trace
    }
    const ok = await t.app.inject({
      method: 'POST',
      url: '/v1/score',
      headers: bearer(t.keys.merchant),
      payload: {
        transactionId: 'ok-1',
        amount: 100,
        currency: 'EUR',
        channel: 'ecommerce',
        card: { number: PAN, expiryMonth: 1, expiryYear: 2030 },
      },
    });
    expect(ok.statusCode).toBe(200);
    noPanIn(ok.body);
    noPanIn((await t.app.inject('/metrics')).body);
    noPanIn(t.logs.join(''));
  });
});
