// A small breach world for tests (npm run simulate -- --breach in miniature): 300 customers, 600
// terminals, two breaches (days 20 and 34, 2018-04-21 and 2018-05-05) whose cards are used 2–8 days
// later, issuers uploading their lists within days. Written into `dir` by the simulator itself.
import { simulate } from '../../models/simulator/run.ts';
import { HANDBOOK_DEFAULTS, type HandbookOptions } from '../../models/simulator/handbook.ts';
import { BREACH_DEFAULTS, type BreachOptions } from '../../models/simulator/breach.ts';

const SMALL_BREACH_HANDBOOK: HandbookOptions = {
  ...HANDBOOK_DEFAULTS,
  customers: 300,
  terminals: 600,
  days: 60,
  seed: 5,
  terminalsPerDay: 1,
  customersPerDay: 1,
};

export const SMALL_BREACH: BreachOptions = {
  ...BREACH_DEFAULTS,
  breachDay: 20,
  breachInterval: 14,
  exposureDays: 20,
  delayMinDays: 2,
  delayMaxDays: 8,
  useShare: 0.5,
  issuerLagMinDays: 1,
  issuerLagMaxDays: 4,
  issuerCoverage: 0.8,
};

/** The small breach world in `dir`, over `days` (60 by default), with other breach options if given. */
export function simulateSmallBreach(dir: string, o: { days?: number; breach?: BreachOptions } = {}): void {
  simulate({ ...SMALL_BREACH_HANDBOOK, days: o.days ?? SMALL_BREACH_HANDBOOK.days }, dir, o.breach ?? SMALL_BREACH);
}
