// The monitoring kit (ops/): the Grafana dashboard and the Prometheus alert rules name only metrics
// the processes export (the engine's /metrics scraped from the real app, the stream processor's
// registry), every metric they export is on the dashboard or in an alert (or allow-listed, with a
// reason), the dashboard's panels do not overlap, promtool accepts the rules and their unit tests
// pass (alerts fire on failing series, stay silent on healthy ones), the latency rule compares
// against the engine's default deadline, and the k6 scripts declare pass/fail thresholds.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { which } from '../../scripts/provision.ts';
import { configSchema } from '../../services/config.ts';
import { DECISIONS } from '../../services/core/schemas.ts';
import { DEAD_LETTER_REASONS } from '../../streams/messages.ts';
import { StreamMetrics } from '../../streams/metrics.ts';
import { bearer, buildTestApp, scoreBody, type TestApp } from '../support/app.ts';
import { RedisServer } from '../support/redis-server.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const OPS = join(ROOT, 'ops');
const ALERTS = join(OPS, 'prometheus', 'alerts.yml');
const ALERT_TESTS = join(OPS, 'prometheus', 'alerts.test.yml');
const SCRAPE_CONFIG = join(OPS, 'prometheus', 'prometheus.yml');
const DASHBOARD = join(OPS, 'grafana', 'leakguard.json');
const LOAD_TESTS = join(ROOT, 'load-tests');
/** Where the engine's and the stream processor's metrics are registered. */
const METRIC_SOURCES = ['services', 'streams'].map((d) => join(ROOT, d));

/**
 * Leakguard's exported metrics that are on neither the dashboard nor an alert, each with why. Any
 * other metric the engine or the stream processor exports must be on one or the other: a metric no
 * one looks at is a failure no one sees. Keep it short.
 */
const UNWATCHED: Record<string, string> = {};

/**
 * The labelled counters the alerts read, with every value of their labels: each series exported at
 * 0 from the start, so that increase() and rate() see its first event (a series that appears
 * already at 1 reads 0: a first refusal, a first lost flagged decision went unalerted).
 */
const ZERO_FROM_START: Record<string, Record<string, readonly string[]>> = {
  leakguard_flagged_lost_total: { reason: ['buffer_full', 'shutdown', 'refused_by_database'] },
  leakguard_webhook_deliveries_total: { result: ['delivered', 'failed'] },
  leakguard_webhook_attempts_total: { result: ['success', 'http_error', 'error'] },
  leakguard_ruleset_reloads_total: { result: ['ok', 'refused'] },
  leakguard_model_reloads_total: { result: ['ok', 'refused'] },
  leakguard_rate_table_reloads_total: { result: ['ok', 'refused'] },
  leakguard_rate_limit_unchecked_total: { limit: ['api', 'login'] },
  leakguard_decisions_total: { decision: DECISIONS },
  leakguard_redis_errors_total: { stage: ['deadline', 'recordAndRead', 'saveResponse', 'archive'] },
  leakguard_cpp_scans_total: { result: ['ok', 'failed', 'skipped'] },
  leakguard_stream_consumer_crashes_total: { restart: ['true', 'false'] },
  leakguard_stream_dead_letters_total: { reason: DEAD_LETTER_REASONS },
  leakguard_stream_messages_total: { outcome: ['decision', 'dead_letter', 'retry'] },
};

/**
 * Counters the alerts read whose series cannot be made at start, each with why: their label values
 * are open-ended or many, and their alerts are on a rate that lasts (the second event moves the series).
 */
const NOT_ZERO_FROM_START: Record<string, string> = {
  leakguard_watchlist_hits_total: 'labelled by compromise event id: events are made while the engine runs',
  leakguard_misnamed_fields_total:
    "labelled by the scoring schema's field paths (over 40): its alert is on an integration that keeps misnaming for an hour",
};

/** The samples of a Prometheus text exposition: name, labels and value. */
function samples(text: string): { name: string; labels: Record<string, string>; value: number }[] {
  const out: { name: string; labels: Record<string, string>; value: number }[] = [];
  for (const m of text.matchAll(/^([A-Za-z_:][\w:]*)(?:\{(.*)\})? (\S+)$/gm)) {
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** The label values an expression selects `metric` by with `label="value"` (not !=, =~, !~). */
function selectedLabels(expr: string, metric: string): [string, string][] {
  const out: [string, string][] = [];
  for (const m of expr.matchAll(new RegExp(`\\b${metric}\\{([^}]*)\\}`, 'g')))
    for (const l of m[1]!.matchAll(/(\w+)\s*=\s*"([^"]*)"/g)) out.push([l[1]!, l[2]!]);
  return out;
}

/** The engine's deadline when LEAKGUARD_DEADLINE_MS is unset. */
const DEFAULT_DEADLINE_MS: number = configSchema.shape.LEAKGUARD_DEADLINE_MS.parse(undefined);

// ---------------------------------------------------------------------------------------------
// Metric names in PromQL

// PromQL's functions and aggregations (Prometheus 2.42): an identifier followed by `(`.
const FUNCTIONS = new Set(
  [
    'abs absent absent_over_time avg_over_time ceil changes clamp clamp_max clamp_min count_over_time',
    'day_of_month day_of_week day_of_year days_in_month delta deriv exp floor group histogram_quantile',
    'holt_winters hour idelta increase irate label_join label_replace last_over_time ln log10 log2',
    'max_over_time min_over_time minute month predict_linear present_over_time quantile_over_time rate',
    'resets round scalar sgn sort sort_desc sqrt stddev_over_time stdvar_over_time sum_over_time time',
    'timestamp vector year sum min max avg count stddev stdvar topk bottomk quantile count_values',
    'acos acosh asin asinh atan atanh cos cosh sin sinh tan tanh deg rad pi',
  ]
    .join(' ')
    .split(' '),
);
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'atan2', 'Inf', 'NaN', 'inf', 'nan']);
/** Series Prometheus makes itself for every target: not exported by the processes. */
const PROMETHEUS_SERIES = new Set(['up']);

/**
 * The metric names an expression selects: every identifier that is neither a function, a keyword, a
 * label name (inside `{…}` or a `by (…)`-like clause) nor a string, number or duration. Grafana
 * variables ($engine_job, ${…}) are dropped first. Throws on a function it does not know, so that a
 * metric followed by `(` (a typo) cannot slip through as a function.
 */
function metricNames(expr: string): string[] {
  const s = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\$\{[^}]*\}|\$\w+/g, '')
    .replace(/\{[^}]*\}/g, '{}')
    .replace(/\[[^\]]*\]/g, '[]')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\b(?:group_left|group_right)\b/g, ' ')
    .replace(/\boffset\s+-?\w+/g, ' ');
  const names = new Set<string>();
  for (const m of s.matchAll(/(\d+(?:\.\d*)?(?:e[+-]?\d+)?|[A-Za-z_:][\w:]*)(\s*\()?/gi)) {
    const token = m[1]!;
    if (/^\d/.test(token) || KEYWORDS.has(token)) continue;
    if (m[2]) {
      if (!FUNCTIONS.has(token)) throw new Error(`unknown PromQL function ${token}( in: ${expr}`);
      continue;
    }
    names.add(token);
  }
  return [...names];
}

/** Metric families of a Prometheus text exposition, from its `# TYPE` lines (present even before a first observation). */
function exposedTypes(text: string): Map<string, string> {
  const types = new Map<string, string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) types.set(m[1]!, m[2]!);
  return types;
}

/** Whether a series name is exposed: a family itself, or a histogram's (summary's) _bucket/_sum/_count series. */
function isExposed(name: string, types: Map<string, string>): boolean {
  if (types.has(name)) return true;
  const m = /^(.+)_(bucket|sum|count)$/.exec(name);
  if (!m) return false;
  const type = types.get(m[1]!);
  return type === 'histogram' || (type === 'summary' && m[2] !== 'bucket');
}

interface AlertRule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const alertRules = () =>
  (parse(readFileSync(ALERTS, 'utf8')) as { groups: { name: string; rules: AlertRule[] }[] }).groups.flatMap(
    (g) => g.rules,
  );

interface Panel {
  type: string;
  title: string;
  datasource?: { uid?: string };
  targets?: { expr?: string }[];
  panels?: Panel[];
}
interface Dashboard {
  panels: Panel[];
  templating: { list: { name: string; type: string; query?: string | { query: string }; datasource?: unknown }[] };
}
const dashboard = () => JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
const allPanels = (d: Dashboard) => d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const dashboardQueries = (d: Dashboard) =>
  allPanels(d).flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr ?? '' })));

/** The metric names registered in source (`name: 'leakguard_…'`): those a process registers only in some configurations too. */
function registeredInSource(): Set<string> {
  const names = new Set<string>();
  for (const dir of METRIC_SOURCES)
    for (const file of readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')))
      for (const m of readFileSync(join(dir, file), 'utf8').matchAll(/\bname: '(leakguard_\w+)'/g)) names.add(m[1]!);
  return names;
}

/** The metric family a series name belongs to (a histogram's or summary's _bucket, _sum, _count: the histogram). */
function familyOf(name: string, types: Map<string, string>): string {
  const m = /^(.+)_(bucket|sum|count)$/.exec(name);
  return m && !types.has(name) && ['histogram', 'summary'].includes(types.get(m[1]!) ?? '') ? m[1]! : name;
}

// ---------------------------------------------------------------------------------------------
// Tools

function promtool(): string {
  const bin = process.env.LEAKGUARD_TEST_PROMTOOL ?? which('promtool', ['/usr/bin']);
  if (!bin)
    throw new Error(
      "promtool not found: run npm test (it installs Debian's prometheus package) or set LEAKGUARD_TEST_PROMTOOL",
    );
  return bin;
}

function run(bin: string, args: string[], cwd = ROOT) {
  const r = spawnSync(bin, args, { cwd, encoding: 'utf8', timeout: 60_000 });
  return {
    status: r.status,
    stdout: r.stdout ?? '',
    output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}`,
  };
}

/** k6: npm test provisions it (scripts/provision.ts ensureK6, built once with Go on a fresh machine). */
const k6 = process.env.LEAKGUARD_TEST_K6 ?? which('k6', [join(homedir(), 'go', 'bin')]);

const K6_SCRIPTS = readdirSync(LOAD_TESTS).filter((f) => f.endsWith('.js'));
const REQUIRED_THRESHOLDS = ['http_req_failed', 'http_req_duration', 'degraded', 'dropped_iterations'];

// ---------------------------------------------------------------------------------------------

describe('monitoring: dashboard and alert rules', () => {
  let redis: RedisServer;
  let t: TestApp;
  let exported: Map<string, string>;
  let engineScrape: string;
  /** The engine's and the stream processor's metrics as they start, before anything happened. */
  let fresh: string;

  beforeAll(async () => {
    // As services/main.ts starts an engine in production: on Redis (the shared rate limits), with the
    // case database (webhooks, the console) and the periodic breach scans.
    redis = await RedisServer.start();
    t = await buildTestApp({ REDIS_URL: redis.url }, { cases: true });
    t.runtime.breach!.startScans();
    const started = await t.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' });
    expect(started.statusCode).toBe(200);
    // The stream processor serves its own registry merged with the engine's (streams/service.ts).
    const stream = await new StreamMetrics().registry.metrics();
    fresh = `${started.body}\n${stream}`;
    // One scoring, so that the request histogram has its /v1/score series.
    const scored = await t.app.inject({
      method: 'POST',
      url: '/v1/score',
      headers: bearer(t.keys.merchant),
      payload: scoreBody(),
    });
    expect(scored.statusCode).toBe(200);
    const scrape = await t.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' });
    expect(scrape.statusCode).toBe(200);
    engineScrape = scrape.body;
    exported = new Map([...exposedTypes(scrape.body), ...exposedTypes(stream)]);
    // Sanity: the scrape is the engine's, with its HTTP histogram labelled by route pattern.
    expect(exported.get('leakguard_http_request_duration_seconds')).toBe('histogram');
    expect(exported.get('leakguard_stream_consumer_lag')).toBe('gauge');
    expect(scrape.body).toMatch(/^leakguard_http_request_duration_seconds_bucket\{[^}]*route="\/v1\/score"/m);
  });
  afterAll(async () => {
    await t?.close();
    await redis?.stop();
  });

  it('the PromQL name extractor finds metrics and skips functions, labels, strings and variables', () => {
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (job, le) (rate(a_bucket{route="/v1/score", x=~"b_total"}[$__rate_interval]))) > 0.05 and on (job) sum(rate(c_count[5m])) by (job) >= 1e-9',
      ).sort(),
    ).toEqual(['a_bucket', 'c_count']);
    expect(metricNames('x / ignoring (decision) group_left () (sum(y) > 0) + vector($deadline)').sort()).toEqual([
      'x',
      'y',
    ]);
    expect(() => metricNames('sum(leakguard_decisions_totl(1))')).toThrow(/unknown PromQL function/);
  });

  it('every metric in the alert rules is exported by the engine or the stream processor', () => {
    const rules = alertRules();
    expect(rules.length).toBeGreaterThanOrEqual(8);
    const missing: string[] = [];
    for (const rule of rules) {
      const names = metricNames(rule.expr);
      expect(names.length, rule.alert).toBeGreaterThan(0);
      for (const name of names)
        if (!PROMETHEUS_SERIES.has(name) && !isExposed(name, exported)) missing.push(`${rule.alert}: ${name}`);
    }
    expect(missing).toEqual([]);
  });

  it('every counter an alert reads is exported at 0 from the start, each label value of it', () => {
    const at = samples(fresh);
    const counters = new Set(
      alertRules()
        .flatMap((r) => metricNames(r.expr))
        .filter((n) => exported.get(n) === 'counter'),
    );
    expect(counters.size).toBeGreaterThanOrEqual(20);
    const missing: string[] = [];
    const unexpected: string[] = [];
    for (const name of counters) {
      if (name in NOT_ZERO_FROM_START) continue;
      const series = at.filter((s) => s.name === name);
      for (const s of series) if (s.value !== 0) unexpected.push(`${name}${JSON.stringify(s.labels)} = ${s.value}`);
      const expected = ZERO_FROM_START[name];
      if (!expected) {
        // Unlabelled: its one series.
        if (series.length === 0) missing.push(name);
        for (const s of series.filter((s) => Object.keys(s.labels).length > 0))
          unexpected.push(`${name}${JSON.stringify(s.labels)}`);
        continue;
      }
      // Every value of its labels, and no other series (their number stays bounded).
      const [label, values] = Object.entries(expected)[0]!;
      for (const v of values) if (!series.some((s) => s.labels[label] === v)) missing.push(`${name}{${label}="${v}"}`);
      for (const s of series)
        if (Object.keys(s.labels).join() !== label || !values.includes(s.labels[label]!))
          unexpected.push(`${name}${JSON.stringify(s.labels)}`);
    }
    expect(unexpected).toEqual([]);
    // What the alerts select by (result="refused", decision="decline") is among them.
    for (const rule of alertRules())
      for (const name of metricNames(rule.expr).filter((n) => counters.has(n) && !(n in NOT_ZERO_FROM_START)))
        for (const [label, value] of selectedLabels(rule.expr, name))
          if (!at.some((s) => s.name === name && s.labels[label] === value))
            missing.push(`${rule.alert}: ${name}{${label}="${value}"}`);
    expect(missing).toEqual([]);
    // Each list names counters the alerts read, and the exceptions say why.
    for (const name of [...Object.keys(ZERO_FROM_START), ...Object.keys(NOT_ZERO_FROM_START)])
      expect(counters.has(name), `${name} is not an alerted counter`).toBe(true);
    for (const [name, reason] of Object.entries(NOT_ZERO_FROM_START)) expect(reason.length, name).toBeGreaterThan(20);
  });

  it('every metric in the dashboard (panels and variables) is exported', () => {
    const d = dashboard();
    const queries = dashboardQueries(d);
    expect(queries.length).toBeGreaterThanOrEqual(20);
    const missing: string[] = [];
    for (const q of queries) {
      const names = metricNames(q.expr).filter((n) => !PROMETHEUS_SERIES.has(n));
      if (!q.expr.startsWith('vector(')) expect(names.length, q.panel).toBeGreaterThan(0);
      for (const name of names) if (!isExposed(name, exported)) missing.push(`${q.panel}: ${name}`);
    }
    for (const v of d.templating.list.filter((v) => v.type === 'query')) {
      const query = typeof v.query === 'string' ? v.query : (v.query?.query ?? '');
      const m = /^label_values\(\s*([A-Za-z_:][\w:]*)\s*,/.exec(query);
      expect(m, `variable ${v.name}: ${query}`).not.toBeNull();
      if (!isExposed(m![1]!, exported)) missing.push(`variable ${v.name}: ${m![1]}`);
    }
    expect(missing).toEqual([]);
  });

  it('covers the decision mix, latency, degraded share, store errors, lag, dead letters and watchlist hits', () => {
    const used = new Set(dashboardQueries(dashboard()).flatMap((q) => metricNames(q.expr)));
    for (const name of [
      'leakguard_decisions_total',
      'leakguard_http_request_duration_seconds_bucket',
      'leakguard_degraded_responses_total',
      'leakguard_redis_errors_total',
      'leakguard_stream_consumer_lag',
      'leakguard_stream_dead_letters_total',
      'leakguard_watchlist_hits_total',
    ])
      expect(used.has(name), name).toBe(true);
    // The decision values the queries filter on are the engine's decisions.
    const text = readFileSync(ALERTS, 'utf8') + readFileSync(DASHBOARD, 'utf8');
    for (const m of text.matchAll(/decision=\\?"(\w+)\\?"/g)) expect(DECISIONS as readonly string[]).toContain(m[1]);
  });

  it('every Leakguard metric the processes export is on the dashboard or in an alert, or allow-listed with a reason', () => {
    // Leakguard's own metrics, as scraped and as registered in source (where a process registers
    // some only in a configuration the test app does not have); prom-client's runtime metrics
    // (process_*, nodejs_*) are generic and left to a Node.js dashboard.
    const ours = new Set([...exported.keys()].filter((n) => n.startsWith('leakguard_')));
    const registered = registeredInSource();
    expect(registered.size).toBeGreaterThanOrEqual(40);
    for (const name of registered) ours.add(name);
    const watched = new Set(
      [...dashboardQueries(dashboard()), ...alertRules()].flatMap((q) =>
        metricNames(q.expr).map((n) => familyOf(n, exported)),
      ),
    );
    const unwatched = [...ours].filter((n) => !watched.has(n) && !(n in UNWATCHED)).sort();
    expect(unwatched, 'exported but on neither the dashboard nor an alert').toEqual([]);
    // The allow-list names exported metrics that are really unwatched, each with a reason.
    for (const [name, reason] of Object.entries(UNWATCHED)) {
      expect(ours.has(name), `${name} is not exported`).toBe(true);
      expect(watched.has(name), `${name} is watched: take it off the allow-list`).toBe(false);
      expect(reason.length, name).toBeGreaterThan(10);
    }
    expect(Object.keys(UNWATCHED).length).toBeLessThanOrEqual(5);
  });

  it("the dashboard's panel ids are unique and no two panels overlap", () => {
    const panels = allPanels(dashboard()) as (Panel & {
      id: number;
      gridPos: { x: number; y: number; w: number; h: number };
    })[];
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size, `ids: ${ids.join(',')}`).toBe(ids.length);
    const overlaps: string[] = [];
    for (const [i, a] of panels.entries()) {
      expect(a.gridPos.x + a.gridPos.w, a.title).toBeLessThanOrEqual(24);
      for (const b of panels.slice(i + 1)) {
        const apart =
          a.gridPos.x + a.gridPos.w <= b.gridPos.x ||
          b.gridPos.x + b.gridPos.w <= a.gridPos.x ||
          a.gridPos.y + a.gridPos.h <= b.gridPos.y ||
          b.gridPos.y + b.gridPos.h <= a.gridPos.y;
        if (!apart) overlaps.push(`${a.title} / ${b.title}`);
      }
    }
    expect(overlaps).toEqual([]);
  });

  it('the dashboard takes its data source as ${DS_PROMETHEUS}, on every panel and query variable', () => {
    const d = dashboard();
    const variable = d.templating.list.find((v) => v.name === 'DS_PROMETHEUS');
    expect(variable).toMatchObject({ type: 'datasource', query: 'prometheus' });
    for (const p of allPanels(d).filter((p) => p.type !== 'row'))
      expect(p.datasource?.uid, p.title).toBe('${DS_PROMETHEUS}');
    for (const v of d.templating.list.filter((v) => v.type === 'query'))
      expect(v.datasource, v.name).toEqual({ type: 'prometheus', uid: '${DS_PROMETHEUS}' });
    // The deadline variable defaults to the engine's default deadline, in seconds.
    expect(d.templating.list.find((v) => v.name === 'deadline')?.query).toBe(String(DEFAULT_DEADLINE_MS / 1000));
    // Webhook delivery failures have their panel (#15 §4).
    const webhookPanels = allPanels(d).filter((p) => /webhook/i.test(p.title) && p.type !== 'row');
    expect(webhookPanels.map((p) => p.title)).toContain('Webhook delivery failures');
    expect(JSON.stringify(webhookPanels)).toContain('leakguard_webhook_attempts_total');
  });

  it('every alert has a duration, a severity and a summary and description; the latency rule uses the default deadline', () => {
    const rules = alertRules();
    for (const rule of rules) {
      expect(rule.alert, rule.expr).toMatch(/^Leakguard[A-Za-z]+$/);
      expect(rule.for, rule.alert).toMatch(/^\d+[smh]$/);
      expect(['critical', 'warning', 'info'], rule.alert).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, rule.alert).toBeTruthy();
      expect(rule.annotations?.description, rule.alert).toBeTruthy();
    }
    const latency = rules.find((r) => r.alert === 'LeakguardScoreLatencyOverDeadline')!;
    expect(latency.expr).toContain('histogram_quantile(0.99');
    expect(latency.expr.replace(/\s+/g, ' ')).toContain(`) > ${DEFAULT_DEADLINE_MS / 1000} and on (job)`);
    expect(latency.annotations!.summary).toContain(`${DEFAULT_DEADLINE_MS} ms`);
    expect(latency.annotations!.description).toContain(`${DEFAULT_DEADLINE_MS} ms`);
    // The threshold is a bucket bound of the request histogram, so the p99 is exact there.
    expect(engineScrape).toMatch(
      new RegExp(
        `^leakguard_http_request_duration_seconds_bucket\\{le="${DEFAULT_DEADLINE_MS / 1000}",[^}]*route="/v1/score"`,
        'm',
      ),
    );
  });

  it('promtool check rules accepts the alert rules', () => {
    const r = run(promtool(), ['check', 'rules', ALERTS]);
    expect(r.output).toContain('SUCCESS');
    expect(r.status, r.output).toBe(0);
  });

  it('promtool test rules: the alerts fire on failing series and stay silent on healthy ones', () => {
    const tests = parse(readFileSync(ALERT_TESTS, 'utf8')) as {
      tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[];
    };
    const cases = tests.tests.flatMap((t) => t.alert_rule_test);
    const fired = new Set(cases.filter((c) => c.exp_alerts.length > 0).map((c) => c.alertname));
    const silent = new Set(cases.filter((c) => c.exp_alerts.length === 0).map((c) => c.alertname));
    expect(fired.size).toBeGreaterThanOrEqual(2);
    expect([...fired].filter((a) => silent.has(a)).length).toBeGreaterThanOrEqual(2);
    const r = run(promtool(), ['test', 'rules', ALERT_TESTS]);
    expect(r.status, r.output).toBe(0);
    expect(r.output).toContain('SUCCESS');
  });

  it('promtool accepts the example scrape configuration and every dashboard query', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lg-prometheus-'));
    // The scrape configuration, with its rule file and a scrape token beside it.
    copyFileSync(SCRAPE_CONFIG, join(dir, 'prometheus.yml'));
    copyFileSync(ALERTS, join(dir, 'alerts.yml'));
    writeFileSync(join(dir, 'leakguard-metrics-token'), 'token\n', { mode: 0o600 });
    const config = run(promtool(), ['check', 'config', join(dir, 'prometheus.yml')]);
    expect(config.status, config.output).toBe(0);
    // The dashboard's queries as recording rules, with Grafana's variables given values.
    const rules = dashboardQueries(dashboard()).map((q, i) => ({
      record: `leakguard:dashboard_query_${i}`,
      expr: q.expr
        .replaceAll('$__rate_interval', '5m')
        .replaceAll('$__range', '6h')
        .replaceAll('$deadline', '0.05')
        .replace(/\$\w+/g, 'leakguard-x'),
    }));
    const file = join(dir, 'dashboard-queries.yml');
    writeFileSync(file, JSON.stringify({ groups: [{ name: 'dashboard', rules }] }));
    const checked = run(promtool(), ['check', 'rules', file]);
    expect(checked.status, checked.output).toBe(0);
  });
});

describe('k6 thresholds', () => {
  it('every k6 script declares the error-rate, deadline, degraded and dropped-iteration thresholds', () => {
    expect(K6_SCRIPTS.sort()).toEqual(['score.js', 'watchlist-score.js']);
    for (const script of K6_SCRIPTS) {
      const source = readFileSync(join(LOAD_TESTS, script), 'utf8');
      expect(source, script).toMatch(/\bthresholds\b/);
      for (const metric of REQUIRED_THRESHOLDS) expect(source, `${script}: ${metric}`).toContain(`${metric}: [`);
      // The deadline defaults to the engine's.
      expect(source, script).toContain(`Number(__ENV.DEADLINE_MS || ${DEFAULT_DEADLINE_MS})`);
    }
  });

  it('k6 inspect shows the thresholds, the deadline from DEADLINE_MS, none with THRESHOLDS=off', () => {
    if (!k6) throw new Error('k6 not found: run the suite with npm test (it provisions k6) or set LEAKGUARD_TEST_K6');
    const inspect = (script: string, env: Record<string, string> = {}) => {
      const args = ['inspect', '-e', 'TARGET_URL=http://127.0.0.1:9/v1/score'];
      for (const [k, v] of Object.entries(env)) args.push('-e', `${k}=${v}`);
      const r = run(k6!, [...args, join(LOAD_TESTS, script)]);
      expect(r.status, r.output).toBe(0);
      return (JSON.parse(r.stdout) as { thresholds: Record<string, string[]> | null }).thresholds;
    };
    for (const script of K6_SCRIPTS) {
      const on = inspect(script)!;
      expect(on['http_req_failed'], script).toEqual(['rate<0.01']);
      expect(on['http_req_duration'], script).toEqual([`p(99)<${DEFAULT_DEADLINE_MS}`]);
      expect(on['degraded'], script).toEqual(['rate<0.01']);
      expect(on['dropped_iterations']?.[0], script).toMatch(/^rate<=/);
      expect(inspect(script, { DEADLINE_MS: '80' })!['http_req_duration'], script).toEqual(['p(99)<80']);
      const off = inspect(script, { THRESHOLDS: 'off' }) ?? {};
      for (const metric of REQUIRED_THRESHOLDS)
        expect(off[metric], `${script} THRESHOLDS=off: ${metric}`).toBeUndefined();
    }
  });
});
