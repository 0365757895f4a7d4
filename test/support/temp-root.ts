// One temporary folder for the whole test run: every test's mkdtemp(tmpdir()) and every server
// it starts (Redis, PostgreSQL, Kafka, Chromium) write below it, and it goes once the run ends,
// whatever a test forgot to remove. Listed first in vitest.config.ts: global teardowns run in
// reverse order, so the shared Kafka broker has stopped (its state dir is in here) before this
// goes. Not removed on a crash: the broker's own exit handler still needs its pid file then.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), 'lg-test-run-'));
  // Traversable (not listable) by others: PostgreSQL refuses root and runs as another user, in a
  // folder of its own below this one (each test's folder is still 0700, as mkdtemp makes it).
  chmodSync(root, 0o711);
  // Workers and the processes they spawn inherit the environment: os.tmpdir() reads TMPDIR.
  process.env.TMPDIR = root;
  // And the audit log's default checkpoint files (services/audit-key.ts), never the user's own ~/.local/state.
  process.env.XDG_STATE_HOME = join(root, 'state-home');
  return () => rmSync(root, { recursive: true, force: true });
}
