// Leakguard's breach scenario (spec §5). Implemented below the handbook generator.
export interface BreachOptions {
  breaches: number;
  breachDay: number;
  breachInterval: number;
  exposureDays: number;
  delayMinDays: number;
  delayMaxDays: number;
  useShare: number;
  testingMerchants: number;
  cashoutMax: number;
  reshippers: number;
  fraudDevices: number;
  issuerCoverage: number;
  issuerLagMinDays: number;
  issuerLagMaxDays: number;
  reissueShare: number;
  ecomShare: number;
}
export const BREACH_DEFAULTS: BreachOptions = {
  breaches: 2, breachDay: 60, breachInterval: 30, exposureDays: 60, delayMinDays: 3, delayMaxDays: 21, useShare: 0.4,
  testingMerchants: 4, cashoutMax: 4, reshippers: 12, fraudDevices: 40, issuerCoverage: 0.6, issuerLagMinDays: 10,
  issuerLagMaxDays: 40, reissueShare: 0.15, ecomShare: 0.3,
};
export interface BreachSummary {
  breaches: number; leakedCards: number; usedCards: number; reissuedCards: number; testingTransactions: number;
  cashoutTransactions: number; declinedTransactions: number; issuerUploads: number; uploadedCards: number;
}
