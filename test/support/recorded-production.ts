// Production in small, for tests of what a recording replays: engines on a clock and one in-memory
// store, with the default ruleset and rates, asking the watchlist and the analysts' lists at every
// scoring as deployed, and recording what they score and the outcomes they are told as the engines
// do (a TrafficRecorder writing into `lines`).
import { Engine, type ScoreResult } from '../../services/core/engine.ts';
import type { CardKeyring } from '../../services/core/card.ts';
import { ALL_FEATURES } from '../../services/core/features.ts';
import type { ScoreRequest } from '../../services/core/schemas.ts';
import { DEFAULT_RULESET_PATH, readRulesetFile } from '../../services/adapters/files/ruleset-file.ts';
import { DEFAULT_RATES_PATH, readRatesFile } from '../../services/adapters/files/rates-file.ts';
import { MemoryVelocityStore } from '../../services/adapters/memory/velocity-store.ts';
import { TrafficRecorder } from '../../services/recording/recorder.ts';
import type { RecordLine } from '../../services/recording/record.ts';

const PRODUCTION_KEYRING: CardKeyring = { primary: { id: 'k', secret: Buffer.alloc(32, 7) } };

export class RecordedProduction {
  clock: number;
  readonly lines: RecordLine[] = [];
  readonly recorder = new TrafficRecorder({
    sink: { write: async (batch) => void this.lines.push(...batch), close: async () => {} },
    flushMs: 60_000,
  });
  readonly store: MemoryVelocityStore;
  private readonly ruleset = readRulesetFile(DEFAULT_RULESET_PATH, new Set(ALL_FEATURES));
  private readonly rates = readRatesFile(DEFAULT_RATES_PATH);

  constructor(start: number) {
    this.clock = start;
    this.store = new MemoryVelocityStore({ now: () => this.clock });
  }

  /** An engine of this production (one per key ring, on the same store); `onScored` sees each scoring too. */
  engine(
    keyring: CardKeyring = PRODUCTION_KEYRING,
    onScored?: (request: ScoreRequest, result: ScoreResult) => void,
  ): Engine {
    return new Engine({
      store: this.store,
      keyring,
      ruleset: () => this.ruleset,
      rates: () => this.rates,
      deadlineMs: 60_000,
      now: () => this.clock,
      watchlistEvents: () => new Map(),
      lists: true,
      observer: {
        scored: (merchantId, request, result) => {
          this.recorder.scored(merchantId, request, result);
          onScored?.(request, result);
        },
        outcomeRecorded: (merchantId, transactionId, outcome, at, reportedAt) =>
          this.recorder.outcome(merchantId, transactionId, outcome, at, reportedAt),
      },
    });
  }

  /** Writes what waits; the recording is then whole in `lines`. */
  async close(): Promise<void> {
    await this.recorder.close();
    await this.store.close();
  }
}
