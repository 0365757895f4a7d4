// k6 script for `npm run bench:watchlist` (load-tests/bench-watchlist.ts runs it; it can also be
// run by hand against an engine whose watchlist holds the synthetic list):
//
//   k6 run -e TARGET_URL=http://127.0.0.1:8080/v1/score -e API_KEY=lgm_... -e MODE=lookup \
//          -e LISTED_CARDS=2400000 -e RATE=300 -e PHASE_SECONDS=15 load-tests/watchlist-score.js
//
// Cards come from the same generator as the uploaded list (bench-watchlist.ts): card i is
// "4" + (10000 + i % 5000) + floor(i / 5000) zero-padded to 9 digits + the Luhn check digit, expiry month 1 + i % 12, year
// 2027 + i % 5. Listed: i in [0, LISTED_CARDS). Never listed: i >= UNLISTED_FROM (10,000,000).
// Both kinds send bodies of the same shape (a unique transactionId, cvvResult "match", the
// listed expiry, a shopper, a device and an IP address derived from i), so the only difference
// between them is what the watchlist lookup finds. Cards are drawn at random, so nearly every
// scoring is a card's first: no velocity history (one merchant does build up some; the cards
// spread over 5,000 BINs, so no BIN bursts).
//
// Modes (-e MODE=...):
//   steady   one constant-arrival-rate scenario of unlisted cards (phase tag "steady"), after an
//            optional warm-up (WARMUP_SECONDS). Run with --paused and stopped through the REST
//            API, it measures scoring while something else (the upload) runs.
//   lookup   a mixed warm-up; then MIX_SECONDS of both kinds at once (RATE/2 each, tags
//            sel=mix_listed|mix_unlisted): the same conditions for both, whatever else the machine
//            does; then PHASES (default unlisted,listed,listed,unlisted) of PHASE_SECONDS each, one
//            after the other at RATE (tags sel=alt_listed|alt_unlisted, phase=1..n): the engine's
//            CPU per scoring of each kind can be measured phase by phase.
//
// Environment (-e NAME=value):
//   TARGET_URL, API_KEY (merchant key, Bearer), MODE, RATE (default 200), DURATION (steady, default 20s),
//   WARMUP_SECONDS (default 0 in steady, 3 in lookup), MIX_SECONDS (default 30), PHASE_SECONDS (default 15), PHASES,
//   LISTED_CARDS (default 2400000), UNLISTED_FROM (default 10000000), PRE_VUS, MAX_VUS,
//   RUN_ID (transactionId prefix), SUMMARY_FILE (handleSummary writes the summary JSON there),
//   DEADLINE_MS (the engine's LEAKGUARD_DEADLINE_MS; default 50, the engine's default),
//   THRESHOLDS (off: no pass/fail thresholds; default on).
//
// Thresholds over the whole run (README.md, "Monitoring"): fewer than 1 % of requests failed,
// p99 under DEADLINE_MS, fewer than 1 % of answers degraded, fewer dropped iterations than 0.1 %
// of RATE a second. `k6 run` exits with code 99 when one is crossed, after writing its summary
// (bench-watchlist.ts records the crossed thresholds as a result).
import http from 'k6/http';
import { check } from 'k6';
import { Rate } from 'k6/metrics';

const TARGET_URL = __ENV.TARGET_URL;
if (!TARGET_URL) throw new Error('TARGET_URL is required');
const MODE = __ENV.MODE || 'steady';
if (MODE !== 'steady' && MODE !== 'lookup') throw new Error('MODE must be steady or lookup');
const RATE = Number(__ENV.RATE || 200);
const DURATION = __ENV.DURATION || '20s';
const WARMUP_SECONDS = Number(__ENV.WARMUP_SECONDS || (MODE === 'lookup' ? 3 : 0));
const MIX_SECONDS = Number(__ENV.MIX_SECONDS || 30);
const PHASE_SECONDS = Number(__ENV.PHASE_SECONDS || 15);
const PHASES = (__ENV.PHASES || 'unlisted,listed,listed,unlisted').split(',');
const LISTED_CARDS = Number(__ENV.LISTED_CARDS || 2400000);
const UNLISTED_FROM = Number(__ENV.UNLISTED_FROM || 10000000);
const PRE_VUS = Number(__ENV.PRE_VUS || Math.max(20, Math.ceil(RATE / 10)));
const MAX_VUS = Number(__ENV.MAX_VUS || Math.max(PRE_VUS, 400));
const RUN_ID = __ENV.RUN_ID || String(Date.now());
const DEADLINE_MS = Number(__ENV.DEADLINE_MS || 50);
const THRESHOLDS = (__ENV.THRESHOLDS || 'on') !== 'off';
if (!(DEADLINE_MS > 0)) throw new Error('DEADLINE_MS must be a positive number of milliseconds');

for (const kind of PHASES)
  if (kind !== 'listed' && kind !== 'unlisted') throw new Error(`PHASES: unknown kind ${kind}`);

const rateScenario = (exec, seconds, startSeconds, tags, rate = RATE) => ({
  executor: 'constant-arrival-rate',
  exec,
  rate,
  timeUnit: '1s',
  duration: `${seconds}s`,
  startTime: `${startSeconds}s`,
  preAllocatedVUs: PRE_VUS,
  maxVUs: MAX_VUS,
  gracefulStop: '2s',
  tags,
});

const scenarios = {};
// Pass/fail thresholds over the whole run (a counter's rate is per second of the run).
const thresholds = THRESHOLDS
  ? {
      http_req_failed: ['rate<0.01'],
      http_req_duration: [`p(99)<${DEADLINE_MS}`],
      degraded: ['rate<0.01'],
      dropped_iterations: [`rate<=${RATE / 1000}`],
    }
  : {};
// And thresholds that always pass: they only make k6 report these sub-metrics in the summary.
const expose = (selector) => {
  thresholds[`http_req_duration{${selector}}`] = ['max>=0'];
  thresholds[`http_req_failed{${selector}}`] = ['rate>=0'];
  thresholds[`http_reqs{${selector}}`] = ['count>=0'];
  thresholds[`listed_flag{${selector}}`] = ['rate>=0'];
  thresholds[`degraded{${selector}}`] = ['rate>=0'];
  thresholds[`flagged{${selector}}`] = ['rate>=0'];
  thresholds[`dropped_iterations{${selector}}`] = ['count>=0'];
};
if (WARMUP_SECONDS > 0)
  scenarios.warmup = rateScenario(MODE === 'lookup' ? 'mixed' : 'unlisted', WARMUP_SECONDS, 0, {
    kind: 'warmup',
    sel: 'warmup',
    phase: 'warmup',
  });
if (MODE === 'steady') {
  scenarios.steady = {
    ...rateScenario('unlisted', 0, WARMUP_SECONDS, { kind: 'unlisted', sel: 'steady', phase: 'steady' }),
    duration: DURATION,
  };
  expose('phase:steady');
} else {
  let t = WARMUP_SECONDS;
  if (MIX_SECONDS > 0) {
    const half = Math.max(1, Math.round(RATE / 2));
    scenarios.mix_listed = rateScenario(
      'listed',
      MIX_SECONDS,
      t,
      { kind: 'listed', sel: 'mix_listed', phase: 'mix' },
      half,
    );
    scenarios.mix_unlisted = rateScenario(
      'unlisted',
      MIX_SECONDS,
      t,
      { kind: 'unlisted', sel: 'mix_unlisted', phase: 'mix' },
      half,
    );
    expose('sel:mix_listed');
    expose('sel:mix_unlisted');
    t += MIX_SECONDS;
  }
  PHASES.forEach((kind, i) => {
    scenarios[`p${i + 1}_${kind}`] = rateScenario(kind, PHASE_SECONDS, t + i * PHASE_SECONDS, {
      kind,
      sel: `alt_${kind}`,
      phase: String(i + 1),
    });
    expose(`phase:${i + 1}`);
  });
  expose('sel:alt_listed');
  expose('sel:alt_unlisted');
}

export const options = {
  scenarios,
  thresholds,
  summaryTrendStats: ['avg', 'min', 'max', 'p(50)', 'p(90)', 'p(99)', 'p(99.9)'],
};

// Only 2xx counts as success in http_req_failed.
http.setResponseCallback(http.expectedStatuses({ min: 200, max: 299 }));

/** Responses the engine answered without its velocity store (and so without the watchlist). */
const degraded = new Rate('degraded');
/** Responses that carry a LEAKED_CARD reason: ~100% for listed cards, 0% for unlisted ones. */
const listedFlag = new Rate('listed_flag');
/** Decisions other than approve: the engine hands them to its flagged queue and case ingester. */
const flagged = new Rate('flagged');

function luhnCheckDigit(body) {
  // The check digit will be appended on the right, so the rightmost body digit is doubled.
  let sum = 0;
  let double = true;
  for (let i = body.length - 1; i >= 0; i--) {
    let d = body.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return String((10 - (sum % 10)) % 10);
}

function cardNumber(i) {
  // 5,000 BINs, as bench-watchlist.ts lists them (one BIN for every card trips the BIN-burst rule).
  const body = '4' + String(10000 + (i % 5000)) + String(Math.floor(i / 5000)).padStart(9, '0');
  return body + luhnCheckDigit(body);
}

const rnd = (n) => Math.floor(Math.random() * n);
/** A checkout basket in minor units: log-uniform between about 20 and 120 (most orders are small; uniform up to 500 made the model flag half of them). */
const basketCents = () => Math.round(Math.exp(3 + Math.random() * 1.8) * 100);

function body(i) {
  const ip = `${11 + (i % 200)}.${i % 251}.${(i >> 8) % 256}.${1 + (i % 254)}`;
  return (
    `{"transactionId":"w${RUN_ID}-${__VU}-${__ITER}-${Date.now()}","amount":${basketCents()},"currency":"EUR","channel":"ecommerce"` +
    `,"card":{"number":"${cardNumber(i)}","expiryMonth":${1 + (i % 12)},"expiryYear":${2027 + (i % 5)},"cvvResult":"match"}` +
    `,"customer":{"id":"cust-${i}","email":"shopper.${i}@example.com"}` +
    `,"device":{"id":"dev-${i}","ip":"${ip}"}}`
  );
}

const params = {
  headers: { 'content-type': 'application/json', authorization: `Bearer ${__ENV.API_KEY || 'none'}` },
  timeout: '10s',
};

let complaints = 0;

function score(i) {
  const res = http.post(TARGET_URL, body(i), params);
  const ok = check(res, { 'status is 200': (r) => r.status === 200 });
  const text = typeof res.body === 'string' ? res.body : '';
  degraded.add(ok && text.indexOf('"degraded":true') !== -1);
  listedFlag.add(ok && text.indexOf('"LEAKED_CARD') !== -1);
  flagged.add(ok && text.indexOf('"decision":"approve"') === -1);
  // A few examples of failures per VU, for diagnosis. Error bodies never repeat the input.
  if (!ok && res.status !== 0 && complaints < 2) {
    complaints++;
    console.warn(`HTTP ${res.status}: ${String(res.body).slice(0, 200)}`);
  }
}

export function listed() {
  score(rnd(LISTED_CARDS));
}

export function unlisted() {
  score(UNLISTED_FROM + rnd(10000000));
}

export function mixed() {
  if (__ITER % 2 === 0) listed();
  else unlisted();
}

export function handleSummary(data) {
  return __ENV.SUMMARY_FILE
    ? { [__ENV.SUMMARY_FILE]: JSON.stringify(data) }
    : { stdout: JSON.stringify(data.metrics.http_req_duration) + '\n' };
}
