// From the single-Redis key layout to the cluster layout (hash tags per slot group): renames the
// keys a single Redis holds from before, so that an existing deployment keeps its watchlists, API
// keys, negative lists and allow-lists after the upgrade.
//
// - Single Redis only: a cluster is new, it never held the old layout (a no-op there).
// - Idempotent and safe at every start: each key is renamed with RENAMENX, only when the new key
//   does not exist; a key renamed meanwhile by another engine starting at the same time is
//   skipped. RENAME keeps a key's TTL (negative and allow-list entries expire as before).
// - A legacy key whose new name already exists is left in place and counted in `conflicts`
//   (an engine of the old version wrote it after the upgrade; nothing is overwritten).
// - Cost: one SCAN of the keyspace (MATCH narrowed to the legacy prefixes), then one pipelined
//   RENAMENX per legacy key found.
import { API_KEY_KEYS, LEGACY_API_KEY_KEYS } from './api-key-store.ts';
import { isCluster, type RedisClient } from './connection.ts';
import { legacyWatchlistKeys as OLD, watchlistKeys as NEW } from './watchlist-keys.ts';
import { NEGATIVE_KINDS, type NegativeKind } from '../../core/lists.ts';
import { REDIS_KEYS } from './keys.ts';

export interface KeyMigrationResult {
  renamed: number;
  /** Legacy keys left in place because their new name exists already. */
  conflicts: number;
}

const FIXED: [from: string, to: string][] = [
  [OLD.seq, NEW.seq],
  [OLD.events, NEW.events],
  [OLD.externalIds, NEW.externalIds],
  [OLD.binRanges, NEW.binRanges],
  [LEGACY_API_KEY_KEYS.records, API_KEY_KEYS.records],
  [LEGACY_API_KEY_KEYS.byHash, API_KEY_KEYS.byHash],
];

const NEGATIVE = new Set<string>(NEGATIVE_KINDS);

/** The new name of a legacy key found by SCAN, or undefined when the key is not a legacy one. */
export function newNameOf(key: string): string | undefined {
  let m = /^lg:w:ev:(\d+)$/.exec(key);
  if (m && OLD.event(m[1]!) === key) return NEW.event(m[1]!);
  m = /^lg:w:ev:(\d+):merchants$/.exec(key);
  if (m && OLD.eventMerchants(m[1]!) === key) return NEW.eventMerchants(m[1]!);
  m = /^lg:w:hits:\{(.+)\}$/.exec(key);
  if (m && OLD.hits(m[1]!) === key) return NEW.hits(m[1]!);
  m = /^lg:neg:([a-z]+):(.+)$/.exec(key);
  if (m && NEGATIVE.has(m[1]!)) return REDIS_KEYS.negative(m[1] as NegativeKind, m[2]!);
  // lg:allow:MERCHANT:FINGERPRINT — a fingerprint is base64url (no colon): the last field.
  m = /^lg:allow:(.+):([A-Za-z0-9_-]+)$/.exec(key);
  if (m) return REDIS_KEYS.allow(m[1]!, m[2]!);
  return undefined;
}

/**
 * Every legacy prefix (`lg:w:ev:`, `lg:w:hits:`, `lg:neg:`, `lg:allow:`) matches and no key of the
 * new layout (`lg:{`) nor a watchlist bucket (`lg:w:{`) does; newNameOf() sorts out the rest.
 */
const SCAN_MATCH = 'lg:[wna][:el][ehgl]*';

export async function migrateKeyLayout(
  redis: RedisClient,
  options: { scanCount?: number } = {},
): Promise<KeyMigrationResult> {
  const result: KeyMigrationResult = { renamed: 0, conflicts: 0 };
  if (isCluster(redis)) return result;
  const renameAll = async (pairs: [string, string][]) => {
    if (pairs.length === 0) return;
    const pipeline = redis.pipeline();
    for (const [from, to] of pairs) pipeline.renamenx(from, to);
    const replies = (await pipeline.exec()) ?? [];
    replies.forEach(([error, reply]) => {
      if (error) {
        // Gone meanwhile (renamed by another engine starting too, or expired): nothing to do.
        if (/no such key/i.test(error.message)) return;
        throw error;
      }
      if (reply === 1) result.renamed++;
      else result.conflicts++;
    });
  };

  const present = await Promise.all(FIXED.map(([from]) => redis.exists(from)));
  await renameAll(FIXED.filter((_, i) => present[i] === 1));

  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', SCAN_MATCH, 'COUNT', options.scanCount ?? 5000);
    cursor = next;
    await renameAll(
      keys.flatMap((key): [string, string][] => {
        const to = newNameOf(key);
        return to ? [[key, to]] : [];
      }),
    );
  } while (cursor !== '0');
  return result;
}
