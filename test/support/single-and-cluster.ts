// A single Redis and a three-master Redis Cluster for one test file, started once: the subjects
// a describe.each runs the same tests against.
import { afterAll, beforeAll } from 'vitest';
import { connectRedis, whenReady, type RedisClient } from '../../services/adapters/redis/connection.ts';
import { RedisCluster } from './redis-cluster.ts';
import { RedisServer } from './redis-server.ts';

/** `open`: a client of its own; `env`: the settings that point an engine at it (loadConfig). */
export function singleAndCluster(): {
  name: string;
  open: () => Promise<RedisClient>;
  env: () => Record<string, string>;
}[] {
  let server: RedisServer;
  let cluster: RedisCluster;
  beforeAll(async () => {
    [server, cluster] = await Promise.all([RedisServer.start(), RedisCluster.start()]);
  });
  afterAll(async () => {
    await Promise.all([server.stop(), cluster.stop()]);
  });
  return [
    { name: 'redis', open: () => whenReady(connectRedis(server.url)), env: () => ({ REDIS_URL: server.url }) },
    {
      name: 'redis cluster',
      open: () => whenReady(connectRedis({ clusterNodes: cluster.seeds })),
      env: () => ({ REDIS_CLUSTER_NODES: cluster.seeds }),
    },
  ];
}
