// docker-compose.yml cannot be run here (no Docker engine), but it can be read: it must parse,
// name only settings the code knows, and its `cluster` profile must form the topology
// docs/redis-cluster.md describes (three masters with a replica each, an engine, two processors).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configSchema } from '../../services/config.ts';
import { loadAccessConfig } from '../../services/http/access.ts';
import { streamConfigSchema } from '../../streams/config.ts';

interface Service {
  image?: string;
  build?: string;
  profiles?: string[];
  ports?: string[];
  expose?: string[];
  volumes?: string[];
  environment?: Record<string, string>;
  command?: string[];
  deploy?: { replicas?: number };
}
const compose = (file: string) =>
  parse(readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8'), { merge: true }) as {
    services: Record<string, Service>;
  };

// Settings read outside the two schemas: HTTP access (services/http/access.ts), Kafka security (services/adapters/kafka/security.ts).
const OTHER = /^(LEAKGUARD_METRICS_TOKEN|LEAKGUARD_TRUST_PROXY|KAFKA_SASL_[A-Z_]+|KAFKA_TLS[A-Z_]*)$/;
const CADDYFILE = new URL('../../ops/caddy/Caddyfile', import.meta.url).pathname;

const known = (name: string) => name in configSchema.shape || name in streamConfigSchema.shape || OTHER.test(name);

describe('docker-compose files', () => {
  for (const file of ['docker-compose.yml', 'docker-compose.secure.yml']) {
    it(`${file} parses and its Leakguard services set only settings the code reads`, () => {
      const { services } = compose(file);
      const leakguard = Object.entries(services).filter(
        ([, s]) => s.build !== undefined || s.environment?.REDIS_URL !== undefined,
      );
      expect(leakguard.length).toBeGreaterThan(0);
      for (const [name, service] of leakguard) {
        const unknown = Object.keys(service.environment ?? {}).filter((k) => !known(k) && !k.startsWith('POSTGRES_'));
        expect(unknown, name).toEqual([]);
      }
    });
  }

  it('every engine and stream processor gets the /metrics scrape token (production refuses scrapes without it)', () => {
    const { services } = compose('docker-compose.yml');
    for (const name of ['engine', 'stream', 'engine-cluster', 'stream-cluster']) {
      expect(services[name]!.environment!.NODE_ENV, name).toBe('production');
      expect(services[name]!.environment!.LEAKGUARD_METRICS_TOKEN, name).toBe('${LEAKGUARD_METRICS_TOKEN:-}');
    }
  });

  it("every stream processor serves /metrics on the container's network, where Prometheus can scrape it", () => {
    const { services } = compose('docker-compose.yml');
    for (const name of ['stream', 'stream-cluster']) {
      const env = services[name]!.environment!;
      // The default, 127.0.0.1, is the container's own loopback: unscrapable from outside it.
      expect(env.STREAM_METRICS_HOST, name).toBe('0.0.0.0');
      const settings = streamConfigSchema.safeParse({ ...env, KAFKA_BROKERS: 'kafka:9092' });
      expect(settings.success, name).toBe(true);
      const port = String(settings.data!.STREAM_METRICS_PORT);
      expect([...(services[name]!.ports ?? []), ...(services[name]!.expose ?? [])].join(' '), name).toContain(port);
    }
  });

  it('the engines are reached over TLS through a proxy: production console cookies are Secure, dropped over plain http', () => {
    const { services } = compose('docker-compose.yml');
    const proxy = services.proxy!;
    // The official Caddy image; its default command runs /etc/caddy/Caddyfile.
    expect(proxy.image).toMatch(/^caddy:2(\.\d+)*-alpine$/);
    expect(proxy.volumes).toContain('./ops/caddy/Caddyfile:/etc/caddy/Caddyfile:ro');
    const caddyfile = readFileSync(CADDYFILE, 'utf8');
    for (const [engine, siteVariable, port] of [
      ['engine', 'LEAKGUARD_SITE_ADDRESS', '8443'],
      ['engine-cluster', 'LEAKGUARD_CLUSTER_SITE_ADDRESS', '8444'],
    ] as const) {
      // No plain-http port of the engine's own on the host; the proxy publishes its TLS site.
      expect(services[engine]!.ports, engine).toBeUndefined();
      expect(services[engine]!.expose, engine).toEqual(['8080']);
      expect(proxy.ports).toContain(`${port}:${port}`);
      expect(proxy.environment![siteVariable]).toBe(`\${${siteVariable}:-localhost:${port}}`);
      const site = new RegExp(
        `\\{\\$${siteVariable}:localhost:${port}\\} \\{\\s*tls internal\\s*reverse_proxy ${engine}:8080\\s*\\}`,
      );
      expect(caddyfile, engine).toMatch(site);
      // The engine believes the proxy's X-Forwarded-Proto and X-Forwarded-For (HSTS, client addresses).
      expect(
        loadAccessConfig({ LEAKGUARD_TRUST_PROXY: services[engine]!.environment!.LEAKGUARD_TRUST_PROXY }).trustProxy,
        engine,
      ).toBe(1);
    }
  });

  it('the cluster profile: six Redis nodes formed into three masters with a replica each, an engine and two processors on REDIS_CLUSTER_NODES', () => {
    const { services } = compose('docker-compose.yml');
    const profiled = Object.entries(services).filter(([, s]) => s.profiles?.includes('cluster'));
    const nodes = profiled.filter(([name]) => /^redis-node-\d$/.test(name)).map(([name]) => name);
    expect(nodes).toHaveLength(6);
    const init = services['redis-cluster-init']!.command!.join(' ');
    for (const n of nodes) expect(init).toContain(`${n}:6379`);
    expect(init).toContain('--cluster-replicas 1');
    for (const name of ['engine-cluster', 'stream-cluster']) {
      const env = services[name]!.environment!;
      expect(env.REDIS_URL).toBe('');
      for (const seed of env.REDIS_CLUSTER_NODES!.split(',')) expect(nodes).toContain(seed.split(':')[0]);
      // Accepted by the engine's own configuration check.
      expect(configSchema.shape.REDIS_CLUSTER_NODES.safeParse(env.REDIS_CLUSTER_NODES).success).toBe(true);
    }
    expect(services['stream-cluster']!.deploy?.replicas).toBe(2);
    // Every Redis, single or a cluster node, keeps velocity logs compact with ids longer than the default allows.
    for (const name of ['redis', ...nodes])
      expect(services[name]!.command!.join(' '), name).toContain('--zset-max-listpack-value 128');
    // ... and is bounded without evicting: full, it refuses writes (degraded answers, not lost counters),
    // and the engine's memory gauge has a maxmemory to measure against.
    for (const name of ['redis', ...nodes]) {
      const command = services[name]!.command!.join(' ');
      expect(command, name).toMatch(/--maxmemory \$\{LEAKGUARD_REDIS_MAXMEMORY:-\d+gb\}/);
      expect(command, name).toContain('--maxmemory-policy noeviction');
    }
    // The single-Redis services stay outside the profile: `docker compose up` is unchanged.
    expect(services.engine!.profiles).toBeUndefined();
    expect(services.engine!.environment!.REDIS_CLUSTER_NODES).toBeUndefined();
  });
});
