// The console's audit export (GET /console/admin/audit/export) is streamed: the log is read a page
// at a time as the download is consumed, never held whole (it grows with every failed login, in the
// engine that also scores payments), and a read that fails part way ends the download visibly.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AuditEntry } from '../../services/cases/audit.ts';
import { buildTestApp, type TestApp } from '../support/app.ts';
import { loggedIn, type ConsoleClient } from './client.ts';

let t: TestApp;
let client: ConsoleClient;
/** ~4 KB an entry, so that the log is megabytes while the stream's buffers are tens of KiB. */
const PADDING = 'x'.repeat(4000);
const ENTRIES = 600;
/** Pages of the test's own size: 600 entries make 24 and more. */
const PAGE = 25;

beforeAll(async () => {
  t = await buildTestApp({ LEAKGUARD_PASSWORD_SCRYPT_LOG_N: '14' }, { cases: true });
  for (let i = 0; i < ENTRIES; i++)
    await t.runtime.cases!.audit.append({
      actor: 'test:export',
      action: 'case_note',
      target: `case:${i}`,
      detail: { i, padding: PADDING },
    });
  ({ client } = await loggedIn(t, 'admin', '10.0.9.1'));
}, 120_000);
afterAll(() => t?.close());
afterEach(() => vi.restoreAllMocks());

/** Makes the store read pages of PAGE entries and tells `onPage` of each page as it is read. */
function observePages(onPage: (page: AuditEntry[]) => void, failAfter?: number) {
  const audit = t.runtime.cases!.audit;
  const original = audit.pages.bind(audit);
  return vi.spyOn(audit, 'pages').mockImplementation(async function* () {
    let n = 0;
    for await (const page of original(PAGE)) {
      if (failAfter !== undefined && n++ >= failAfter) throw new Error('database gone');
      onPage(page);
      yield page;
    }
  });
}

const exportAsStream = () =>
  t.app.inject({
    method: 'GET',
    url: '/console/admin/audit/export',
    remoteAddress: '10.0.9.1',
    headers: { cookie: [...client.jar].map(([k, v]) => `${k}=${v}`).join('; ') },
    payloadAsStream: true,
  });

describe('audit export', () => {
  it('exports every entry, in order, over many pages, with its headers and its own audit entry', async () => {
    let pages = 0;
    observePages(() => pages++);
    const res = await client.get('/console/admin/audit/export');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    expect(res.headers['content-disposition']).toMatch(
      /^attachment; filename="leakguard-audit-\d{4}-\d{2}-\d{2}\.ndjson"$/,
    );
    expect(res.body.endsWith('\n')).toBe(true);
    const lines = res.body
      .slice(0, -1)
      .split('\n')
      .map((l) => JSON.parse(l) as AuditEntry);
    const head = (await t.runtime.cases!.audit.head())!;
    // Whole and in order: seq 1..head without a gap, each entry chained to the one before.
    expect(lines.map((e) => e.seq)).toEqual(Array.from({ length: head.seq }, (_, i) => i + 1));
    for (let i = 1; i < lines.length; i++) expect(lines[i]!.prevHash).toBe(lines[i - 1]!.hash);
    expect(lines.filter((e) => e.action === 'case_note')).toHaveLength(ENTRIES);
    expect(lines.at(-1)).toMatchObject({ action: 'audit_export', target: 'audit_log', hash: head.hash });
    expect(pages).toBeGreaterThan(ENTRIES / PAGE);
  });

  it('reads the log as the download is consumed, never holding it whole', async () => {
    let readBytes = 0;
    let pages = 0;
    observePages((page) => {
      pages++;
      for (const e of page) readBytes += Buffer.byteLength(`${JSON.stringify(e)}\n`);
    });
    const res = await exportAsStream();
    expect(res.statusCode).toBe(200);
    let received = 0;
    let mostAhead = 0;
    let pagesAtFirstChunk = 0;
    for await (const chunk of res.stream()) {
      if (received === 0) pagesAtFirstChunk = pages;
      received += (chunk as Buffer).length;
      // What was read from the database and not yet taken by the client: bounded by the stream's
      // buffers (tens of KiB) and a page, whatever the log's size.
      mostAhead = Math.max(mostAhead, readBytes - received);
    }
    expect(received).toBe(readBytes);
    expect(received).toBeGreaterThan(2_000_000);
    expect(pagesAtFirstChunk).toBeLessThan(pages / 2);
    expect(mostAhead).toBeLessThan(received / 4);
  });

  it('cuts the download off when a page fails part way, instead of ending it like a whole file', async () => {
    const errors: string[] = [];
    observePages(() => undefined, 3);
    const res = await exportAsStream();
    // The 200 and the first pages went out before the failure: the client must see it fail.
    expect(res.statusCode).toBe(200);
    let received = '';
    const consumed = (async () => {
      for await (const chunk of res.stream()) received += (chunk as Buffer).toString();
    })();
    await expect(consumed).rejects.toThrow(/destroyed before completion/);
    // What arrived is a prefix of the log (how much of it left the buffers before the cut varies).
    expect(received.length).toBeGreaterThan(0);
    expect(received.split('\n').length).toBeLessThanOrEqual(3 * PAGE + 1);
    for (const line of t.logs) if (line.includes('audit export failed')) errors.push(line);
    expect(errors.join('\n')).toMatch(/audit export failed after 75 entries: the download is cut off/);
  });

  it('answers an error page, not an empty 200, when the first page fails', async () => {
    observePages(() => undefined, 0);
    const res = await client.get('/console/admin/audit/export');
    expect(res.status).toBe(500);
    expect(res.headers['content-type']).not.toContain('ndjson');
  });
});
