// The console's static assets: a fixed set, built into the process, served from memory by name.
// No route maps a request path to a file.
import { createHash } from 'node:crypto';

const CSS = `
:root { --ink: #1d2330; --muted: #5b6475; --line: #d9dde5; --bg: #f5f6f8; --accent: #2456c5; --fraud: #c0392b; --legit: #1e8449; --esc: #b9770e; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: var(--bg); }
header.top { display: flex; gap: 1.5rem; align-items: center; background: #17203a; color: #fff; padding: .6rem 1.2rem; }
header.top a { color: #cfd8ff; text-decoration: none; }
header.top a.brand { color: #fff; font-weight: 600; }
header.top .who { margin-left: auto; display: flex; gap: .8rem; align-items: center; }
header.top form { margin: 0; }
main { padding: 1.2rem; max-width: 1400px; margin: 0 auto; }
h1 { font-size: 1.35rem; margin: 0 0 1rem; }
h2 { font-size: 1.05rem; margin: 1.4rem 0 .6rem; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: .35rem .55rem; border-bottom: 1px solid var(--line); vertical-align: top; overflow-wrap: anywhere; }
th { font-weight: 600; color: var(--muted); background: #fafbfc; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 1rem; margin-bottom: 1rem; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 1rem; }
form.filters { display: flex; flex-wrap: wrap; gap: .6rem; align-items: end; }
form.filters label { display: flex; flex-direction: column; font-size: .8rem; color: var(--muted); }
input, select, textarea, button { font: inherit; padding: .3rem .45rem; border: 1px solid var(--line); border-radius: 4px; }
button { background: var(--accent); color: #fff; border-color: var(--accent); cursor: pointer; }
button.fraud { background: var(--fraud); border-color: var(--fraud); }
button.legit { background: var(--legit); border-color: var(--legit); }
button.esc { background: var(--esc); border-color: var(--esc); }
button.link { background: none; border: none; color: #cfd8ff; padding: 0; }
.muted { color: var(--muted); }
.error { color: var(--fraud); font-weight: 600; }
.notice { background: #eef4ff; border: 1px solid #c9d8ff; padding: .6rem .8rem; border-radius: 4px; margin-bottom: 1rem; }
.score { font-weight: 700; }
.status { padding: .05rem .4rem; border-radius: 3px; background: #eceff4; }
.status-fraud { background: #f9dedb; } .status-legitimate { background: #d9f2e3; } .status-escalated { background: #fbeccf; }
.status-confirmed { background: #f9dedb; } .status-dismissed, .status-retracted { background: #d9f2e3; } .status-open { background: #fbeccf; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; margin: 0; } dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; }
figure.card { margin: 0 0 1rem; } figure.card figcaption { font-weight: 600; margin-bottom: .4rem; }
.pager { display: flex; gap: 1rem; margin-top: .8rem; }
.login { max-width: 360px; margin: 8vh auto; }
.login label { display: block; margin-bottom: .7rem; }
.login input { width: 100%; }
.secret { font-family: ui-monospace, monospace; font-size: 1.05rem; letter-spacing: .08em; }
.qr svg { width: 220px; height: 220px; }
svg.chart { width: 100%; height: auto; background: #fff; }
svg.chart text { font-size: 11px; fill: var(--muted); }
svg.chart.meter { width: 120px; height: 12px; }
.legend span { display: inline-block; margin-right: 1rem; font-size: .8rem; }
.legend i { display: inline-block; width: .8rem; height: .8rem; margin-right: .3rem; vertical-align: -1px; }
.c-challenge { background: #f4c542; } .c-review { background: #e67e22; } .c-decline { background: #c0392b; }
.c-fraud { background: #c0392b; } .c-legitimate { background: #1e8449; } .c-escalated { background: #b9770e; }
pre.detail { margin: 0; white-space: pre-wrap; font-size: .8rem; }
`;

export interface Asset {
  body: string;
  type: string;
  etag: string;
}

export const ASSETS: ReadonlyMap<string, Asset> = new Map([
  [
    'console.css',
    {
      body: CSS,
      type: 'text/css; charset=utf-8',
      etag: `"${createHash('sha256').update(CSS).digest('base64url').slice(0, 16)}"`,
    },
  ],
]);
