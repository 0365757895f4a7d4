// Pure parts: TOTP against RFC 6238's vectors, base32, scrypt hashes, the HTML escaper, the audit
// chain, and the label export.
import { describe, expect, it } from 'vitest';
import { canonicalJson, chainHash, ChainVerifier, GENESIS_HASH, type AuditEntry } from '../../services/cases/audit.ts';
import { formatLabels } from '../../services/cases/labels-export.ts';
import { caseQuerySchema, MAX_QUEUE_ROWS } from '../../services/cases/model.ts';
import { PostgresCaseStore } from '../../services/adapters/postgres/case-store.ts';
import type { SqlClient } from '../../services/adapters/postgres/sql-client.ts';
import { MemoryNegativeListStore } from '../../services/adapters/memory/negative-list-store.ts';
import {
  base32Decode,
  base32Encode,
  hashPassword,
  hotp,
  totp,
  verifyPassword,
  verifyTotp,
} from '../../services/console/credentials.ts';
import { escapeHtml, html } from '../../services/console/html.ts';

describe('TOTP (RFC 6238, SHA-1, 6 digits, 30 s)', () => {
  const secret = base32Encode(Buffer.from('12345678901234567890'));
  it('matches the RFC vectors (last 6 digits of the 8-digit values)', () => {
    expect(secret).toBe('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
    expect(totp(secret, 59_000)).toBe('287082');
    expect(totp(secret, 1_111_111_109_000)).toBe('081804');
    expect(totp(secret, 1_234_567_890_000)).toBe('005924');
    expect(totp(secret, 20_000_000_000_000)).toBe('353130');
    expect(hotp(Buffer.from('12345678901234567890'), 0)).toBe('755224');
  });
  it('accepts one step of clock drift, no more, and only six digits', () => {
    const now = 1_700_000_000_000;
    expect(verifyTotp(secret, totp(secret, now - 30_000), now)).not.toBeNull();
    expect(verifyTotp(secret, totp(secret, now + 30_000), now)).not.toBeNull();
    expect(verifyTotp(secret, totp(secret, now - 90_000), now)).toBeNull();
    expect(verifyTotp(secret, '12345', now)).toBeNull();
    expect(base32Decode(base32Encode(Buffer.from('any bytes')))).toEqual(Buffer.from('any bytes'));
  });
});

describe('passwords', () => {
  it('hashes with scrypt and a per-user salt', async () => {
    const a = await hashPassword('correct horse', { logN: 14, r: 8, p: 1 });
    const b = await hashPassword('correct horse', { logN: 14, r: 8, p: 1 });
    expect(a).not.toBe(b);
    expect(a).toMatch(/^scrypt\$14\$8\$1\$/);
    expect(await verifyPassword('correct horse', a)).toBe(true);
    expect(await verifyPassword('correct horse!', a)).toBe(false);
    expect(await verifyPassword('x', 'plain')).toBe(false);
  });
});

describe('HTML escaping', () => {
  it('escapes every interpolated value, in text and attributes', () => {
    const v = `"><script>alert(1)</script><img src=x onerror='a'>\`=`;
    const out = html`<p title="${v}">${v}</p>`.html;
    expect(out).not.toMatch(/<script|<img|onerror='|" /);
    expect(escapeHtml('a\u0000b')).toBe('a\ufffdb');
    expect(html`${[html`<b>${'<i>'}</b>`, '<u>']}`.html).toBe('<b>&lt;i&gt;</b>&lt;u&gt;');
  });
});

describe('audit chain', () => {
  it('chains entries and finds the first changed one', () => {
    const entries: AuditEntry[] = [];
    let prev = GENESIS_HASH;
    for (let seq = 1; seq <= 3; seq++) {
      const body = {
        seq,
        at: new Date(seq * 1000).toISOString(),
        actor: 'a',
        action: 'login',
        target: '',
        detail: { b: 1, a: [seq] },
      };
      const hash = chainHash(prev, body);
      entries.push({ ...body, prevHash: prev, hash });
      prev = hash;
    }
    expect(new ChainVerifier().check(entries)).toBeNull();
    expect(canonicalJson({ b: 1, a: { d: 1, c: 2 } })).toBe('{"a":{"c":2,"d":1},"b":1}');
    const edited = entries.map((e) => (e.seq === 2 ? { ...e, actor: 'x' } : e));
    expect(new ChainVerifier().check(edited)).toMatchObject({ brokenAt: 2 });
    expect(new ChainVerifier().check([entries[0]!, entries[2]!])).toMatchObject({ brokenAt: 3 });
  });
});

describe('labels export and negative lists', () => {
  it('writes labelled cases as CSV (formula-safe) and NDJSON', () => {
    const c = {
      caseId: 1,
      merchantId: '=HYPERLINK("x")',
      transactionId: 't,1',
      label: 'fraud' as const,
      decidedBy: 'a',
      decidedAt: '2026-01-02T00:00:00.000Z',
      occurredAt: '2026-01-01T00:00:00.000Z',
      score: 80,
      decision: 'decline' as const,
      reasonCodes: ['A', 'B'],
      amount: 100,
      currency: 'EUR',
      channel: 'ecommerce',
      cardBin: '411111',
      features: { card_count_1h: 3, card_listed: true },
    };
    const csv = formatLabels([c], 'csv').trim().split('\n');
    expect(csv[0]).toBe(
      'case_id,merchant_id,transaction_id,occurred_at,decided_at,decided_by,labelled_at,label,is_fraud,label_source,analyst_label,chargeback_at,chargeback_reversed_at,challenge_failed_at,refund_at,score,decision,reason_codes,amount,currency,channel,card_bin,card_count_1h,card_listed',
    );
    expect(csv[1]).toContain(`"'=HYPERLINK(""x"")","t,1"`);
    expect(csv[1]).toMatch(/,fraud,1,analyst,fraud,,,,,80,decline,A\|B,100,EUR,ecommerce,411111,3,1$/);
    expect(JSON.parse(formatLabels([c], 'ndjson'))).toMatchObject({ is_fraud: 1, card_listed: 1 });
  });
  it('expires negative-list and allow-list entries', async () => {
    let now = 0;
    const lists = new MemoryNegativeListStore(() => now);
    await lists.add('email', 'e1', 1000, 1);
    await lists.allowCard('m1', 'fp', 1000, 2);
    expect(await lists.matches({ email: ['zz', 'e1'], ip: ['e1'] })).toEqual(['email']);
    expect(await lists.isCardAllowed('m1', ['fp'])).toBe(true);
    now = 1000;
    expect(await lists.matches({ email: ['e1'] })).toEqual([]);
    expect(await lists.isCardAllowed('m1', ['fp'])).toBe(false);
  });
});

describe('queue paging', () => {
  // A store over a recording client whose filter matches 100,000 cases.
  const recording = () => {
    const queries: { text: string; params: readonly unknown[] }[] = [];
    const sql: SqlClient = {
      driver: 'pglite',
      close: async () => {},
      query: async <T>(text: string, params: readonly unknown[] = []) => {
        queries.push({ text, params });
        const rows = text.includes('count(*)') ? [{ n: 100_000 }] : [];
        return { rows: rows as T[], rowCount: rows.length };
      },
      exec: async () => {},
      transaction: async (fn) => fn(sql),
    };
    return { store: new PostgresCaseStore(sql), queries };
  };
  const offsets = (queries: { text: string; params: readonly unknown[] }[]) =>
    queries.filter((q) => q.text.includes('OFFSET')).map((q) => q.params.at(-1));

  it('reads one page, at an OFFSET within MAX_QUEUE_ROWS however deep the page asked', async () => {
    const { store, queries } = recording();
    const deep = await store.list(caseQuerySchema.parse({ page: '100000', pageSize: '200' }));
    expect(deep).toMatchObject({ total: 100_000, page: 50 });
    expect(offsets(queries)).toEqual([9_800]);
    for (const pageSize of [1, 7, 25, 200]) {
      const { store: s, queries: q } = recording();
      await s.list(caseQuerySchema.parse({ page: '100000', pageSize: String(pageSize) }));
      const [offset = Infinity] = offsets(q) as number[];
      expect(offset).toBeLessThan(MAX_QUEUE_ROWS);
      expect(offset + pageSize).toBeGreaterThanOrEqual(MAX_QUEUE_ROWS);
    }
    const { store: shallow, queries: q } = recording();
    expect((await shallow.list(caseQuerySchema.parse({ page: '3', pageSize: '25' }))).page).toBe(3);
    expect(offsets(q)).toEqual([50]);
  });
});
