// The exchange-rate file: loaded at start-up (a table that does not validate stops the start),
// re-read when it changes or on SIGHUP, like the ruleset. A new table that does not validate, or
// that changes the reference currency, is refused and the one in force stays.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { parseRateTable, type RateTable } from '../../core/currency.ts';
import { WatchedFile, type ReloadResult } from './watched-file.ts';

export const DEFAULT_RATES_PATH = new URL('../../rates/default.yaml', import.meta.url).pathname;

export function readRatesFile(path: string = DEFAULT_RATES_PATH): RateTable {
  let doc: unknown;
  try {
    doc = parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read rate table ${path}: ${(error as Error).message}`, { cause: error });
  }
  return parseRateTable(doc, path);
}

/**
 * The refusal of a reloaded table whose reference is not the one in force. The velocity counters
 * add up reference amounts written with the table in force (in Redis they outlive the reload), and
 * the rules' thresholds are amounts in that reference: switching it in place would add amounts in
 * two currencies together and shift every threshold by the exchange rate. A restart is the way.
 */
export function referenceChangeAtReload(inForce: RateTable, table: RateTable): string {
  return (
    `reference currency change refused: the rate table in force (${inForce.version}) converts amounts into ${inForce.reference}, ` +
    `this table's reference is ${table.reference}: the velocity counters hold amounts in ${inForce.reference} ` +
    `and the rules' thresholds are ${inForce.reference} amounts. Keep the reference ${inForce.reference}, or change it at a restart, ` +
    `with the rules rewritten in ${table.reference} (docs/currencies.md, "Changing the reference currency")`
  );
}

export class RatesFile extends WatchedFile<RateTable> {
  /**
   * `accept`: throws to refuse a table that validates but cannot be served with what else is in
   * force (checked first). A reloaded table that changes the reference is always refused.
   */
  constructor(
    path: string,
    onReload: (result: ReloadResult) => void = () => {},
    accept: (table: RateTable) => void = () => {},
  ) {
    super(
      path,
      (p) => {
        const table = readRatesFile(p);
        accept(table);
        return table;
      },
      (t) => t.version,
      onReload,
    );
  }

  /** The first table may be in any reference; a reload keeps it (referenceChangeAtReload). */
  protected override refuseChange(inForce: RateTable, table: RateTable): void {
    if (table.reference !== inForce.reference) throw new Error(referenceChangeAtReload(inForce, table));
  }

  get rates(): RateTable {
    return this.current;
  }
}
