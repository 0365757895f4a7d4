// Prometheus metrics. Labels are closed sets (route patterns, decisions, stages): a card number,
// or any request-supplied string, can never become a label value.
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EngineObserver } from './core/engine.ts';

export class Metrics {
  readonly registry = new Registry();
  readonly requestDuration = new Histogram({
    name: 'leakguard_http_request_duration_seconds',
    help: 'HTTP request latency by route pattern and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly decisions = new Counter({ name: 'leakguard_decisions_total', help: 'Decisions by outcome', labelNames: ['decision'], registers: [this.registry] });
  readonly degraded = new Counter({ name: 'leakguard_degraded_responses_total', help: 'Responses given without every signal', registers: [this.registry] });
  readonly storeErrors = new Counter({
    name: 'leakguard_redis_errors_total',
    help: 'Velocity store failures (Redis errors and deadline overruns) by stage',
    labelNames: ['stage'],
    registers: [this.registry],
  });
  readonly watchlistHits = new Counter({
    name: 'leakguard_watchlist_hits_total',
    help: 'Scorings of listed cards, by compromise event and merchant',
    labelNames: ['event', 'merchant'],
    registers: [this.registry],
  });
  readonly watchlistCards = new Counter({
    name: 'leakguard_watchlist_upload_lines_total',
    help: 'Card-list upload lines by result',
    labelNames: ['result'],
    registers: [this.registry],
  });
  readonly rulesetReloads = new Counter({ name: 'leakguard_ruleset_reloads_total', help: 'Ruleset reloads by result', labelNames: ['result'], registers: [this.registry] });
  readonly modelReloads = new Counter({ name: 'leakguard_model_reloads_total', help: 'Model artifact reloads by result', labelNames: ['result'], registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  observer(): EngineObserver {
    return {
      decision: (response) => {
        this.decisions.inc({ decision: response.decision });
        if (response.degraded) this.degraded.inc();
      },
      storeError: (_error, stage) => this.storeErrors.inc({ stage }),
      watchlistHit: (eventIds, merchant) => {
        for (const event of eventIds) this.watchlistHits.inc({ event, merchant });
      },
    };
  }
}
