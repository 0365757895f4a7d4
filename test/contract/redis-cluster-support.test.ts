// The local Redis Cluster the cluster tests run against (test/support/redis-cluster.ts): that it
// is a real cluster (keys spread over masters, MOVED from the others), that a slot really moves
// with its keys, and that a killed master is really failed over to its replica with the data.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, Redis } from 'ioredis';
import { parseClusterNodes } from '../../services/adapters/redis/connection.ts';
import { keySlot, RedisCluster, type ClusterNode } from '../support/redis-cluster.ts';

/** A plain connection to one node, bypassing cluster routing. */
async function direct<T>(node: ClusterNode, use: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis({
    host: node.host,
    port: node.port,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  await redis.connect();
  try {
    return await use(redis);
  } finally {
    redis.disconnect();
  }
}

const countKeysInSlot = (node: ClusterNode, slot: number) =>
  direct(node, async (r) => Number(await r.call('CLUSTER', 'COUNTKEYSINSLOT', slot)));

/** The ready Cluster client, as the application would build it from the seeds. */
async function clusterClient(cluster: RedisCluster): Promise<Cluster> {
  const client = new Cluster(cluster.seedList, {
    retryDelayOnClusterDown: 100,
    retryDelayOnFailover: 100,
    retryDelayOnTryAgain: 50,
  });
  await new Promise<void>((resolve, reject) => {
    client.once('ready', resolve);
    client.once('error', reject);
  });
  return client;
}

/** The first key `prefix + i` whose slot (computed locally) passes `slots`. */
function keyOn(prefix: string, slots: (slot: number) => boolean): string {
  for (let i = 0; ; i++) if (slots(keySlot(`${prefix}${i}`))) return `${prefix}${i}`;
}

describe('a 3-master cluster', () => {
  let cluster: RedisCluster;
  let client: Cluster;
  beforeAll(async () => {
    cluster = await RedisCluster.start();
    client = await clusterClient(cluster);
  });
  afterAll(async () => {
    client?.disconnect();
    await cluster?.stop();
  });

  it('computes slots as Redis does and hands out seeds the application parses', async () => {
    expect(cluster.nodes).toHaveLength(3);
    expect(cluster.nodes.every((n) => n.role === 'master')).toBe(true);
    expect(new Set(cluster.nodes.map((n) => n.id)).size).toBe(3);
    expect(cluster.nodes.every((n) => /^[0-9a-f]{40}$/.test(n.id))).toBe(true);
    expect(cluster.seeds).toBe(cluster.nodes.map((n) => `127.0.0.1:${n.port}`).join(','));
    expect(parseClusterNodes(cluster.seeds).nodes).toEqual(cluster.seedList);
    const keys = [
      '',
      'a',
      'card:4111',
      '{user1}.following',
      '{user1}.followers',
      'foo{}{bar}',
      'foo{{bar}}zap',
      'foo{bar}{zap}',
      '{}x',
      'é€😀',
      ...Array.from({ length: 40 }, (_, i) => `k${i * 7919}`),
    ];
    const server = await direct(cluster.nodes[0]!, (r) =>
      Promise.all(keys.map(async (k) => Number(await r.call('CLUSTER', 'KEYSLOT', k)))),
    );
    expect(keys.map(keySlot)).toEqual(server);
    expect(keySlot('{user1}.following')).toBe(keySlot('{user1}.followers'));
    // Even split: 5462 + 5461 + 5461, as CLUSTER SHARDS / SLOTS report it.
    const slots = (await direct(cluster.nodes[0]!, (r) => r.call('CLUSTER', 'SLOTS'))) as [
      number,
      number,
      [string, number, string],
    ][];
    expect(slots.map(([a, b, [, port]]) => [a, b, port]).sort((x, y) => x[0]! - y[0]!)).toEqual([
      [0, 5461, cluster.nodes[0]!.port],
      [5462, 10922, cluster.nodes[1]!.port],
      [10923, 16383, cluster.nodes[2]!.port],
    ]);
  });

  it('spreads keys over the masters: each lives on the master masterOf names, the others answer MOVED', async () => {
    const keys = [
      keyOn('spread:', (s) => s < 5462),
      keyOn('spread:', (s) => s >= 5462 && s < 10923),
      keyOn('spread:', (s) => s >= 10923),
    ];
    for (const k of keys) await client.set(k, `value of ${k}`);
    const owners = await Promise.all(keys.map((k) => cluster.masterOf(k)));
    expect(new Set(owners).size).toBe(3);
    expect(owners).toEqual(cluster.nodes.slice(0, 3));
    for (const [i, k] of keys.entries()) {
      expect(await client.get(k)).toBe(`value of ${k}`);
      expect(await direct(owners[i]!, (r) => r.get(k))).toBe(`value of ${k}`);
      for (const other of cluster.nodes.filter((n) => n !== owners[i])) {
        await expect(direct(other, (r) => r.get(k))).rejects.toThrow(
          new RegExp(`^MOVED ${keySlot(k)} 127\\.0\\.0\\.1:${owners[i]!.port}$`),
        );
      }
    }
    // Commands land where the keys are: 30 GETs of the first key count on its master only.
    const before = await cluster.commandCalls();
    for (let i = 0; i < 30; i++) await client.get(keys[0]!);
    const after = await cluster.commandCalls();
    expect(after.get(owners[0]!)! - before.get(owners[0]!)!).toBeGreaterThanOrEqual(30);
    expect(after.get(owners[1]!)! - before.get(owners[1]!)!).toBe(0);
    expect(after.get(owners[2]!)! - before.get(owners[2]!)!).toBe(0);
  });

  it('moves a populated slot to another master; the client still reads every key', async () => {
    const tag = '{moved}';
    const slot = keySlot(tag);
    const source = await cluster.masterOf(tag);
    const target = cluster.nodes.find((n) => n !== source)!;
    const written = 50;
    for (let i = 0; i < written; i++) await client.set(`${tag}:${i}`, String(i * i));
    expect(await countKeysInSlot(source, slot)).toBe(written);

    await cluster.moveSlot(slot, target);

    expect(await cluster.masterOf(tag)).toBe(target);
    expect(await countKeysInSlot(target, slot)).toBe(written);
    expect(await countKeysInSlot(source, slot)).toBe(0);
    const values = await client.mget(Array.from({ length: written }, (_, i) => `${tag}:${i}`));
    expect(values).toEqual(Array.from({ length: written }, (_, i) => String(i * i)));
    await client.set(`${tag}:new`, 'after');
    expect(await direct(target, (r) => r.get(`${tag}:new`))).toBe('after');
    // Every node agrees (the source answers MOVED to the target now).
    await expect(direct(source, (r) => r.get(`${tag}:0`))).rejects.toThrow(`MOVED ${slot} 127.0.0.1:${target.port}`);
  });

  it('moves a slot slowly: while it is half moved the client reads old keys on both sides and writes new ones to the target', async () => {
    const tag = '{slow}';
    const slot = keySlot(tag);
    const source = await cluster.masterOf(tag);
    const target = cluster.nodes.find((n) => n !== source)!;
    for (let i = 0; i < 20; i++) await client.set(`${tag}:${i}`, `v${i}`);

    const move = cluster.moveSlotSlowly(slot, target, { batch: 5, delayMs: 500 });
    await move.started;
    const [onSource, onTarget] = await Promise.all([countKeysInSlot(source, slot), countKeysInSlot(target, slot)]);
    expect(onTarget).toBeGreaterThan(0);
    expect(onSource).toBeGreaterThan(0);
    expect(onSource + onTarget).toBe(20);
    expect(move.keysMoved).toBe(onTarget);
    // ASK redirections, followed by the client.
    for (let i = 0; i < 20; i++) expect(await client.get(`${tag}:${i}`)).toBe(`v${i}`);
    await client.set(`${tag}:during`, 'x'); // absent on the source: created on the target
    expect(await direct(target, async (r) => (await r.call('ASKING'), r.get(`${tag}:during`)))).toBe('x');

    await move.done;
    expect(move.keysMoved).toBe(20);
    expect(await cluster.masterOf(tag)).toBe(target);
    expect(await countKeysInSlot(target, slot)).toBe(21);
    expect(await countKeysInSlot(source, slot)).toBe(0);
    expect(await client.get(`${tag}:during`)).toBe('x');
  });

  it('flushAll empties every master', async () => {
    await client.set('flush:a', '1');
    await cluster.flushAll();
    const sizes = await Promise.all(cluster.nodes.map((n) => direct(n, (r) => r.dbsize())));
    expect(sizes).toEqual([0, 0, 0]);
  });
});

describe('a 3-master cluster with a replica each', () => {
  let cluster: RedisCluster;
  let client: Cluster | undefined;
  beforeAll(async () => {
    cluster = await RedisCluster.start({ masters: 3, replicasPerMaster: 1 });
  });
  afterEach(() => client?.disconnect());
  afterAll(async () => {
    await cluster?.stop();
  });

  it('starts with each replica linked to its master', async () => {
    expect(cluster.nodes.map((n) => n.role)).toEqual(['master', 'master', 'master', 'replica', 'replica', 'replica']);
    for (const [i, master] of cluster.nodes.slice(0, 3).entries())
      expect(await cluster.replicasOf(master)).toEqual([cluster.nodes[3 + i]]);
  });

  it(
    'fails a killed master over to its replica, which has the data written before the crash',
    { timeout: 45_000 },
    async () => {
      client = await clusterClient(cluster);
      const key = 'failover:card';
      // SET then WAIT on the same connection (a pipeline goes to the key's master): the replica has it.
      const replies = await client.pipeline().set(key, 'before-crash').wait(1, 2000).exec();
      expect(replies).toEqual([
        [null, 'OK'],
        [null, 1],
      ]);

      const victim = await cluster.masterOf(key);
      const [heir] = await cluster.replicasOf(victim);
      expect(heir).toBeDefined();
      const killedAt = Date.now();
      await cluster.kill(victim);
      expect(cluster.isAlive(victim)).toBe(false);
      await cluster.waitForFailover();
      // node timeout 1.5 s, then FAIL agreement, the replica's election delay and the vote: ~3-4 s here.
      expect(Date.now() - killedAt).toBeLessThan(15_000);

      expect(await cluster.masterOf(key)).toBe(heir);
      expect(heir!.role).toBe('master');
      expect(await client.get(key)).toBe('before-crash');
      await client.set(key, 'after-failover');
      expect(await direct(heir!, (r) => r.get(key))).toBe('after-failover');

      // The crashed master comes back as a replica of its heir.
      await cluster.restart(victim);
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline && !(await cluster.replicasOf(heir!)).includes(victim))
        await new Promise((r) => setTimeout(r, 100));
      expect(await cluster.replicasOf(heir!)).toEqual([victim]);
      await cluster.refreshRoles();
      expect(victim.role).toBe('replica');
    },
  );
});
