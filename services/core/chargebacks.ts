// Which chargebacks say the card was used without its holder. A chargeback's network reason code
// tells a fraud dispute ("I did not make this transaction") from a dispute the holder raises over a
// transaction they made (goods not received, not as described, a duplicate or wrong amount, a
// cancelled subscription). Only the first is evidence against the card, its devices and addresses,
// its merchants (breach discovery) and the model's labels: counting a holder's complaint about a
// late parcel as fraud stepped up or held the holder's next orders.

/**
 * The holder's own disputes and the merchant's processing errors, by network:
 * - Visa Claims Resolution: 11.2 declined and 11.3 no authorisation (processing: the merchant went
 *   on without an approval; 11.1, a card on the recovery bulletin, lost or stolen, stays fraud),
 *   12.x processing errors (12.6.1 duplicate, 12.6.2 paid by other means included), 13.x consumer
 *   disputes (10.x is fraud); Visa's earlier numeric codes 30 services not provided, 41 cancelled
 *   recurring, 53 not as described, 80 incorrect amount, 82 duplicate processing, 85 credit not
 *   processed, 86 paid by other means;
 * - Mastercard: 4808 authorisation-related (and 4812, account number not on file, one of the codes
 *   4808 replaced), 4831 amount differs, 4834 point-of-interaction error
 *   (duplicate), 4841 cancelled recurring, 4842 late presentment, 4846 wrong currency, 4853 and
 *   4854 cardholder dispute, 4855 goods or services not provided, 4859 addendum, no-show or ATM
 *   dispute, 4860 credit not processed (4837, 4840, 4849, 4863, 4870 and 4871 are fraud, and 4807,
 *   a card on the warning bulletin, lost or stolen, as Visa's 11.1);
 * - American Express: C (card member disputes), P (processing errors), R (retrieval: no or an
 *   insufficient reply) and M (miscellaneous: authorisation, programme) codes, and A01, A02 and A08
 *   (authorisation: more than was approved, no valid approval, an approval expired); F and FR codes
 *   are fraud;
 * - Discover: AP cancelled recurring, AW altered amount, CD credit posted as a debit, DA declined
 *   and NA no authorisation, DP duplicate processing, EX expired card, LP late presentment, RG goods
 *   not received, RM not as described, RN2 credit not received (UA codes are fraud; AA, "does not
 *   recognise", stays fraud).
 * A code not known here counts as fraud, as every chargeback did before reason codes were read
 * (counted: leakguard_chargeback_reason_codes_unknown_total).
 */
const DISPUTE_CODES: readonly RegExp[] = [
  /^1[23]\.\d{1,2}(\.\d)?$/,
  /^11\.[23]$/,
  /^(30|41|53|80|82|85|86)$/,
  /^[CPRM]\d{2}$/,
  /^A0[128]$/,
  /^(AP|AW|CD|DA|NA|DP|EX|LP|RG|RM|RN2)$/,
];
const MASTERCARD_DISPUTES = new Set([
  '4808',
  '4812',
  '4831',
  '4834',
  '4841',
  '4842',
  '4846',
  '4853',
  '4854',
  '4855',
  '4859',
  '4860',
]);
/** Codes known to say fraud: Visa 10.x and 11.1, its earlier 57, 62, 75, 81, 83, 93; Mastercard's (4807 too); Amex F and FR; Discover UA and AA. */
const FRAUD_CODES: readonly RegExp[] = [
  /^10\.\d{1,2}$/,
  /^11\.1$/,
  /^(57|62|75|81|83|93)$/,
  /^(4807|4837|4840|4849|4863|4870|4871)$/,
  /^F(R)?\d{1,2}$/,
  /^(UA\d{2}|AA)$/,
];

/**
 * A reason code as the tables read it: upper case, without a network's name before it (`Visa
 * 13.1`, `MC-4853`, `Amex: C08`) and with Visa's groups joined by dots whatever joined them (`13-1`,
 * `12_6_1`).
 */
export function normalisedReasonCode(reasonCode: string | undefined): string {
  const code = (reasonCode ?? '')
    .trim()
    .toUpperCase()
    .replace(/^(VISA|MASTER\s*CARD|MC|AMEX|AMERICAN\s+EXPRESS|DISCOVER)(?![A-Z])[\s:#._-]*/, '');
  const visa = /^(\d{2})[\s._-](\d{1,2})(?:[\s._-](\d))?$/.exec(code);
  return visa ? [visa[1], visa[2], visa[3]].filter(Boolean).join('.') : code;
}

export type ChargebackKind = 'fraud' | 'dispute';

export function chargebackKind(reasonCode: string | undefined): ChargebackKind {
  return isDispute(normalisedReasonCode(reasonCode)) ? 'dispute' : 'fraud';
}

const isDispute = (code: string) => MASTERCARD_DISPUTES.has(code) || DISPUTE_CODES.some((re) => re.test(code));

/** Whether the tables know a code (as a dispute or as fraud): one they do not counts as fraud, and is counted. */
export function knownReasonCode(reasonCode: string | undefined): boolean {
  const code = normalisedReasonCode(reasonCode);
  return isDispute(code) || FRAUD_CODES.some((re) => re.test(code));
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
