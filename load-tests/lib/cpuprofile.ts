// Reads a V8 CPU profile (node --cpu-prof) and says where the time went, optionally only within
// a time window. Sample times are V8's monotonic clock in microseconds, the clock that
// process.hrtime.bigint() reads on Linux: a driver can mark a window in its own process and
// select the engine's samples in it.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT } from './harness.ts';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface HotSpot {
  /** function (file:line), the file relative to the repository or node:… for Node's internals */
  frame: string;
  ms: number;
  /** share of the window's samples */
  share: number;
}

export interface ProfileSummary {
  windowMs: number;
  sampledMs: number;
  /** Busy share of the window: samples that were neither (idle) nor (program) waiting. */
  busyShare: number;
  self: HotSpot[];
  /** Inclusive time of the project's own functions and its dependencies' (callees included). */
  inclusive: HotSpot[];
  /** Inclusive time of the project's own functions only (services/, streams/, models/). */
  inclusiveProject: HotSpot[];
  /** Self time by where the code lives: services/<dir>, node_modules/<package>, node internals, GC. */
  byArea: HotSpot[];
  /** Time with code of that area anywhere on the stack (what it cost, callees included). */
  byAreaInclusive: HotSpot[];
}

/** Microseconds on the monotonic clock V8 stamps profiles with (Linux: CLOCK_MONOTONIC). */
export const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

function where(url: string): string {
  if (!url) return '';
  if (url.startsWith('file://')) {
    try {
      return relative(ROOT, fileURLToPath(url));
    } catch {
      return url;
    }
  }
  return url;
}

function frameName(cf: CallFrame): string {
  const fn = cf.functionName || '(anonymous)';
  const file = where(cf.url);
  return file ? `${fn} (${file}:${cf.lineNumber + 1})` : fn;
}

function area(cf: CallFrame): string {
  const file = where(cf.url);
  if (!file) return cf.functionName.startsWith('(') ? cf.functionName : '(native)';
  if (file.startsWith('wasm://')) return 'wasm';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
  if (nm) return `node_modules/${nm[1]}`;
  if (file.startsWith('node:')) return 'node internals';
  const dirs = file.split('/');
  return dirs.length > 2 ? `${dirs[0]}/${dirs[1]}` : dirs[0]!;
}

export function summariseProfile(path: string, fromUs?: number, toUs?: number, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const from = fromUs ?? profile.startTime;
  const to = toUs ?? profile.endTime;
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const areas = new Map<string, number>();
  const areasInclusive = new Map<string, number>();
  let sampled = 0;
  let waiting = 0;
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    if (t < from || t > to) continue;
    // Each sample stands for the interval until the next one.
    const dt = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    const node = byId.get(profile.samples[i]!);
    if (!node) continue;
    sampled += dt;
    const cf = node.callFrame;
    if (cf.functionName === '(idle)' || (cf.functionName === '(program)' && !cf.url))
      waiting += cf.functionName === '(idle)' ? dt : 0;
    const name = frameName(cf);
    self.set(name, (self.get(name) ?? 0) + dt);
    const a = area(cf);
    areas.set(a, (areas.get(a) ?? 0) + dt);
    // Inclusive: every distinct frame (and area) on the stack, once.
    const seen = new Set<string>();
    const seenAreas = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const f = byId.get(id)!.callFrame;
      const fa = area(f);
      if (!seenAreas.has(fa)) {
        seenAreas.add(fa);
        areasInclusive.set(fa, (areasInclusive.get(fa) ?? 0) + dt);
      }
      const file = where(f.url);
      if (!file || file.startsWith('node:')) continue;
      const key = frameName(f);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + dt);
    }
  }
  const windowMs = (to - from) / 1000;
  const list = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([frame, ms]) => ({
        frame,
        ms: Math.round(ms),
        share: sampled > 0 ? Math.round((ms / sampled) * 1000) / 1000 : 0,
      }));
  return {
    windowMs: Math.round(windowMs),
    sampledMs: Math.round(sampled),
    busyShare: sampled > 0 ? Math.round(((sampled - waiting) / sampled) * 1000) / 1000 : 0,
    self: list(self),
    inclusive: list(inclusive),
    inclusiveProject: [...inclusive.entries()]
      .filter(([frame]) => / \((services|streams|models)\//.test(frame))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([frame, ms]) => ({
        frame,
        ms: Math.round(ms),
        share: sampled > 0 ? Math.round((ms / sampled) * 1000) / 1000 : 0,
      })),
    byArea: list(areas),
    byAreaInclusive: list(areasInclusive).filter(
      (h) => !['(root)', '(program)', '(idle)', '(garbage collector)', 'node internals', '(native)'].includes(h.frame),
    ),
  };
}
