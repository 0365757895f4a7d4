// Runs the generator to files: the handbook dataset, optionally with the breach scenario.
import { generateHandbook, generatePopulation, type HandbookOptions } from './handbook.ts';
import { writeDay } from './csv.ts';
import { BreachScenario, type BreachOptions, type BreachSummary } from './breach.ts';

export interface SimulationSummary {
  files: number;
  transactions: number;
  frauds: number;
  byScenario: Record<string, number>;
  fraudCards: number;
  breach?: BreachSummary;
}

export function simulate(
  opts: HandbookOptions,
  out: string,
  breach: BreachOptions | undefined,
  progress?: (days: number, rows: number) => void,
): SimulationSummary {
  const pop = generatePopulation(opts);
  const scenario = breach ? new BreachScenario(breach, opts, pop) : undefined;
  const summary: SimulationSummary = { files: 0, transactions: 0, frauds: 0, byScenario: {}, fraudCards: 0 };
  const fraudCards = new Set<number>();
  for (const b of generateHandbook(opts, pop, scenario?.hook)) {
    writeDay(out, opts.startDate, b, scenario?.columns(b));
    summary.files++;
    summary.transactions += b.n;
    for (let i = 0; i < b.n; i++) {
      if (b.fraud[i]) {
        summary.frauds++;
        fraudCards.add(b.customer[i]!);
        const s = String(b.scenario[i]);
        summary.byScenario[s] = (summary.byScenario[s] ?? 0) + 1;
      }
    }
    progress?.(summary.files, summary.transactions);
  }
  summary.fraudCards = fraudCards.size;
  if (scenario) {
    scenario.writeSideFiles(out);
    summary.breach = scenario.summary();
  }
  return summary;
}
