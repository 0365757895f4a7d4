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
import { isCluster, type RedisClient } from './connection.ts';

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
  async run(
    redis: RedisClient,
    keys: readonly (string | Buffer)[],
    args: readonly ScriptArg[],
    options: { splitOnTryAgain?: boolean } = {},
  ): Promise<unknown> {
    try {
      return await this.once(redis, false, keys, args);
    } catch (error) {
      if (!isRedirection(error) || (options.splitOnTryAgain && keys.length > 1 && isTryAgain(error))) throw error;
      return this.once(redis, true, keys, args);
    }
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
