// Lua scripts run by EVALSHA (EVAL once per node that does not hold them yet), on a single Redis
// or a Redis Cluster alike, and commands that survive a slot moving under them.
//
// Why not ioredis' defineCommand: with enableAutoPipelining on a Cluster, ioredis picks the node
// of a defined command from its first argument, which is the key count when the count is passed
// per call (`numberOfKeys` left out): the script lands in the pipeline of the node owning the
// slot of "3" and the pipeline fails ("All keys in the pipeline should belong to the same slots
// allocation group"). EVALSHA itself is routed by its real keys (ioredis knows its key positions).
//
// Why resend alone: ioredis follows MOVED / ASK / TRYAGAIN for a command sent on its own, but
// hands the error back for a command that shared an (auto-)pipeline with others answered
// differently, or that is not read-only. While a slot moves between masters, such a script is
// sent again alone; read-only commands go alone from the start (read()). (A single Redis never
// answers these.)
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Command } from 'ioredis';
import { isCluster, mastersOf, type RedisClient } from './connection.ts';

export type ScriptArg = string | number | Buffer;

/** The command did not run and can be sent again: a slot moved or is moving, the cluster is between masters, or the client's slot map changed meanwhile. */
const REDIRECTED = /^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN) |^All keys in the pipeline should belong/;
export const isRedirection = (error: unknown) => REDIRECTED.test(String((error as Error)?.message));
export const isTryAgain = (error: unknown) => String((error as Error)?.message).startsWith('TRYAGAIN');

/** Sends a command on its own, outside the auto-pipeline (ioredis then follows redirections itself). */
export function sendAlone<T>(
  redis: RedisClient,
  name: string,
  args: ScriptArg[],
  options: { buffers?: boolean } = {},
): Promise<T> {
  const command = new Command(name, args, { replyEncoding: options.buffers ? null : 'utf8' });
  void redis.sendCommand(command);
  return command.promise as Promise<T>;
}

/**
 * A read-only command. On a cluster it is sent alone, never auto-pipelined: when an auto-pipeline
 * of read-only commands meets a slot being migrated, ioredis (5.11) sends the whole pipeline again
 * to the ASK target, including the commands the source had answered, so keys not moved yet read
 * as missing there (found by redis-cluster-stores.test.ts). Alone, each command follows its own
 * ASK. On a single Redis, `pipelined()`: the same command, auto-pipelined as usual.
 */
export function read<T>(
  redis: RedisClient,
  pipelined: () => Promise<T>,
  name: string,
  args: ScriptArg[],
  options: { buffers?: boolean } = {},
): Promise<T> {
  return isCluster(redis) ? sendAlone<T>(redis, name, args, options) : pipelined();
}

/**
 * Runs a script or function call: once as usual, again alone when a slot moved or is moving under
 * it (see the head of this file). `splitOnTryAgain`: a TRYAGAIN (the slot is migrating with the
 * keys on both sides, for as long as the migration lasts) is handed back when the call has several
 * keys, for the caller to split it.
 */
async function runRedirected(
  once: (alone: boolean) => Promise<unknown>,
  keyCount: number,
  options: { splitOnTryAgain?: boolean },
): Promise<unknown> {
  try {
    return await once(false);
  } catch (error) {
    if (!isRedirection(error) || (options.splitOnTryAgain && keyCount > 1 && isTryAgain(error))) throw error;
    return once(true);
  }
}

export class LuaScript {
  readonly source: string;
  readonly sha: string;

  constructor(source: string) {
    this.source = source;
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /** A script file next to the module that names it (`import.meta.url`). */
  static file(name: string, base: string | URL): LuaScript {
    return new LuaScript(readFileSync(new URL(name, base), 'utf8'));
  }

  /**
   * On a cluster every key must be in one slot (one hash tag), and the script touches no other key.
   * `splitOnTryAgain`: a TRYAGAIN (the slot is migrating with the keys on both sides, for as long as
   * the migration lasts) is handed back when the script has several keys, for the caller to split it.
   */
  run(
    redis: RedisClient,
    keys: readonly (string | Buffer)[],
    args: readonly ScriptArg[],
    options: { splitOnTryAgain?: boolean } = {},
  ): Promise<unknown> {
    return runRedirected((alone) => this.once(redis, alone, keys, args), keys.length, options);
  }

  private async once(
    redis: RedisClient,
    alone: boolean,
    keys: readonly (string | Buffer)[],
    args: readonly ScriptArg[],
  ): Promise<unknown> {
    const send = (name: 'evalsha' | 'eval', first: string) =>
      alone
        ? sendAlone<unknown>(redis, name, [first, keys.length, ...keys, ...args])
        : redis[name](first, keys.length, ...keys, ...args);
    try {
      return await send('evalsha', this.sha);
    } catch (error) {
      if (!/^NOSCRIPT/.test(String((error as Error)?.message))) throw error;
      return send('eval', this.source);
    }
  }
}

/**
 * A library of Redis Functions (FUNCTION LOAD, FCALL): its top level runs once when it is loaded,
 * not at every call as a script's does, so what the velocity scripts build before their work (the
 * counter definitions: ~70,000 instructions a scoring, bench:cost --instructions) is built once.
 * Named after a hash of its code, so that engines of two versions (a rolling deploy) each call
 * their own. Loaded on every master (a cluster's replicas receive it by replication) when made,
 * and again wherever a call finds it missing (a Redis restarted without persistence, a new node).
 * Lua globals KEYS and ARGV are the functions' parameters: a script's body runs unchanged.
 */
export class LuaLibrary {
  readonly code: string;
  readonly version: string;

  /** `prelude`: the shared top level; `bodies`: each function's body by name. */
  constructor(prelude: string, bodies: Record<string, string>) {
    this.version = createHash('sha1').update(prelude).update(JSON.stringify(bodies)).digest('hex').slice(0, 12);
    const functions = Object.entries(bodies).map(
      ([name, body]) => `redis.register_function('${this.nameOf(name)}', function(KEYS, ARGV)\n${body}\nend)\n`,
    );
    this.code = `#!lua name=leakguard_${this.version}\n${prelude}\n${functions.join('')}`;
  }

  /** A function's name in Redis: versioned. */
  nameOf(name: string): string {
    return `lg_${name}_${this.version}`;
  }

  /** The load under way: calls that all find the library missing (after a restart) wait for one load. */
  private loading: Promise<void> | undefined;

  /** Loads the library on every master (REPLACE: another engine may load the same at the same time). */
  load(redis: RedisClient): Promise<void> {
    this.loading ??= (async () => {
      try {
        await Promise.all(mastersOf(redis).map((node) => node.call('FUNCTION', 'LOAD', 'REPLACE', this.code)));
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }

  /**
   * Calls a function of the library; see LuaScript.run for `splitOnTryAgain`. `buffers`: the reply's
   * strings as Buffers (a reply holding bytes that are not UTF-8).
   */
  async call(
    redis: RedisClient,
    name: string,
    keys: readonly (string | Buffer)[],
    args: readonly ScriptArg[],
    options: { splitOnTryAgain?: boolean; buffers?: boolean } = {},
  ): Promise<unknown> {
    const fn = this.nameOf(name);
    const once = (alone: boolean) =>
      alone
        ? sendAlone<unknown>(redis, 'fcall', [fn, keys.length, ...keys, ...args], { buffers: options.buffers })
        : options.buffers
          ? redis.callBuffer('fcall', fn, keys.length, ...keys, ...args)
          : redis.fcall(fn, keys.length, ...keys, ...args);
    try {
      return await runRedirected(once, keys.length, options);
    } catch (error) {
      if (!/Function not found/.test(String((error as Error)?.message))) throw error;
      await this.load(redis);
      return runRedirected(once, keys.length, options);
    }
  }
}
