// A card whose number was tried online (failed 3-D Secure challenges, declines) is still its
// holder's card at a till: what failed online was someone holding the card's data, and a leaked
// number makes no card a terminal reads. A review found the holder held for review (and, with the
// card listed, declined) paying in person after two failed challenges online. The same failures
// still weigh on the card's next online order.
import { describe, expect, it } from 'vitest';
import { scoreRequestSchema } from '../../services/core/schemas.ts';
import { defaultEngine } from '../support/default-engine.ts';

const keyring = { primary: { id: 'k', secret: Buffer.alloc(32, 7) } };

describe('a card tried online, then at a till', () => {
  const t0 = Date.parse('2026-11-21T10:00:00Z');
  const engine = defaultEngine({ keyring });
  const at = (minute: number) => t0 + minute * 60_000;
  const score = async (number: string, id: string, minute: number, channel: 'pos' | 'ecommerce') => {
    const result = await engine.score(
      'shop',
      scoreRequestSchema.parse({
        transactionId: id,
        occurredAt: new Date(at(minute)).toISOString(),
        amount: 3_800,
        currency: 'EUR',
        channel,
        card: { number, expiryMonth: 12, expiryYear: 2030, cvvResult: channel === 'pos' ? 'not_checked' : 'match' },
      }),
    );
    if (result.kind !== 'scored') throw new Error(`not scored: ${result.kind}`);
    return result.response;
  };
  const codes = (r: { reasons: { code: string }[] }) => r.reasons.map((x) => x.code);

  it('two failed challenges online: the till approves, the next online order is still held', async () => {
    for (const [id, minute] of [
      ['f-1', 0],
      ['f-2', 10],
    ] as const) {
      await score('5555555555554444', id, minute, 'ecommerce');
      expect(await engine.recordOutcome('shop', id, 'challenge_failed', at(minute + 2))).toBe('recorded');
    }
    const till = await score('5555555555554444', 'f-till', 30, 'pos');
    expect(codes(till)).not.toContain('CARD_FAILED_CHALLENGE_7D');
    expect(codes(till)).not.toContain('CARD_REPEATED_FAILED_CHALLENGES_24H');
    expect(till.decision).toBe('approve');

    const online = await score('5555555555554444', 'f-3', 40, 'ecommerce');
    expect(codes(online)).toEqual(
      expect.arrayContaining(['CARD_FAILED_CHALLENGE_7D', 'CARD_REPEATED_FAILED_CHALLENGES_24H']),
    );
    expect(online.decision).toBe('review');
  });

  it('two declines online: the till approves, the next online order is still flagged', async () => {
    for (const [id, minute] of [
      ['d-1', 0],
      ['d-2', 10],
    ] as const) {
      await score('4000000000000002', id, minute, 'ecommerce');
      expect(await engine.recordOutcome('shop', id, 'declined', at(minute + 1))).toBe('recorded');
    }
    const till = await score('4000000000000002', 'd-till', 30, 'pos');
    expect(codes(till)).not.toContain('CARD_RECENT_DECLINES_24H');
    expect(till.decision).toBe('approve');

    const online = await score('4000000000000002', 'd-3', 40, 'ecommerce');
    expect(codes(online)).toContain('CARD_RECENT_DECLINES_24H');
    expect(online.decision).not.toBe('approve');
  });
});
