// Redis memory is what a deployment runs out of first (docs/capacity.md, "Redis memory"). Under
// maxmemory-policy noeviction (master-settings.ts) a master that reaches its maxmemory refuses
// writes, and every scoring touching it is then degraded. How full each master is, from INFO
// memory (which managed services answer, unlike CONFIG), is what warns before that.
import { mastersOf, nodeName, type RedisClient } from './connection.ts';

export interface NodeMemory {
  /** host:port of the master. */
  node: string;
  /** used_memory and maxmemory, bytes; max is 0 when no limit is set. */
  used: number;
  max: number;
}

const field = (info: string, name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? NaN);

/** Each master's memory; undefined when it cannot be read (or a cluster is not connected yet). */
export async function readMemory(redis: RedisClient): Promise<NodeMemory[] | undefined> {
  const masters = mastersOf(redis);
  if (masters.length === 0) return undefined;
  try {
    const each = await Promise.all(
      masters.map(async (node) => {
        const info = await node.info('memory');
        return {
          node: nodeName(node),
          used: field(info, 'used_memory'),
          max: field(info, 'maxmemory'),
        };
      }),
    );
    return each.every((m) => Number.isFinite(m.used) && Number.isFinite(m.max)) ? each : undefined;
  } catch {
    return undefined;
  }
}

/** The fullest master with a maxmemory: its share used; undefined when none has a limit. */
export function fullest(memory: readonly NodeMemory[]): (NodeMemory & { ratio: number }) | undefined {
  let top: (NodeMemory & { ratio: number }) | undefined;
  for (const m of memory) {
    if (m.max <= 0) continue;
    const ratio = m.used / m.max;
    if (!top || ratio > top.ratio) top = { ...m, ratio };
  }
  return top;
}
