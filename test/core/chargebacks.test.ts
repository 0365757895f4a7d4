import { describe, expect, it } from 'vitest';
import { chargebackKind, DISPUTED_CHARGEBACK, recordedOutcome } from '../../services/core/chargebacks.ts';

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
