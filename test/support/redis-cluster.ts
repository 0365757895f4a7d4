// A real Redis Cluster per test file, without Docker: N redis-server processes on free loopback
// ports, formed into a cluster the way `redis-cli --cluster create` does it (ADDSLOTSRANGE,
// SET-CONFIG-EPOCH, MEET, REPLICATE), then resharded, crashed and failed over at will.
//
// Every node runs with `cluster-node-timeout 1500` so that a killed master is failed over in a
// few seconds, not in the production default's tens of seconds. `cluster-require-full-coverage`
// keeps its default (yes): while a dead master's slots have no owner every node answers
// CLUSTERDOWN, as a production cluster does, and `cluster_state:ok` only returns once a replica
// has taken those slots over, so it is an honest "failover finished" signal for waitForFailover.
// (With "no" the cluster would report ok with slots uncovered and hide that window from tests.)
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePorts } from './ports.ts';
import { redisPing } from './redis-server.ts';

export interface ClusterNode {
  host: string;
  port: number;
  /** CLUSTER MYID: stable for the node's life, also across restart() (kept in its nodes.conf). */
  id: string;
  /** The role at start; refreshed in place by refreshRoles() (and by waitForFailover()). */
  role: 'master' | 'replica';
}

const SLOTS = 16384;
const HOST = '127.0.0.1';

// ---------------------------------------------------------------------------------------------
// Key slots: CRC16-XMODEM (poly 0x1021, init 0) of the key, or of its hash tag, modulo 16384.

const CRC16_TABLE = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[i] = crc;
  }
  return table;
})();

function crc16(bytes: Uint8Array, start: number, end: number): number {
  let crc = 0;
  for (let i = start; i < end; i++) crc = ((crc << 8) & 0xffff) ^ CRC16_TABLE[((crc >> 8) ^ bytes[i]!) & 0xff]!;
  return crc;
}

/** The slot Redis gives a key: the bytes between the first "{" and the next "}" when non-empty, else the whole key (UTF-8). */
export function keySlot(key: string | Buffer): number {
  const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  const open = bytes.indexOf(0x7b); // {
  if (open !== -1) {
    const close = bytes.indexOf(0x7d, open + 1); // }
    if (close > open + 1) return crc16(bytes, open + 1, close) % SLOTS;
  }
  return crc16(bytes, 0, bytes.length) % SLOTS;
}

// ---------------------------------------------------------------------------------------------
// Helpers.

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A plain (non-cluster) connection to one node for administration: no retries, no queueing. */
async function connect(port: number): Promise<Redis> {
  const redis = new Redis({
    host: HOST,
    port,
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    connectTimeout: 2000,
    enableReadyCheck: false,
  });
  redis.on('error', () => {}); // surfaced as rejected commands instead
  await redis.connect();
  return redis;
}

async function withNode<T>(port: number, use: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = await connect(port);
  try {
    return await use(redis);
  } finally {
    redis.disconnect();
  }
}

function infoFields(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
}

/** One line of CLUSTER NODES. */
interface NodeEntry {
  id: string;
  port: number;
  flags: Set<string>;
  masterId: string | undefined;
  configEpoch: number;
  /** Slot ranges served, inclusive (importing/migrating markers left out). */
  slots: [number, number][];
}

function parseClusterNodes(text: string): NodeEntry[] {
  return text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [id, address, flags, master, , , epoch, , ...slots] = line.trim().split(' ');
      const port = Number(/:(\d+)@/.exec(address ?? '')?.[1] ?? 0);
      return {
        id: id!,
        port,
        flags: new Set((flags ?? '').split(',')),
        masterId: master && master !== '-' ? master : undefined,
        configEpoch: Number(epoch),
        slots: slots
          .filter((s) => !s.startsWith('['))
          .map((s) => {
            const [a, b] = s.split('-');
            return [Number(a), Number(b ?? a)] as [number, number];
          }),
      };
    });
}

/** Slot ownership as one comparable string, "start-end:id,..." (adjacent ranges of one owner merged). */
function ownership(view: NodeEntry[]): { key: string; covered: number; owners: Set<string> } {
  const ranges = view.flatMap((e) => e.slots.map(([a, b]) => ({ a, b, id: e.id }))).sort((x, y) => x.a - y.a);
  const merged: typeof ranges = [];
  for (const r of ranges) {
    const last = merged.at(-1);
    if (last && last.id === r.id && last.b + 1 === r.a) last.b = r.b;
    else merged.push({ ...r });
  }
  return {
    key: merged.map((r) => `${r.a}-${r.b}:${r.id}`).join(','),
    covered: merged.reduce((n, r) => n + r.b - r.a + 1, 0),
    owners: new Set(merged.map((r) => r.id)),
  };
}

function ownerInView(view: NodeEntry[], slot: number): string | undefined {
  return view.find((e) => e.slots.some(([a, b]) => a <= slot && slot <= b))?.id;
}

/** Commands the harness and client libraries issue for housekeeping, left out of commandCalls(). */
const HOUSEKEEPING = new Set([
  'cluster',
  'info',
  'ping',
  'config',
  'client',
  'command',
  'hello',
  'auth',
  'select',
  'quit',
  'readonly',
  'readwrite',
  'migrate',
  'restore-asking',
  'latency',
  'slowlog',
  'memory',
  'wait',
  'flushall',
  'dbsize',
]);

// ---------------------------------------------------------------------------------------------

interface Proc {
  node: ClusterNode;
  busPort: number;
  dir: string;
  process: ChildProcess | undefined;
}

export class RedisCluster {
  /** Every node, masters first (replicas of master i follow in order after all masters). */
  readonly nodes: ClusterNode[];
  private readonly procs: Map<ClusterNode, Proc>;
  private readonly masterCount: number;
  private readonly durable: boolean;
  private readonly onExit = () => {
    for (const p of this.procs.values()) if (this.alive(p)) p.process!.kill('SIGKILL');
  };

  private constructor(procs: Proc[], masterCount: number, durable: boolean) {
    this.nodes = procs.map((p) => p.node);
    this.procs = new Map(procs.map((p) => [p.node, p]));
    this.masterCount = masterCount;
    this.durable = durable;
    // Should the test process end without stop(), take the servers down with it.
    process.once('exit', this.onExit);
  }

  static async start(
    options: { masters?: number; replicasPerMaster?: number; durable?: boolean } = {},
  ): Promise<RedisCluster> {
    const masters = options.masters ?? 3;
    const replicas = options.replicasPerMaster ?? 0;
    if (!Number.isInteger(masters) || masters < 1 || masters > SLOTS) throw new Error(`masters: ${masters}`);
    if (!Number.isInteger(replicas) || replicas < 0) throw new Error(`replicasPerMaster: ${replicas}`);
    const total = masters * (1 + replicas);
    // Two ports per node: the client port and the cluster bus port. The bus defaults to port + 10000,
    // which may be taken or above 65535, so it is set explicitly (cluster-port, Redis 7+).
    const ports = await freePorts(total * 2);
    const procs: Proc[] = Array.from({ length: total }, (_, i) => ({
      node: { host: HOST, port: ports[2 * i]!, id: '', role: i < masters ? 'master' : 'replica' },
      busPort: ports[2 * i + 1]!,
      dir: mkdtempSync(join(tmpdir(), 'lg-redis-cluster-')),
      process: undefined,
    }));
    const cluster = new RedisCluster(procs, masters, options.durable ?? false);
    try {
      await Promise.all(procs.map((p) => cluster.spawn(p)));
      await cluster.form(replicas);
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  /** "127.0.0.1:p1,127.0.0.1:p2,..." of the masters at start: the value for REDIS_CLUSTER_NODES. */
  get seeds(): string {
    return this.seedList.map((s) => `${s.host}:${s.port}`).join(',');
  }

  get seedList(): { host: string; port: number }[] {
    return this.nodes.slice(0, this.masterCount).map(({ host, port }) => ({ host, port }));
  }

  /** Whether the node's process is running (false after kill() until restart()). */
  isAlive(node: ClusterNode): boolean {
    return this.alive(this.proc(node));
  }

  /** The node currently master for a key's slot (asks the cluster; follows failovers). */
  masterOf(key: string | Buffer): Promise<ClusterNode> {
    return this.masterOfSlot(keySlot(key));
  }

  /** The node every live node names as the slot's owner (waits up to 10 s for them to agree). */
  async masterOfSlot(slot: number): Promise<ClusterNode> {
    let owners: (string | undefined)[] = [];
    const deadline = Date.now() + 10_000;
    do {
      owners = (await this.views()).map(({ view }) => ownerInView(view, slot));
      if (owners[0] && owners.every((o) => o === owners[0])) return this.byId(owners[0]);
      await sleep(50);
    } while (Date.now() < deadline);
    throw new Error(`the nodes do not agree on the master of slot ${slot}: ${owners.join(', ')}`);
  }

  /** The replicas the cluster lists for a master now. */
  async replicasOf(master: ClusterNode): Promise<ClusterNode[]> {
    const [first] = await this.views();
    return first!.view.filter((e) => e.masterId === master.id && e.flags.has('slave')).map((e) => this.byId(e.id));
  }

  /** Sets every node's `role` from the cluster's current view (a live node's CLUSTER NODES). */
  async refreshRoles(): Promise<void> {
    const [first] = await this.views();
    for (const entry of first!.view) {
      const node = this.nodes.find((n) => n.id === entry.id);
      if (node) node.role = entry.flags.has('slave') ? 'replica' : 'master';
    }
  }

  /**
   * Migrates one slot from its current master to another master, the way `redis-cli --cluster
   * reshard` does: SETSLOT IMPORTING on the target, SETSLOT MIGRATING on the source, MIGRATE the
   * keys in batches, then SETSLOT NODE on the target, the source and every other master. Returns
   * once every live node names the target as the slot's owner.
   */
  moveSlot(slot: number, to: ClusterNode): Promise<void> {
    return this.migrate(slot, to, { batch: 100, delayMs: 0 }).done;
  }

  /**
   * moveSlot, slowly: `batch` keys (default 1) per MIGRATE, `delayMs` (default 50) between
   * batches, so a test can work while the slot is half moved (clients get ASK / TRYAGAIN then).
   * `started` resolves once the slot is marked importing/migrating and the first batch has moved
   * (the next batch waits `delayMs`); `keysMoved` counts the keys migrated so far.
   */
  moveSlotSlowly(
    slot: number,
    to: ClusterNode,
    options: { batch?: number; delayMs?: number } = {},
  ): { done: Promise<void>; started: Promise<void>; readonly keysMoved: number } {
    return this.migrate(slot, to, { batch: options.batch ?? 1, delayMs: options.delayMs ?? 50 });
  }

  /** Kills a node with SIGKILL (a crash). */
  async kill(node: ClusterNode): Promise<void> {
    const p = this.proc(node).process;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGKILL');
    });
  }

  /**
   * Starts a killed node again on its port with its directory: it rejoins with its nodes.conf
   * (a master whose slots were taken over comes back as a replica of the new master) and, when
   * durable, with its data.
   */
  async restart(node: ClusterNode): Promise<void> {
    const p = this.proc(node);
    if (this.alive(p)) throw new Error(`node ${node.port} is running`);
    await this.spawn(p);
  }

  /**
   * Waits until every slot is served by a live master that every live node agrees on and
   * `cluster_state:ok` holds on every live node: after kill() of a master, until one of its
   * replicas has been promoted. Then refreshes the nodes' roles.
   */
  async waitForFailover(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let problem = '';
    while (Date.now() < deadline) {
      problem = await this.failoverProblem();
      if (!problem) {
        await this.refreshRoles();
        return;
      }
      await sleep(100);
    }
    throw new Error(`no failover within ${timeoutMs} ms: ${problem}`);
  }

  /**
   * INFO commandstats calls per live node, summed over data commands: housekeeping (CLUSTER,
   * INFO, PING, CONFIG, CLIENT, COMMAND, HELLO, MIGRATE, WAIT, ...) issued by this harness and by
   * client libraries is left out unless `all`. Replicas count the writes they replay. Killed
   * nodes are absent. resetCommandStats() starts a new measurement.
   */
  async commandCalls(options: { all?: boolean } = {}): Promise<Map<ClusterNode, number>> {
    const result = new Map<ClusterNode, number>();
    for (const node of this.nodes.filter((n) => this.isAlive(n))) {
      const text = await withNode(node.port, (r) => r.info('commandstats'));
      let sum = 0;
      for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
        const command = m[1]!.split('|')[0]!.toLowerCase();
        if (options.all || !HOUSEKEEPING.has(command)) sum += Number(m[2]);
      }
      result.set(node, sum);
    }
    return result;
  }

  /** CONFIG RESETSTAT on every live node: commandCalls() counts from zero again. */
  async resetCommandStats(): Promise<void> {
    await Promise.all(
      this.nodes.filter((n) => this.isAlive(n)).map((n) => withNode(n.port, (r) => r.call('CONFIG', 'RESETSTAT'))),
    );
  }

  /** FLUSHALL on every live master, then waits (up to 2 s) for their replicas to have it too. */
  async flushAll(): Promise<void> {
    const [first] = await this.views();
    const masters = first!.view
      .filter((e) => e.flags.has('master') && !e.flags.has('fail') && e.slots.length > 0)
      .map((e) => this.byId(e.id));
    await Promise.all(
      masters.map((m) =>
        withNode(m.port, async (r) => {
          await r.flushall();
          const replicas = first!.view.filter((e) => e.masterId === m.id && !e.flags.has('fail')).length;
          if (replicas > 0) await r.call('WAIT', replicas, 2000);
        }),
      ),
    );
  }

  /** Kills every node and removes their directories. */
  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => this.kill(n)));
    for (const p of this.procs.values()) rmSync(p.dir, { recursive: true, force: true });
    process.off('exit', this.onExit);
  }

  // -------------------------------------------------------------------------------------------

  private proc(node: ClusterNode): Proc {
    const p =
      this.procs.get(node) ?? [...this.procs.values()].find((q) => q.node.id === node.id && q.node.port === node.port);
    if (!p) throw new Error(`not a node of this cluster: ${node.host}:${node.port}`);
    return p;
  }

  private alive(p: Proc): boolean {
    return !!p.process && p.process.exitCode === null && p.process.signalCode === null;
  }

  private byId(id: string): ClusterNode {
    const node = this.nodes.find((n) => n.id === id);
    if (!node) throw new Error(`unknown node id ${id}`);
    return node;
  }

  private async spawn(p: Proc): Promise<void> {
    const binary = process.env.LEAKGUARD_TEST_REDIS_SERVER ?? 'redis-server';
    const persistence = this.durable ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
    const log = join(p.dir, 'redis.log');
    const args = [
      '--port',
      String(p.node.port),
      '--bind',
      HOST,
      '--cluster-enabled',
      'yes',
      '--cluster-port',
      String(p.busPort),
      '--cluster-config-file',
      'nodes.conf',
      '--cluster-node-timeout',
      '1500',
      '--cluster-announce-ip',
      HOST,
      '--save',
      '',
      ...persistence,
      // Replicas sync at once: the diskless default waits 5 s for more replicas to join the transfer.
      '--repl-diskless-sync-delay',
      '0',
      '--dir',
      p.dir,
      '--logfile',
      log,
      '--loglevel',
      'warning',
    ];
    const child = spawn(binary, args, { stdio: 'ignore' });
    p.process = child;
    child.on('error', () => {}); // ENOENT etc.: the ping loop below reports it
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) break;
      if (await redisPing(p.node.port)) return;
      await sleep(50);
    }
    const tail = existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-10).join('\n') : '(no log)';
    throw new Error(`redis-server (${binary}) did not answer on port ${p.node.port}:\n${tail}`);
  }

  /** Slots, epochs, handshake, replicas; then waits until every node sees the same healthy cluster. */
  private async form(replicasPerMaster: number): Promise<void> {
    const admins = await Promise.all(this.nodes.map((n) => connect(n.port)));
    try {
      await Promise.all(
        this.nodes.map(async (node, i) => {
          node.id = String(await admins[i]!.call('CLUSTER', 'MYID'));
        }),
      );
      // Slots split evenly, the first (SLOTS % masters) masters taking one more.
      let next = 0;
      for (let i = 0; i < this.masterCount; i++) {
        const count = Math.floor(SLOTS / this.masterCount) + (i < SLOTS % this.masterCount ? 1 : 0);
        await admins[i]!.call('CLUSTER', 'ADDSLOTSRANGE', next, next + count - 1);
        next += count;
      }
      // Distinct config epochs on fresh nodes before they meet (what redis-cli does): otherwise all
      // masters start at epoch 0 and the collision resolution takes rounds of gossip.
      for (let i = 0; i < admins.length; i++) await admins[i]!.call('CLUSTER', 'SET-CONFIG-EPOCH', i + 1);
      for (let i = 1; i < admins.length; i++)
        await admins[i]!.call('CLUSTER', 'MEET', HOST, this.nodes[0]!.port, this.procs.get(this.nodes[0]!)!.busPort);
      // A replica can only REPLICATE a master it knows: wait for the handshakes to complete.
      await this.until(20_000, async () => {
        for (let i = 0; i < admins.length; i++) {
          const view = parseClusterNodes(String(await admins[i]!.call('CLUSTER', 'NODES')));
          const pending = view.filter((e) => e.flags.has('handshake') || e.flags.has('noaddr'));
          if (view.length < this.nodes.length || pending.length > 0)
            return `node ${this.nodes[i]!.port} knows ${view.length - pending.length}/${this.nodes.length} nodes`;
        }
        return '';
      });
      for (let i = this.masterCount; i < this.nodes.length; i++) {
        const master = this.nodes[Math.floor((i - this.masterCount) / replicasPerMaster)]!;
        await admins[i]!.call('CLUSTER', 'REPLICATE', master.id);
      }
    } finally {
      for (const a of admins) a.disconnect();
    }
    const expectedRoles = this.nodes
      .map(
        (n, i) =>
          `${n.id}:${i < this.masterCount ? '-' : this.nodes[Math.floor((i - this.masterCount) / replicasPerMaster)]!.id}`,
      )
      .sort()
      .join(',');
    await this.until(30_000, async () => {
      const views = await this.views();
      const first = ownership(views[0]!.view).key;
      for (const { node, view, info } of views) {
        if (info.get('cluster_state') !== 'ok') return `${node.port}: cluster_state ${info.get('cluster_state')}`;
        if (Number(info.get('cluster_known_nodes')) !== this.nodes.length)
          return `${node.port}: knows ${info.get('cluster_known_nodes')} nodes`;
        const own = ownership(view);
        if (own.covered !== SLOTS || own.key !== first) return `${node.port}: slots ${own.key}`;
        const roles = view
          .map((e) => `${e.id}:${e.flags.has('slave') ? e.masterId : '-'}`)
          .sort()
          .join(',');
        if (roles !== expectedRoles) return `${node.port}: roles ${roles}`;
        const unhealthy = view.find((e) =>
          ['fail', 'pfail', 'fail?', 'handshake', 'noaddr'].some((f) => e.flags.has(f)),
        );
        if (unhealthy) return `${node.port}: sees ${unhealthy.port} as ${[...unhealthy.flags].join(',')}`;
      }
      // Replicas hold a live link to their master (so WAIT and failover work from the start).
      for (const node of this.nodes.slice(this.masterCount)) {
        const replication = infoFields(await withNode(node.port, (r) => r.info('replication')));
        if (replication.get('master_link_status') !== 'up')
          return `${node.port}: master link ${replication.get('master_link_status')}`;
      }
      return '';
    });
  }

  /** CLUSTER NODES and CLUSTER INFO of every live node. */
  private async views(): Promise<{ node: ClusterNode; view: NodeEntry[]; info: Map<string, string> }[]> {
    const live = this.nodes.filter((n) => this.isAlive(n));
    if (live.length === 0) throw new Error('no node of the cluster is running');
    return Promise.all(
      live.map((node) =>
        withNode(node.port, async (r) => ({
          node,
          view: parseClusterNodes(String(await r.call('CLUSTER', 'NODES'))),
          info: infoFields(String(await r.call('CLUSTER', 'INFO'))),
        })),
      ),
    );
  }

  /** '' once every slot has a live owner that all live nodes agree on and all say cluster_state:ok; else what is missing. */
  private async failoverProblem(): Promise<string> {
    let views;
    try {
      views = await this.views();
    } catch (error) {
      return String(error);
    }
    const first = ownership(views[0]!.view);
    for (const { node, view, info } of views) {
      if (info.get('cluster_state') !== 'ok') return `${node.port}: cluster_state ${info.get('cluster_state')}`;
      const own = ownership(view);
      if (own.key !== first.key)
        return `${node.port} and ${views[0]!.node.port} disagree on slots: ${own.key} / ${first.key}`;
      if (own.covered !== SLOTS) return `${node.port}: ${own.covered} slots covered`;
      for (const id of own.owners) {
        const owner = this.nodes.find((n) => n.id === id);
        if (!owner || !this.isAlive(owner)) return `${node.port}: slots still owned by dead node ${owner?.port ?? id}`;
        const entry = view.find((e) => e.id === id);
        if (entry && (entry.flags.has('fail') || entry.flags.has('pfail') || entry.flags.has('fail?')))
          return `${node.port}: owner ${owner.port} flagged ${[...entry.flags].join(',')}`;
      }
    }
    return '';
  }

  private async until(timeoutMs: number, problem: () => Promise<string>): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      last = await problem();
      if (!last) return;
      await sleep(50);
    }
    throw new Error(`redis cluster not ready within ${timeoutMs} ms: ${last}`);
  }

  private migrate(
    slot: number,
    to: ClusterNode,
    options: { batch: number; delayMs: number },
  ): { done: Promise<void>; started: Promise<void>; readonly keysMoved: number } {
    if (!Number.isInteger(slot) || slot < 0 || slot >= SLOTS) throw new Error(`slot ${slot} out of range`);
    const target = this.nodes.find((n) => n === to || n.id === to.id);
    if (!target) throw new Error(`not a node of this cluster: ${to.host}:${to.port}`);
    let keysMoved = 0;
    let markStarted!: () => void;
    let failStarted!: (error: unknown) => void;
    const started = new Promise<void>((resolve, reject) => {
      markStarted = resolve;
      failStarted = reject;
    });
    started.catch(() => {}); // nobody need wait for it
    const done = (async () => {
      const source = await this.masterOfSlot(slot);
      if (source === target) return markStarted();
      const [first] = await this.views();
      const targetEntry = first!.view.find((e) => e.id === target.id);
      if (!targetEntry?.flags.has('master')) throw new Error(`moveSlot: ${target.port} is not a master`);
      const from = await connect(source.port);
      const into = await connect(target.port);
      try {
        // The order redis-cli uses: importing first, so that no ASK from the source meets a target
        // that would answer MOVED back.
        await into.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', source.id);
        await from.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', target.id);
        for (;;) {
          const keys = (await from.callBuffer('CLUSTER', 'GETKEYSINSLOT', slot, options.batch)) as Buffer[];
          if (keys.length === 0) break;
          // No REPLACE: a key on both sides means something wrote around the migration; fail loudly.
          await from.callBuffer('MIGRATE', target.host, target.port, '', 0, 10_000, 'KEYS', ...keys);
          keysMoved += keys.length;
          markStarted();
          if (options.delayMs > 0) await sleep(options.delayMs);
        }
        markStarted(); // an empty slot
        // The owner everywhere: the target first (it bumps its epoch), then the source, then the rest.
        await into.call('CLUSTER', 'SETSLOT', slot, 'NODE', target.id);
        await from.call('CLUSTER', 'SETSLOT', slot, 'NODE', target.id);
        const others = first!.view
          .filter((e) => e.flags.has('master') && !e.flags.has('fail') && e.id !== source.id && e.id !== target.id)
          .map((e) => this.byId(e.id));
        for (const other of others.filter((n) => this.isAlive(n)))
          await withNode(other.port, (r) => r.call('CLUSTER', 'SETSLOT', slot, 'NODE', target.id));
      } finally {
        from.disconnect();
        into.disconnect();
      }
      await this.until(15_000, async () => {
        const owners = (await this.views()).map(({ node, view }) => ({ node, owner: ownerInView(view, slot) }));
        const wrong = owners.find((o) => o.owner !== target.id);
        return wrong ? `slot ${slot}: ${wrong.node.port} names ${wrong.owner ?? 'no owner'}` : '';
      });
    })();
    done.catch(failStarted); // a move that fails before its first batch fails `started` too
    return {
      done,
      started,
      get keysMoved() {
        return keysMoved;
      },
    };
  }
}
