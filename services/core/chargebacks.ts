// Which chargebacks say the card was used without its holder. A chargeback's network reason code
// tells a fraud dispute ("I did not make this transaction") from a dispute the holder raises over a
// transaction they made (goods not received, not as described, a duplicate or wrong amount, a
// cancelled subscription). Only the first is evidence against the card, its devices and addresses,
// its merchants (breach discovery) and the model's labels: counting a holder's complaint about a
// late parcel as fraud stepped up or held the holder's next orders.

/**
 * The holder's own disputes and the merchant's processing errors, by network:
 * - Visa Claims Resolution: 12.x processing errors (12.6.1 duplicate, 12.6.2 paid by other means
 *   included), 13.x consumer disputes (10.x is fraud; 11.x,
 *   authorisation, covers cards listed as stolen and stays with fraud); Visa's earlier numeric
 *   codes 30 services not provided, 41 cancelled recurring, 53 not as described, 80 incorrect
 *   amount, 82 duplicate processing, 85 credit not processed, 86 paid by other means;
 * - Mastercard: 4831 amount differs, 4834 point-of-interaction error (duplicate), 4841 cancelled
 *   recurring, 4842 late presentment, 4846 wrong currency, 4853 and 4854 cardholder dispute,
 *   4855 goods or services not provided, 4859 addendum, no-show or ATM dispute, 4860 credit not
 *   processed (4837, 4840, 4849, 4863, 4870 and 4871 are fraud);
 * - American Express: C (card member disputes) and P (processing errors) codes (F codes are fraud).
 * A code not known here counts as fraud, as every chargeback did before reason codes were read.
 */
const DISPUTE_CODES: readonly RegExp[] = [/^1[23]\.\d{1,2}(\.\d)?$/, /^(30|41|53|80|82|85|86)$/, /^[CP]\d{2}$/];
const MASTERCARD_DISPUTES = new Set(['4831', '4834', '4841', '4842', '4846', '4853', '4854', '4855', '4859', '4860']);

export type ChargebackKind = 'fraud' | 'dispute';

export function chargebackKind(reasonCode: string | undefined): ChargebackKind {
  const code = reasonCode?.trim().toUpperCase() ?? '';
  return MASTERCARD_DISPUTES.has(code) || DISPUTE_CODES.some((re) => re.test(code)) ? 'dispute' : 'fraud';
}

/** The outcome a holder's dispute is recorded as: kept (labels, backtests), counted nowhere. */
export const DISPUTED_CHARGEBACK = 'chargeback_dispute';

/**
 * The outcome that withdraws a fraud chargeback: the merchant won its representment, or the issuer
 * withdrew the chargeback (the holder's own purchase: friendly fraud). Everything the chargeback
 * counted stops counting (velocity counters, the merchant's fraud labels, backtests' truth), as if it
 * had not been reported; the chargeback and its reversal both stay on the record. A reversal is
 * final: the chargeback reported again is a repeat, and counts nothing.
 */
export const REVERSED_CHARGEBACK = 'chargeback_reversed';

/** What a merchant's reported outcome is recorded as: a chargeback by its reason code, the rest as reported. */
export function recordedOutcome(outcome: string, reasonCode: string | undefined): string {
  return outcome === 'chargeback' && chargebackKind(reasonCode) === 'dispute' ? DISPUTED_CHARGEBACK : outcome;
}
