// API key ids are audited and shown everywhere the card-number scrubber runs: never one it masks.
// Labels are free text: a card number in one is masked.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { FileApiKeyStore } from '../../services/adapters/files/api-key-file-store.ts';
import { createApiKey, newKeyId } from '../../services/auth/api-keys.ts';
import { scrubCardNumbers } from '../../services/core/scrub.ts';

it('draws a key id again when the one drawn reads as a card number (all decimal, passing Luhn)', () => {
  // 045960568116: the id a CI run drew, masked in the audit log (as key_045960**8116 then, key_045960****** now).
  const draws = [Buffer.from('045960568116', 'hex'), Buffer.from('0a5960568116', 'hex')];
  expect(scrubCardNumbers('key_045960568116')).not.toBe('key_045960568116');
  let calls = 0;
  const id = newKeyId((size) => {
    expect(size).toBe(6);
    return draws[calls++]!;
  });
  expect([id, calls]).toEqual(['key_0a5960568116', 2]);
  expect(scrubCardNumbers(id)).toBe(id);
});

it('keeps an ordinary draw as it is: key_ and 12 hex digits', () => {
  const id = newKeyId();
  expect(id).toMatch(/^key_[0-9a-f]{12}$/);
  expect(scrubCardNumbers(id)).toBe(id);
});

it('masks a card number in a key label, as stored and as read back (a label stored in clear before)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lg-keys-'));
  try {
    const path = join(dir, 'api-keys.json');
    const store = new FileApiKeyStore(path);
    const { record } = await createApiKey(store, { role: 'admin', label: 'card 4111 1111 1111 1111 test' });
    expect(record.label).toBe('card 411111******1111 test');
    expect(readFileSync(path, 'utf8')).not.toMatch(/4111.?1111.?1111.?1111/);
    // An older file, written before labels were masked, is never listed in clear.
    const old = JSON.parse(readFileSync(path, 'utf8')) as { keys: { label: string }[] };
    old.keys[0]!.label = 'card 4111111111111111';
    writeFileSync(path, JSON.stringify(old));
    expect((await new FileApiKeyStore(path).list())[0]!.label).toBe('card 411111******1111');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
