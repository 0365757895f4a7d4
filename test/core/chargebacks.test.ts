import { describe, expect, it } from 'vitest';
import {
  chargebackKind,
  DISPUTED_CHARGEBACK,
  knownReasonCode,
  normalisedReasonCode,
  recordedOutcome,
} from '../../services/core/chargebacks.ts';

describe('chargeback reason codes', () => {
  it("tells a holder's dispute of a purchase from fraud, by network", () => {
    for (const code of [
      '13.1',
      '13.3',
      '12.6.1',
      '12.6.2',
      '12.4',
      ' 13.7 ',
      '4853',
      '4855',
      '4834',
      'C08',
      'p01',
      '30',
      '85',
    ])
      expect(chargebackKind(code), code).toBe('dispute');
    for (const code of ['10.4', '10.1', '11.1', '4837', '4863', '4870', 'F29', 'UA02', '83', '57'])
      expect(chargebackKind(code), code).toBe('fraud');
  });

  it("reads authorisation and other networks' processing codes as disputes; cards reported lost or stolen stay fraud", () => {
    // Visa 11.2 / 11.3: the merchant went on without an approval. Mastercard 4808 likewise, and 4812
    // (account number not on file). Amex retrieval (R) and miscellaneous (M) codes, and its
    // authorisation codes A01, A02, A08 (counted as fraud until a review found them so). Discover's
    // processing and goods codes.
    for (const code of ['11.2', '11.3', '4808', '4812', 'R13', 'M01', 'A01', 'A02', 'A08', 'Amex A08', 'AP', 'RG'])
      expect(chargebackKind(code), code).toBe('dispute');
    for (const code of ['RN2', 'DA', 'NA']) expect(chargebackKind(code), code).toBe('dispute');
    // Visa 11.1 and Mastercard 4807: the card was on the recovery or warning bulletin (lost or
    // stolen). Discover UA codes and AA.
    for (const code of ['11.1', '4807', 'UA01', 'UA02', 'AA', 'FR4', 'F10'])
      expect(chargebackKind(code), code).toBe('fraud');
  });

  it("reads a code with its network's name before it, or its groups joined by other than dots", () => {
    const forms: [string, string][] = [
      ['Visa 13.1', '13.1'],
      ['VISA-13.1', '13.1'],
      ['13-1', '13.1'],
      ['12_6_1', '12.6.1'],
      ['13 7', '13.7'],
      ['visa10.4', '10.4'],
      ['MC 4853', '4853'],
      ['Mastercard: 4853', '4853'],
      ['MC4837', '4837'],
      ['Amex C08', 'C08'],
      ['American Express F29', 'F29'],
      ['Discover RG', 'RG'],
      ['M01', 'M01'],
    ];
    for (const [given, read] of forms) expect(normalisedReasonCode(given), given).toBe(read);
    expect(chargebackKind('Visa 13.1')).toBe('dispute');
    expect(chargebackKind('13-1')).toBe('dispute');
    expect(chargebackKind('MC 4837')).toBe('fraud');
  });

  it('knows which codes its tables hold: the rest count as fraud and are counted apart', () => {
    for (const code of ['10.4', '11.1', '13.1', '4837', '4853', 'F29', 'C08', 'UA02', '83', 'Visa 10.4'])
      expect(knownReasonCode(code), code).toBe(true);
    for (const code of [undefined, '', 'XYZ', '14.1', '4999', '13', 'C1'])
      expect(knownReasonCode(code), code).toBe(false);
  });

  it('counts a code it does not know, or none, as fraud, as every chargeback did before', () => {
    for (const code of [undefined, '', 'XYZ', '14.1', '4999', '13', 'C1'])
      expect(chargebackKind(code), code).toBe('fraud');
  });

  it('records a disputed chargeback apart and every other outcome as reported', () => {
    expect(recordedOutcome('chargeback', '13.1')).toBe(DISPUTED_CHARGEBACK);
    expect(recordedOutcome('chargeback', '10.4')).toBe('chargeback');
    expect(recordedOutcome('declined', '13.1')).toBe('declined');
  });
});
