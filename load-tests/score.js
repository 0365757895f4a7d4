// k6 script for `npm run bench:api` (load-tests/bench-api.ts runs it; it can also be run by hand):
//
//   k6 run -e TARGET_URL=http://127.0.0.1:8080/v1/score -e API_KEY=lgm_... -e MODE=rate \
//          -e RATE=1000 -e DURATION=20s load-tests/score.js
//
// POSTs realistic, varied checkout bodies: Luhn-valid card numbers drawn from a pool (a hot set
// repeats often, so velocity counters have history), a unique transactionId per iteration, and
// device / IP / email / shipping details on most requests. The hello-world baseline receives the
// very same requests (same headers, same bodies), so both sides pay the same client-side cost.
//
// Environment (-e NAME=value):
//   TARGET_URL    full URL to POST to (required)
//   API_KEY       merchant API key, sent as a Bearer token
//   MODE          rate (constant-arrival-rate, open model) | vus (constant-vus, closed model)
//   RATE          requests per second in rate mode (default 1000)
//   DURATION      phase duration (default 20s)
//   VUS           virtual users in vus mode (default 64)
//   PRE_VUS, MAX_VUS  VU pool for rate mode (defaults derived from RATE)
//   CARD_POOL     distinct cards (default 50000); HOT_CARDS: the returning subset, 5 % of requests (default 20000)
//   RUN_ID        prefix for transactionIds (default: a timestamp)
//   SUMMARY_FILE  where handleSummary writes the k6 summary as JSON (default: no file)
//   DEADLINE_MS   the engine's scoring deadline, LEAKGUARD_DEADLINE_MS (default 50, the engine's default)
//   THRESHOLDS    off: no pass/fail thresholds, to explore beyond capacity (default: on)
//
// Thresholds (README.md, "Monitoring"): fewer than 1 % of requests failed (non-2xx or no answer),
// p99 under DEADLINE_MS, fewer than 1 % of answers degraded, and fewer dropped iterations than
// 0.1 % of RATE a second (the load generator kept up with the planned arrival rate). `k6 run`
// exits with code 99 when one of them is crossed; the run still goes to its end and writes its
// summary (bench-api.ts records the crossed thresholds as a result).
import http from 'k6/http';
import { check } from 'k6';
import { Rate } from 'k6/metrics';

const TARGET_URL = __ENV.TARGET_URL;
if (!TARGET_URL) throw new Error('TARGET_URL is required');
const MODE = __ENV.MODE || 'rate';
const RATE = Number(__ENV.RATE || 1000);
const DURATION = __ENV.DURATION || '20s';
const VUS = Number(__ENV.VUS || 64);
const PRE_VUS = Number(__ENV.PRE_VUS || Math.max(20, Math.ceil(RATE / 20)));
const MAX_VUS = Number(__ENV.MAX_VUS || Math.max(PRE_VUS, Math.min(1000, Math.ceil(RATE / 3))));
const CARD_POOL = Number(__ENV.CARD_POOL || 50000);
const HOT_CARDS = Number(__ENV.HOT_CARDS || 20000);
const RUN_ID = __ENV.RUN_ID || String(Date.now());
const DEADLINE_MS = Number(__ENV.DEADLINE_MS || 50);
const THRESHOLDS = (__ENV.THRESHOLDS || 'on') !== 'off';
if (!(DEADLINE_MS > 0)) throw new Error('DEADLINE_MS must be a positive number of milliseconds');

const scenario =
  MODE === 'vus'
    ? { executor: 'constant-vus', vus: VUS, duration: DURATION, gracefulStop: '5s' }
    : {
        executor: 'constant-arrival-rate',
        rate: RATE,
        timeUnit: '1s',
        duration: DURATION,
        preAllocatedVUs: PRE_VUS,
        maxVUs: MAX_VUS,
        gracefulStop: '5s',
      };

export const options = {
  scenarios: { load: scenario },
  thresholds: THRESHOLDS
    ? {
        http_req_failed: ['rate<0.01'],
        http_req_duration: [`p(99)<${DEADLINE_MS}`],
        degraded: ['rate<0.01'],
        // A counter's rate is per second of the run; constant-vus (MODE=vus) never drops any.
        dropped_iterations: [`rate<=${RATE / 1000}`],
      }
    : {},
  summaryTrendStats: ['avg', 'min', 'max', 'p(50)', 'p(90)', 'p(99)', 'p(99.9)'],
};

// Only 2xx counts as success in http_req_failed (the error rate bench-api reports).
http.setResponseCallback(http.expectedStatuses({ min: 200, max: 299 }));

/** Responses the engine answered without its velocity store (deadline missed or Redis down). */
const degraded = new Rate('degraded');

// Card numbers are computed from an index rather than held in an array: every VU runs this init
// code, and an array of 50,000 strings per VU would cost the load generator memory and CPU.
const BINS = [
  ['411111', 16],
  ['424242', 16],
  ['453201', 16],
  ['476173', 16],
  ['400011', 16],
  ['510510', 16],
  ['555555', 16],
  ['522222', 16],
  ['222300', 16],
  ['378282', 15],
  ['371449', 15],
  ['601100', 16],
  ['353011', 16],
];

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

function cardNumber(index) {
  const [network, length] = BINS[index % BINS.length];
  // Each network prefix spread over 2,000 BINs, as real portfolios are: a few BINs taking all the
  // traffic would trip the BIN-burst rule on most scorings and turn the load into cases.
  const bin = network.slice(0, 2) + String(1000 + (Math.floor(index / BINS.length) % 2000)).padStart(4, '0');
  const body = bin + String(index).padStart(length - 7, '0');
  return body + luhnCheckDigit(body);
}

const rnd = (n) => Math.floor(Math.random() * n);
/** A checkout basket in minor units: log-uniform between about 20 and 120 (most orders are small; uniform up to 500 made the model flag half of them). */
const basketCents = () => Math.round(Math.exp(3 + Math.random() * 1.8) * 100);
const pick = (list) => list[rnd(list.length)];

const CURRENCIES = ['EUR', 'EUR', 'EUR', 'USD', 'USD', 'GBP', 'CHF', 'SEK'];
const CHANNELS = ['ecommerce', 'ecommerce', 'ecommerce', 'ecommerce', 'in_app', 'in_app', 'moto', 'pos'];
// Shares as at a real checkout (about 1 % security-code mismatches, 2 % failed 3-D Secure): the
// benchmark's flagged share (printed: "Engine decisions over the run") is then a few per cent, and
// the scoring path, not the case path, is what it measures.
const CVV = [...Array(97).fill('match'), 'not_checked', 'not_checked', 'mismatch'];
const THREE_DS = [...Array(90).fill('Y'), 'A', 'A', 'A', 'A', 'U', 'U', 'U', 'N', 'N', 'C'];
const EMAIL_DOMAINS = ['example.com', 'example.org', 'gmail.com', 'mail.example.net'];
const CITIES = [
  ['Berlin', 'DE', '10115'],
  ['Paris', 'FR', '75001'],
  ['Madrid', 'ES', '28001'],
  ['Milano', 'IT', '20121'],
  ['Amsterdam', 'NL', '1011'],
  ['London', 'GB', 'EC1A 1BB'],
  ['New York', 'US', '10001'],
  ['Wien', 'AT', '1010'],
];
const STREETS = [
  'Main Street',
  'Hauptstraße',
  'Rue de la Paix',
  'Calle Mayor',
  'Via Roma',
  'Kerkstraat',
  'High Street',
  'Ringstraße',
];
const PRODUCTS = [
  ['Headphones', 'electronics'],
  ['Gift card', 'gift_cards'],
  ['Sneakers', 'apparel'],
  ['Coffee beans', 'grocery'],
  ['Phone case', 'electronics'],
  ['Novel', 'books'],
];
const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
];

// Bodies are assembled from string fragments: building an object and JSON.stringify-ing it costs
// the load generator about 0.1 ms per request in k6's JavaScript runtime, CPU that the servers
// under test would otherwise get (they share the machine). Every value below is plain ASCII or
// letters without quotes or backslashes, so no escaping is needed.
// One home per shopper: a house number shared by a few hundred shoppers (as here before) made
// every address a reshipper's and a quarter of the orders cases (SHIPPING_ADDRESS_MANY_CARDS_7D).
function addressJson(k) {
  const [city, country, postalCode] = CITIES[k % CITIES.length];
  return `{"name":"Shopper ${k}","line1":"${(k % 180) + 1} ${STREETS[k % STREETS.length]}","line2":"Flat ${k}","city":"${city}","postalCode":"${postalCode}","country":"${country}"}`;
}

function shopperJson(k) {
  const ip = `${11 + (k % 200)}.${k % 251}.${rnd(256)}.${1 + rnd(254)}`;
  const shipping = addressJson(Math.random() < 0.95 ? k : rnd(CARD_POOL));
  return (
    `,"customer":{"id":"cust-${k}","email":"shopper.${k}@${EMAIL_DOMAINS[k % EMAIL_DOMAINS.length]}"}` +
    `,"device":{"id":"dev-${k % 30000}","ip":"${ip}","userAgent":"${USER_AGENTS[k % USER_AGENTS.length]}"}` +
    `,"shippingAddress":${shipping}` +
    (Math.random() < 0.5 ? `,"billingAddress":${addressJson(k)}` : '')
  );
}

// 100 baskets of 1-3 items, built once per VU (every VU runs this init code).
const BASKETS = [];
for (let b = 0; b < 100; b++) {
  const items = [];
  for (let i = 0, n = 1 + rnd(3); i < n; i++) {
    const [name, category] = pick(PRODUCTS);
    items.push({ name, category, sku: `sku-${rnd(5000)}`, quantity: 1 + rnd(3), unitPrice: 100 + rnd(20000) });
  }
  BASKETS.push(`,"items":${JSON.stringify(items)}`);
}
const THREE_DS_JSON = THREE_DS.map((status) => `,"threeDS":{"status":"${status}","version":"2.2.0"}`);

function body() {
  // One request in twenty uses a returning card: those build up velocity history (a few uses an hour).
  const cardIndex = Math.random() < 0.05 ? rnd(HOT_CARDS) : rnd(CARD_POOL);
  // The same shopper usually comes back with the same card; sometimes the details differ.
  const shopper = Math.random() < 0.9 ? cardIndex : rnd(CARD_POOL);
  return (
    `{"transactionId":"b${RUN_ID}-${__VU}-${__ITER}-${Date.now()}","amount":${basketCents()},"currency":"${pick(CURRENCIES)}","channel":"${pick(CHANNELS)}"` +
    `,"card":{"number":"${cardNumber(cardIndex)}","expiryMonth":${1 + (cardIndex % 12)},"expiryYear":${2027 + (cardIndex % 6)},"cvvResult":"${pick(CVV)}"}` +
    (Math.random() < 0.85 ? shopperJson(shopper) : '') +
    (Math.random() < 0.6 ? pick(THREE_DS_JSON) : '') +
    (Math.random() < 0.7 ? pick(BASKETS) : '') +
    '}'
  );
}

const params = {
  headers: { 'content-type': 'application/json', authorization: `Bearer ${__ENV.API_KEY || 'none'}` },
  timeout: '10s',
};

let complaints = 0;

export default function () {
  const res = http.post(TARGET_URL, body(), params);
  const ok = check(res, { 'status is 200': (r) => r.status === 200 });
  degraded.add(ok && typeof res.body === 'string' && res.body.indexOf('"degraded":true') !== -1);
  // A few examples of failures per VU, for diagnosis. Error bodies never repeat the input.
  if (!ok && res.status !== 0 && complaints < 2) {
    complaints++;
    console.warn(`HTTP ${res.status}: ${String(res.body).slice(0, 200)}`);
  }
}

export function handleSummary(data) {
  return __ENV.SUMMARY_FILE
    ? { [__ENV.SUMMARY_FILE]: JSON.stringify(data) }
    : { stdout: JSON.stringify(data.metrics.http_req_duration) + '\n' };
}
