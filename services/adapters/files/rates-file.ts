// The exchange-rate file: loaded at start-up (a table that does not validate stops the start),
// re-read when it changes or on SIGHUP, like the ruleset. A new table that does not validate is
// refused and the one in force stays.
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

export class RatesFile extends WatchedFile<RateTable> {
  /** `accept`: throws to refuse a table that validates but cannot be served with what else is in force. */
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

  get rates(): RateTable {
    return this.current;
  }
}
