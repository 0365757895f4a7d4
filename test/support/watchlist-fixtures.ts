// What the watchlist store contracts share: a fingerprint key, a time, and one compromise event.
import type { CompromiseEventInput } from '../../services/core/watchlist.ts';

export const FIXTURE_CARD_KEY = { id: 'k', secret: Buffer.alloc(32, 7) };
/** Epoch seconds: when the fixtures' cards are listed. */
export const FIXTURE_NOW = 1_790_000_000;
export const FIXTURE_EVENT: Omit<CompromiseEventInput, 'issuerId'> = {
  externalId: 'breach-1',
  source: 'network alert',
  description: 'processor breach',
  exposureStart: '2026-01-01T00:00:00Z',
  exposureEnd: '2026-06-30T00:00:00Z',
  discoveredAt: '2026-08-01T00:00:00Z',
  dataElements: ['pan', 'expiry', 'cvv'],
  confidence: 'confirmed',
};
