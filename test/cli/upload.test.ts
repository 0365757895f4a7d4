// The issuers' upload CLI against a listening engine.
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, buildTestApp, type TestApp } from '../support/app.ts';
import { RedisServer } from '../support/redis-server.ts';
import { gzipSync } from 'node:zlib';

const root = new URL('../..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'lg-upload-'));
let t: TestApp;
let base: string;
let eventId: string;

function run(
  args: string[],
  env: Record<string, string> = {},
  url = base,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, 'services/cli/upload.ts'), ...args], {
      cwd: dir,
      env: { ...process.env, LEAKGUARD_URL: url, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** The CLI given `input` on stdin, or on a pipe at fd 3 (as bash's <(zcat list.gz) gives /dev/fd/63). */
function runPiped(
  args: string[],
  input: string | Buffer,
  via: 'stdin' | 'fd3',
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, 'services/cli/upload.ts'), ...args], {
      cwd: dir,
      env: { ...process.env, LEAKGUARD_URL: base, ...env },
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    const pipe = (via === 'stdin' ? child.stdin : child.stdio[3]) as NodeJS.WritableStream;
    // The CLI may end before reading it all (a usage error): a write then fails, which is no failure here.
    (pipe as unknown as { on: (e: string, f: () => void) => void }).on('error', () => undefined);
    pipe.end(input);
    if (via === 'fd3') child.stdin!.end();
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

beforeAll(async () => {
  t = await buildTestApp();
  await t.runtime.watchlist.setBinRanges('i1', [{ from: '411111', to: '411199' }]);
  base = await t.app.listen({ port: 0, host: '127.0.0.1' });
  const ev = await t.app.inject({
    method: 'POST',
    url: '/v1/compromise-events',
    headers: bearer(t.keys.issuer),
    payload: {
      externalId: 'cli-1',
      source: 's',
      exposureStart: '2026-01-01T00:00:00Z',
      exposureEnd: '2026-02-01T00:00:00Z',
      discoveredAt: '2026-03-01T00:00:00Z',
      dataElements: ['pan', 'expiry'],
    },
  });
  eventId = ev.json().id;
});
afterAll(() => t.close());

describe('npm run upload', () => {
  it('uploads a file with progress and a summary; exits 0 when every line was taken', async () => {
    writeFileSync(join(dir, 'good.csv'), 'pan,expiry_month,expiry_year\n4111111111111111,12,2029\n4111111111111129\n');
    const { code, stdout, stderr } = await run(['--event', eventId, 'good.csv'], { LEAKGUARD_API_KEY: t.keys.issuer });
    expect(stderr).toContain('uploading');
    expect(stdout).toContain(`${eventId}: 2 cards listed, 0 already listed, 0 lines rejected`);
    expect(code).toBe(0);
  });

  it('lists rejected lines with masked cards and exits 3 (listed, but for those lines)', async () => {
    writeFileSync(
      join(dir, 'mixed.ndjson'),
      '{"pan":"4111111111111111"}\n{"pan":"4111111111111112"}\n{"pan":"5555555555554444"}\n',
    );
    const { code, stdout } = await run(['--event', eventId, 'mixed.ndjson'], { LEAKGUARD_API_KEY: t.keys.issuer });
    expect(code).toBe(3);
    expect(stdout).toContain('0 cards listed, 1 already listed, 2 lines rejected');
    expect(stdout).toContain('line 2: INVALID_CARD: card number fails the Luhn check (411111******1112)');
    expect(stdout).toContain('line 3: BIN_NOT_OWNED');
    expect(stdout).not.toContain('5555555555554444');
  });

  it("reads a relative FILE from the caller's folder when run through npm's script (which works in the project's folder)", async () => {
    writeFileSync(join(dir, 'relative.csv'), '4111111111111137\n');
    const viaRunSh = (cwd: string, initCwd: string | undefined) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        const env: NodeJS.ProcessEnv = { ...process.env, LEAKGUARD_URL: base, LEAKGUARD_API_KEY: t.keys.issuer };
        delete env.INIT_CWD;
        if (initCwd) env.INIT_CWD = initCwd;
        const child = spawn(
          'sh',
          [join(root, 'scripts/run.sh'), 'services/cli/upload.ts', '--event', eventId, 'relative.csv'],
          { cwd, env },
        );
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.stderr.on('data', (d) => (stderr += d));
        child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
      });
    // As `npm run upload` from `dir` runs it: in the project's folder, INIT_CWD naming the caller's.
    const npmLike = await viaRunSh(root, dir);
    expect(npmLike.stdout, npmLike.stderr).toContain(`${eventId}: 1 cards listed`);
    // As `sh scripts/run.sh` from `dir`: its own folder is the caller's.
    const direct = await viaRunSh(dir, undefined);
    expect(direct.stdout, direct.stderr).toContain(`${eventId}: 0 cards listed, 1 already listed`);
    const missing = await run(['--event', eventId, 'nowhere.csv'], { LEAKGUARD_API_KEY: t.keys.issuer });
    expect(missing.stderr).toContain(`no such file: nowhere.csv (${join(dir, 'nowhere.csv')})`);
  });

  it('explains usage errors and refusals', async () => {
    expect((await run(['good.csv'])).stderr).toContain('--event <id> is required\nusage: npm run upload');
    expect((await run(['--event', eventId])).stderr).toContain('a FILE to upload is required');
    expect((await run(['--event', eventId, 'good.csv', '--format', 'xml'])).stderr).toContain(
      '--format must be csv or ndjson, not "xml"',
    );
    expect((await run(['--event', 'x', 'good.csv'])).stderr).toContain('--event must be a compromise event id');
    const issuer = { LEAKGUARD_API_KEY: t.keys.issuer };
    expect((await run(['--event', eventId, 'missing.csv'], issuer)).stderr).toContain('no such file');
    writeFileSync(join(dir, 'cards.txt'), '4111111111111111\n');
    expect((await run(['--event', eventId, 'cards.txt'], issuer)).stderr).toContain(
      'say --format csv or --format ndjson',
    );
    const wrongKey = await run(['--event', eventId, 'good.csv'], { LEAKGUARD_API_KEY: t.keys.merchant });
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toContain('refused (403)');
  });

  it("prints the engine's refusal of a large list it refused early (not the write's EPIPE), and what its lines before did", async () => {
    const issuer = { LEAKGUARD_API_KEY: t.keys.issuer };
    // A zip archive of 8 MB named .csv: refused on its first bytes, while the CLI is still writing.
    writeFileSync(join(dir, 'archive.csv'), Buffer.concat([Buffer.from('PK\u0003\u0004'), Buffer.alloc(8 << 20, 65)]));
    for (let i = 0; i < 3; i++) {
      const res = await run(['--event', eventId, 'archive.csv'], issuer);
      expect([res.code, res.stderr.split('\n').filter((l) => l.startsWith('upload:'))]).toEqual([
        1,
        ['upload: refused (415): binary content refused: upload a text card list (CSV or NDJSON)'],
      ]);
    }
  });

  it('exits 75 with what to do when the connection is lost part way, or when nothing answers yet', async () => {
    const issuer = { LEAKGUARD_API_KEY: t.keys.issuer };
    writeFileSync(join(dir, 'many.csv'), '4111111111111111\n'.repeat(200_000));
    // Reads a little of the body, then drops the connection (an engine killed mid-upload).
    const dropping = createServer((socket) => socket.once('data', () => socket.destroy()));
    await new Promise<void>((r) => dropping.listen(0, '127.0.0.1', r));
    const lost = await run(
      ['--event', eventId, 'many.csv'],
      issuer,
      `http://127.0.0.1:${(dropping.address() as AddressInfo).port}`,
    );
    dropping.close();
    expect(lost.code).toBe(75);
    expect(lost.stderr).toMatch(
      /upload: the connection was lost after [\d.]+ MB \(\w+: .*\): run the same upload again later/,
    );
    // ECONNREFUSED: the engine restarting, say; scripts retry on 75 (EX_TEMPFAIL).
    const nobody = await run(['--event', eventId, 'many.csv'], issuer, 'http://127.0.0.1:9');
    expect(nobody.code).toBe(75);
    expect(nobody.stderr).toContain('upload: cannot reach http://127.0.0.1:9: ECONNREFUSED');
    expect(nobody.stderr).toContain('run the same upload again later');
    // A host that does not exist will not exist later either: 1.
    const typo = await run(
      ['--event', eventId, '--insecure-http', 'many.csv'],
      issuer,
      'http://no-such-host.invalid:8080',
    );
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain('upload: cannot reach http://no-such-host.invalid:8080: ENOTFOUND');
  });

  it('lists the lines rejected before a refusal, with their numbers and reasons, as after a success', async () => {
    // A Luhn failure, a good card, then a 20 KB line: the list is refused at line 3, the lines before kept.
    writeFileSync(join(dir, 'long-line.csv'), `4111111111111112\n4111111111111145\n${'x'.repeat(20_000)}\n`);
    const res = await run(['--event', eventId, 'long-line.csv'], { LEAKGUARD_API_KEY: t.keys.issuer });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(
      'rejected lines:\n  line 1: INVALID_CARD: card number fails the Luhn check (411111******1112)\n',
    );
    expect(res.stderr).toMatch(
      /upload: refused \(400\): line 3 is longer than \d+ bytes.*\(before it: 1 cards listed, 0 already listed, 1 lines rejected\)/,
    );
    expect(res.stderr + res.stdout).not.toContain('4111111111111112');
  });

  it('tells a partial success (3) from a refusal (1) by exit status, and says the outcome as JSON with --json', async () => {
    const issuer = { LEAKGUARD_API_KEY: t.keys.issuer };
    writeFileSync(join(dir, 'partly.csv'), '4111111111111152\n4111111111111112\n5555555555554444\n');
    const partly = await run(['--event', eventId, '--json', 'partly.csv'], issuer);
    expect(partly.code).toBe(3);
    expect(JSON.parse(partly.stdout)).toEqual({
      event: eventId,
      outcome: 'partly-listed',
      exitStatus: 3,
      httpStatus: 200,
      listed: 1,
      duplicates: 0,
      rejected: 2,
      rejectedByCode: { INVALID_CARD: 1, BIN_NOT_OWNED: 1 },
      rejectedLines: [
        { line: 2, code: 'INVALID_CARD', reason: 'card number fails the Luhn check', card: '411111******1112' },
        {
          line: 3,
          code: 'BIN_NOT_OWNED',
          reason: 'card is outside the BIN ranges registered to your issuer',
          card: '555555******4444',
        },
      ],
      error: null,
      warnings: [],
    });
    // The human summary and rejected lines go to stderr: stdout is the JSON alone.
    expect(partly.stderr).toContain(`${eventId}: 1 cards listed, 0 already listed, 2 lines rejected`);
    expect(partly.stderr + partly.stdout).not.toMatch(/4111111111111112|5555555555554444/);

    // Uploaded again: the same outcome, its card already listed.
    const again = await run(['--event', eventId, '--json', 'partly.csv'], issuer);
    expect([again.code, JSON.parse(again.stdout)]).toEqual([
      3,
      expect.objectContaining({ outcome: 'partly-listed', listed: 0, duplicates: 1, rejected: 2 }),
    ]);

    writeFileSync(join(dir, 'clean.csv'), '4111111111111152\n');
    const clean = await run(['--event', eventId, '--json', 'clean.csv'], issuer);
    expect([clean.code, JSON.parse(clean.stdout)]).toEqual([
      0,
      expect.objectContaining({ outcome: 'listed', exitStatus: 0, listed: 0, duplicates: 1, rejected: 0 }),
    ]);

    // Nothing uploaded: an unknown event (404) is 1, never 3.
    const unknown = await run(['--event', 'ce_99999', '--json', 'partly.csv'], issuer);
    expect(unknown.code).toBe(1);
    expect(JSON.parse(unknown.stdout)).toEqual({
      event: 'ce_99999',
      outcome: 'refused',
      exitStatus: 1,
      httpStatus: 404,
      listed: 0,
      duplicates: 0,
      rejected: 0,
      rejectedByCode: {},
      rejectedLines: [],
      error: expect.any(String),
      warnings: [],
    });
    const help = (await run(['--help'])).stdout;
    for (const status of ['0  listed', '3  partly-listed', '1  refused', '2  bad usage', '65 no-card', '75 try-again'])
      expect(help).toContain(status);
  });

  it("prints each detail of a refusal (field and reason), and says when the answer is not Leakguard's", async () => {
    const issuer = { LEAKGUARD_API_KEY: t.keys.issuer };
    writeFileSync(join(dir, 'detail.csv'), '4111111111111160\n');
    const tooLong = await run(['--event', 'ce_123456789012', 'detail.csv'], issuer);
    expect(tooLong.code).toBe(1);
    expect(tooLong.stderr).toContain(
      'upload: refused (400): invalid request: params.id: must be a compromise event id (ce_<number>)\n',
    );

    // What a proxy or another server answers: status and content type, not a JSON parse error.
    const answers: [number, Record<string, string>, string][] = [
      [200, { 'content-type': 'text/html' }, '<html><body>Welcome</body></html>'],
      [200, {}, ''],
      [404, { 'content-type': 'text/html; charset=utf-8' }, '<html>Not Found</html>'],
      [502, { 'content-type': 'text/html' }, '<html>Bad Gateway</html>'],
    ];
    let next = 0;
    const proxy = createHttpServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const [status, headers, body] = answers[next++]!;
        res.writeHead(status, headers).end(body);
      });
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const seen = [];
    for (let i = 0; i < answers.length; i++) {
      const res = await run(['--event', eventId, 'detail.csv'], issuer, url);
      seen.push([res.code, res.stderr.split('\n').filter((l) => l.startsWith('upload:'))]);
    }
    proxy.close();
    const notOurs = (what: string) =>
      `upload: the answer is not Leakguard's (${what}): is ${url} the Leakguard API, or did a proxy or another server answer?`;
    expect(seen).toEqual([
      [1, [`${notOurs('HTTP 200, text/html')} Nothing says the list was taken.`]],
      [1, [`${notOurs('HTTP 200, no content type')} Nothing says the list was taken.`]],
      [1, [notOurs('HTTP 404, text/html; charset=utf-8')]],
      [75, [expect.stringContaining(`${notOurs('HTTP 502, text/html')} run the same upload again later`)]],
    ]);
  });

  it('reads stdin (-) and pipes such as <(zcat list.gz) (/dev/fd/N), sent without a length, progress without a percentage', async () => {
    const issuer = { LEAKGUARD_API_KEY: t.keys.issuer };
    const list = 'pan\n4111111111111178\n4111111111111186\n';
    const stdin = await runPiped(['--event', eventId, '--format', 'csv', '-'], list, 'stdin', issuer);
    expect(stdin.stdout, stdin.stderr).toContain(`${eventId}: 2 cards listed, 0 already listed, 0 lines rejected`);
    expect(stdin.stderr).toMatch(/uploading [\d.]+ MB \| [\d.]+ MB\/s/);
    expect(stdin.stderr).not.toContain('%');
    expect(stdin.code).toBe(0);

    // bash's <(...): a pipe at /dev/fd/63.
    writeFileSync(join(dir, 'piped.csv'), list);
    const viaBash = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(
        'bash',
        [
          '-c',
          '"$0" "$1" --event "$2" --format csv <(cat piped.csv)',
          process.execPath,
          join(root, 'services/cli/upload.ts'),
          eventId,
        ],
        { cwd: dir, env: { ...process.env, LEAKGUARD_URL: base, ...issuer } },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
    expect(viaBash.stdout, viaBash.stderr).toContain(`${eventId}: 0 cards listed, 2 already listed, 0 lines rejected`);
    expect(viaBash.code).toBe(0);
    // A descriptor a parent process hands down (Node's child pipes are sockets): /dev/fd/3.
    const fd = await runPiped(['--event', eventId, '--format', 'csv', '/dev/fd/3'], list, 'fd3', issuer);
    expect(fd.stdout, fd.stderr).toContain(`${eventId}: 0 cards listed, 2 already listed, 0 lines rejected`);
    expect(fd.code).toBe(0);

    // No file name to tell the format; an empty stream lists no card; a folder is no card list.
    expect((await runPiped(['--event', eventId, '-'], list, 'stdin', issuer)).stderr).toContain(
      'say --format csv or --format ndjson (stdin has no file name)',
    );
    const empty = await runPiped(['--event', eventId, '--format', 'ndjson', '-'], '', 'stdin', issuer);
    expect([empty.code, empty.stderr]).toEqual([65, expect.stringContaining('upload: warning: stdin lists no card')]);
    const folder = await run(['--event', eventId, '--format', 'csv', '.'], issuer);
    expect([folder.code, folder.stderr]).toEqual([2, 'upload: . is a folder, not a card list\n']);
  });

  it('refuses a list in the other format before sending it, naming the format it looks like', async () => {
    const issuer = { LEAKGUARD_API_KEY: t.keys.issuer };
    writeFileSync(
      join(dir, 'csv-inside.ndjson'),
      `pan,expiry_month,expiry_year\n${'4111111111111194,12,2030\n'.repeat(150)}`,
    );
    const csvAsNdjson = await run(['--event', eventId, 'csv-inside.ndjson'], issuer);
    expect([csvAsNdjson.code, csvAsNdjson.stderr, csvAsNdjson.stdout]).toEqual([
      2,
      'upload: csv-inside.ndjson looks like CSV, not NDJSON: use --format csv\n',
      '',
    ]);
    writeFileSync(join(dir, 'ndjson-inside.csv'), '{"pan":"4111111111111194"}\n');
    const ndjsonAsCsv = await runPiped(
      ['--event', eventId, '--format', 'csv', '-'],
      '{"pan":"4111111111111194"}\n',
      'stdin',
      issuer,
    );
    expect([ndjsonAsCsv.code, ndjsonAsCsv.stderr]).toEqual([
      2,
      'upload: stdin looks like NDJSON, not CSV: use --format ndjson\n',
    ]);
    expect((await run(['--event', eventId, 'ndjson-inside.csv'], issuer)).stderr).toBe(
      'upload: ndjson-inside.csv looks like NDJSON, not CSV: use --format ndjson\n',
    );
    // With the format it looks like, the list goes (nothing of it was listed before).
    const right = await run(['--event', eventId, '--format', 'csv', 'csv-inside.ndjson'], issuer);
    expect(right.stdout).toContain('1 cards listed, 149 already listed, 0 lines rejected');
    expect(right.code).toBe(0);
  });

  it('refuses a UTF-16 export and lone-CR line endings before sending, saying how to save the file', async () => {
    const issuer = { LEAKGUARD_API_KEY: t.keys.issuer };
    // Whatever listens is never reached: the CLI refuses on the file's first bytes.
    let connections = 0;
    const listener = createServer((socket) => (connections++, socket.destroy()));
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;
    writeFileSync(join(dir, 'unicode.csv'), Buffer.from('\ufeffpan\r\n4111111111111202\r\n', 'utf16le'));
    writeFileSync(join(dir, 'mac.csv'), 'pan\r4111111111111202\r4111111111111210\r');
    const unicode = await run(['--event', eventId, 'unicode.csv'], issuer, url);
    const mac = await run(['--event', eventId, '--json', 'mac.csv'], issuer, url);
    listener.close();
    expect(connections).toBe(0);
    expect([unicode.code, unicode.stderr]).toEqual([
      1,
      'upload: unicode.csv: the card list is UTF-16 (little-endian, byte-order mark FF FE), not UTF-8: save it as UTF-8 (a spreadsheet\'s "CSV UTF-8") and upload it again\n',
    ]);
    expect(mac.code).toBe(1);
    expect(mac.stderr).toContain(
      'upload: mac.csv: the card list ends its lines with a lone CR (classic Mac OS line endings',
    );
    expect(JSON.parse(mac.stdout)).toMatchObject({ outcome: 'refused', exitStatus: 1, httpStatus: null, listed: 0 });
  });

  it('lists lines in a row rejected alike as one entry, not a hundred identical lines', async () => {
    const issuer = { LEAKGUARD_API_KEY: t.keys.issuer };
    writeFileSync(join(dir, 'words.ndjson'), `${'x\n'.repeat(150)}`);
    const res = await run(['--event', eventId, 'words.ndjson'], issuer);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(
      'rejected lines by code: MALFORMED 150\nrejected lines (first 100 of 150):\n  lines 1-100: MALFORMED: not a JSON object ((unreadable))\nupload: refused (400): none of the 150 lines is a card list line: expected {"pan": "...", "expiryMonth": 1, "expiryYear": 2027}',
    );
  });

  it('refuses plain http:// to another machine (exit 2) unless --insecure-http; http:// to this machine is fine', async () => {
    const issuer = { LEAKGUARD_API_KEY: t.keys.issuer };
    writeFileSync(join(dir, 'good.csv'), 'pan,expiry_month,expiry_year\n4111111111111111,12,2029\n4111111111111129\n');
    for (const url of ['http://leakguard.example.com:8080', 'http://10.0.0.7', 'http://[2001:db8::1]:8080']) {
      const refused = await run(['--event', eventId, 'good.csv'], issuer, url);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toBe(
        `upload: refusing to send card numbers unencrypted to ${new URL(url).host} over http://: use https://, or --insecure-http to send them in clear text all the same\n`,
      );
    }
    // With the flag, it goes (and here finds no such host).
    const insecure = await run(
      ['--event', eventId, '--insecure-http', 'good.csv'],
      issuer,
      'http://no-such-host.invalid',
    );
    expect(insecure.stderr).toContain('cannot reach http://no-such-host.invalid: ENOTFOUND');
    // Loopback in its forms: sent (nothing listens on port 9: try again later).
    for (const url of ['http://localhost:9', 'http://127.0.0.2:9', 'http://[::1]:9', 'http://[::ffff:127.0.0.1]:9']) {
      const local = await run(['--event', eventId, 'good.csv'], issuer, url);
      expect([url, local.code, local.stderr]).toEqual([url, 75, expect.stringContaining('ECONNREFUSED')]);
    }
    expect((await run(['--event', eventId, 'good.csv'], issuer, 'ftp://127.0.0.1')).stderr).toContain(
      '--url must be an https:// or http:// URL, not "ftp://127.0.0.1"',
    );
    expect((await run(['--help'])).stdout).toContain('--insecure-http');
  });

  it('never echoes an argument or file name that may be a card number', async () => {
    const issuer = { LEAKGUARD_API_KEY: t.keys.issuer };
    const event = await run(['--event', '4111110000000088', 'good.csv'], issuer);
    expect(event.code).toBe(2);
    expect(event.stderr).toContain('--event must be a compromise event id such as ce_1, not "411111******0088"');
    const format = await run(['--event', eventId, '--format', '4111110000000088', 'good.csv'], issuer);
    expect(format.stderr).toContain('not "411111******0088"');
    const file = await run(['--event', eventId, '4111110000000088.csv'], issuer);
    expect(file.stderr).toContain('no such file: 411111******0088.csv');
    for (const r of [event, format, file]) expect(r.stderr + r.stdout).not.toContain('4111110000000088');
  });

  it('warns and exits 65 when the file lists no card: empty, or a header only', async () => {
    const issuer = { LEAKGUARD_API_KEY: t.keys.issuer };
    writeFileSync(join(dir, 'empty.csv'), '');
    const empty = await run(['--event', eventId, 'empty.csv'], issuer);
    expect(empty.code).toBe(65);
    expect(empty.stderr).toContain('upload: warning: empty.csv is empty: nothing to upload');
    writeFileSync(join(dir, 'header.csv'), 'pan,expiry_month,expiry_year\n');
    const header = await run(['--event', eventId, 'header.csv'], issuer);
    expect(header.stdout).toContain('0 cards listed, 0 already listed, 0 lines rejected');
    expect(header.stderr).toContain('upload: warning: header.csv lists no card (a header line only?)');
    expect(header.code).toBe(65);
    expect((await run(['--help'])).stdout).toContain('65 no-card: FILE lists no card');
  });

  it('takes the key from a file, and refuses one on the command line, where ps and shell history show it', async () => {
    const keyFile = join(dir, 'issuer.key');
    writeFileSync(keyFile, `${t.keys.issuer}\n`, { mode: 0o600 });
    const fromFile = await run(['--event', eventId, '--key-file', keyFile, 'good.csv']);
    expect(fromFile.stdout).toContain('0 cards listed, 2 already listed');
    expect(fromFile.stderr).not.toContain('0600');
    expect(fromFile.code).toBe(0);

    for (const args of [['--key', t.keys.issuer], [`--key=${t.keys.issuer}`]]) {
      const onCommandLine = await run(['--event', eventId, ...args, 'good.csv']);
      expect(onCommandLine.code).toBe(2);
      expect(onCommandLine.stderr).toContain(
        'upload: --key is refused: a key on the command line is visible to every user of this machine (ps, /proc) and stays in shell history; set LEAKGUARD_API_KEY or use --key-file FILE (mode 0600)',
      );
      expect(onCommandLine.stderr + onCommandLine.stdout).not.toContain(t.keys.issuer);
    }

    // A key file others can read works, with a warning; a missing or empty one is refused.
    chmodSync(keyFile, 0o644);
    const readable = await run(['--event', eventId, '--key-file', keyFile, 'good.csv']);
    expect(readable.code).toBe(0);
    expect(readable.stderr).toContain(
      `upload: warning: ${keyFile} can be read by other users (mode 0644): chmod 600 it`,
    );
    expect((await run(['--event', eventId, '--key-file', join(dir, 'nope.key'), 'good.csv'])).stderr).toContain(
      `upload: --key-file: cannot read ${join(dir, 'nope.key')}`,
    );
    writeFileSync(join(dir, 'empty.key'), '\n', { mode: 0o600 });
    expect((await run(['--event', eventId, '--key-file', join(dir, 'empty.key'), 'good.csv'])).stderr).toContain(
      `upload: --key-file: ${join(dir, 'empty.key')} is empty`,
    );
    const both = await run(['--event', eventId, '--key-file', keyFile, 'good.csv'], {
      LEAKGUARD_API_KEY: t.keys.issuer,
    });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('upload: set either LEAKGUARD_API_KEY or --key-file, not both');
  });
});

/** The Luhn check digit that makes `body` (digits) a valid card number. */
function checkDigit(body: string): string {
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let d = Number(body[body.length - 1 - i]);
    if (i % 2 === 0) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}
const luhnCard = (body15: string) => body15 + checkDigit(body15);
/** Cards of the issuer's BIN range no other test lists, `count` of them from `from`. */
const freshCards = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, i) => luhnCard(`${prefix}${String(i).padStart(15 - prefix.length, '0')}`));
/** A card whose first 13 digits are a valid card number too: cut there, a list names another card. */
function cardCutValid(prefix: string): { whole: string; cut: string } {
  for (let i = 0; ; i++) {
    const whole = luhnCard(`${prefix}${String(i).padStart(15 - prefix.length, '0')}`);
    const cut = whole.slice(0, 13);
    if (checkDigit(cut.slice(0, 12)) === cut[12]) return { whole, cut };
  }
}
async function listed(pans: string[]): Promise<boolean[]> {
  const res = await t.app.inject({
    method: 'POST',
    url: '/v1/cards/lookup',
    headers: bearer(t.keys.issuer),
    payload: { cards: pans.map((pan) => ({ pan })) },
  });
  expect(res.statusCode, res.body).toBe(200);
  return (res.json().cards as { listed: boolean }[]).map((c) => c.listed);
}

describe('npm run upload: an input cut part way', () => {
  const issuer = () => ({ LEAKGUARD_API_KEY: t.keys.issuer });

  it('warns, naming the line and never the card, when the last line has no line ending though every other had one', async () => {
    const [a, b] = freshCards('41117100', 2);
    const { cut } = cardCutValid('41117101');
    // `head -c N big.csv | upload -`: the stream stops inside a card, whose first 13 digits pass Luhn.
    const piped = await runPiped(
      ['--event', eventId, '--format', 'csv', '--json', '-'],
      `pan\n${a}\n${b}\n${cut}`,
      'stdin',
      issuer(),
    );
    expect(piped.code, piped.stderr).toBe(0);
    const summary = JSON.parse(piped.stdout);
    expect(summary).toMatchObject({ outcome: 'listed', listed: 3, warnings: [expect.stringContaining('line 4')] });
    expect(summary.warnings[0]).toContain('may have been cut');
    expect(piped.stderr).toMatch(/upload: warning: line 4, the last, has no line ending.*may have been cut/);
    expect(piped.stderr + piped.stdout).not.toContain(cut);

    // Every line ended: no warning. A list whose only line has no line ending: nothing to tell it by, no warning.
    const [c, d] = freshCards('41117102', 2);
    const ended = await runPiped(['--event', eventId, '--format', 'csv', '--json', '-'], `${c}\n`, 'stdin', issuer());
    expect([ended.code, JSON.parse(ended.stdout).warnings, ended.stderr]).toEqual([
      0,
      [],
      expect.not.stringContaining('warning'),
    ]);
    writeFileSync(join(dir, 'one-line.csv'), d!);
    const oneLine = await run(['--event', eventId, '--json', 'one-line.csv'], issuer());
    expect([oneLine.code, JSON.parse(oneLine.stdout)]).toEqual([
      0,
      expect.objectContaining({ listed: 1, warnings: [] }),
    ]);
    // A file without a final line ending is listed whole, with the warning.
    const [e, f] = freshCards('41117103', 2);
    writeFileSync(join(dir, 'no-final-newline.csv'), `${e}\r\n${f}`);
    const noFinal = await run(['--event', eventId, 'no-final-newline.csv'], issuer());
    expect(noFinal.code).toBe(0);
    expect(noFinal.stdout).toContain('2 cards listed');
    expect(noFinal.stderr).toContain('upload: warning: line 2, the last, has no line ending');
    expect(await listed([a!, b!, cut, c!, d!, e!, f!])).toEqual([true, true, true, true, true, true, true]);
  });

  it('reads a .gz list itself: whole, it is listed; cut, the lines before are listed and reported, the cut line is not, exit 74', async () => {
    const cards = freshCards('41117200', 1_500);
    const { whole } = cardCutValid('41117201');
    const text = `pan\n${cards.join('\n')}\n${whole}\n`;
    writeFileSync(join(dir, 'whole.csv.gz'), gzipSync(text));
    const ok = await run(['--event', eventId, '--json', 'whole.csv.gz'], issuer());
    expect([ok.code, JSON.parse(ok.stdout)]).toEqual([
      0,
      expect.objectContaining({ outcome: 'listed', listed: 1_501, duplicates: 0, rejected: 0, warnings: [] }),
    ]);

    // Stored blocks (level 0): the bytes after the header are the text's, so the cut falls where chosen,
    // inside the last card, after its 13th digit.
    const others = freshCards('41117202', 1_500);
    const { whole: last, cut: lastCut } = cardCutValid('41117203');
    const gz = gzipSync(`pan\n${others.join('\n')}\n${last}\n`, { level: 0 });
    const at = gz.indexOf(Buffer.from(last)) + 13;
    writeFileSync(join(dir, 'cut.csv.gz'), gz.subarray(0, at));
    const res = await run(['--event', eventId, '--json', 'cut.csv.gz'], issuer());
    expect(res.code, res.stderr).toBe(74);
    expect(JSON.parse(res.stdout)).toEqual(
      expect.objectContaining({ outcome: 'input-error', exitStatus: 74, listed: 1_500, duplicates: 0, rejected: 0 }),
    );
    expect(res.stderr).toMatch(/upload: reading cut\.csv\.gz failed at line 1,502 \(.*unexpected end of file.*\)/);
    expect(res.stderr).toContain('1500 cards listed');
    expect(res.stderr + res.stdout).not.toContain(lastCut);
    expect(await listed([others[0]!, others.at(-1)!, lastCut, last])).toEqual([true, true, false, false]);
    // gzip's bytes on stdin are read as such: whole, or cut.
    const stdin = await runPiped(
      ['--event', eventId, '--format', 'csv', '--json', '-'],
      gzipSync(text),
      'stdin',
      issuer(),
    );
    expect([stdin.code, JSON.parse(stdin.stdout)]).toEqual([
      0,
      expect.objectContaining({ listed: 0, duplicates: 1_501 }),
    ]);
    const cutStdin = await runPiped(
      ['--event', eventId, '--format', 'csv', '--json', '-'],
      gz.subarray(0, at),
      'stdin',
      issuer(),
    );
    expect([cutStdin.code, JSON.parse(cutStdin.stdout)]).toEqual([
      74,
      expect.objectContaining({
        outcome: 'input-error',
        duplicates: 1_500,
        error: expect.stringContaining('reading stdin failed at line 1,502'),
      }),
    ]);
    expect(await listed([lastCut])).toEqual([false]);
    expect((await run(['--help'])).stdout).toContain('74 input-error');
  });

  it('the engine lists no line a connection cut before its end, and keeps the batches it took', async () => {
    const cards = freshCards('41117300', 1_200);
    const { cut } = cardCutValid('41117301');
    const body = `${cards.join('\n')}\n${cut}`;
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest(`${base}/v1/compromise-events/${eventId}/cards`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${t.keys.issuer}`,
          'content-type': 'text/csv',
          'content-length': String(Buffer.byteLength(body) + 100),
        },
      });
      req.on('error', () => resolve());
      req.on('response', () => reject(new Error('answered a body cut short')));
      req.write(body, () => setTimeout(() => req.destroy(), 300));
    });
    // The first batch (1,000 lines) was sent to the store: listed; the line cut, never.
    for (let i = 0; i < 50 && !(await listed([cards[0]!]))[0]; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await listed([cards[0]!, cards[999]!, cut])).toEqual([true, true, false]);
  });
});

describe('npm run upload against an engine whose Redis is full', () => {
  let redis: RedisServer;
  let full: TestApp;
  beforeAll(async () => {
    redis = await RedisServer.start();
    full = await buildTestApp({ REDIS_URL: redis.url });
    await full.runtime.watchlist.setBinRanges('i1', [{ from: '411111', to: '411199' }]);
  });
  afterAll(async () => {
    await full.close();
    await redis.stop();
  });

  it('exits 75 (try again later) with what to do, and the same upload succeeds once Redis has room', async () => {
    const url = await full.app.listen({ port: 0, host: '127.0.0.1' });
    const ev = await full.app.inject({
      method: 'POST',
      url: '/v1/compromise-events',
      headers: bearer(full.keys.issuer),
      payload: {
        externalId: 'cli-full',
        source: 's',
        exposureStart: '2026-01-01T00:00:00Z',
        exposureEnd: '2026-02-01T00:00:00Z',
        discoveredAt: '2026-03-01T00:00:00Z',
        dataElements: ['pan'],
      },
    });
    writeFileSync(join(dir, 'later.csv'), '4111111111111111\n4111111111111129\n');
    const admin = new Redis(redis.url);
    try {
      await admin.config('SET', 'maxmemory', '1');
      const refused = await run(['--event', ev.json().id, 'later.csv'], { LEAKGUARD_API_KEY: full.keys.issuer }, url);
      expect(refused.code).toBe(75);
      expect(refused.stderr).toContain('refused (503): store unavailable: retry');
      expect(refused.stderr).toContain('Run the same upload again in 10 s or later');
      await admin.config('SET', 'maxmemory', '0');
    } finally {
      admin.disconnect();
    }
    const again = await run(['--event', ev.json().id, 'later.csv'], { LEAKGUARD_API_KEY: full.keys.issuer }, url);
    expect(again.stdout).toContain('2 cards listed, 0 already listed, 0 lines rejected');
    expect(again.code).toBe(0);
  });
});
