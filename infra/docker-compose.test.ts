import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { serviceProcesses } from '../cli/services';
import { CONFIG_VARIABLES, loadConfig } from '../lib/config';
import { REPO_ROOT } from '../lib/repo-root';
import { replicationFor } from './kafka-cluster';

/** docker-compose.yml and infra/Dockerfile, checked without Docker: names, variables, versions. */

const read = (file: string) => fs.readFileSync(path.join(REPO_ROOT, file), 'utf8');

interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  environment?: Record<string, unknown> | string[];
  ports?: (string | number | { target?: number; published?: string | number })[];
}

// `merge: true` so a `<<: *anchor` would be expanded as Compose does, not read as a key.
const compose = parse(read('docker-compose.yml'), { merge: true }) as {
  services?: Record<string, Service>;
};
const services = compose.services ?? {};
const service = (name: string): Service => {
  const found = services[name];
  if (!found) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
};

/** A service's environment as a map, from either Compose form (map or `KEY=value` list). */
function environmentOf(s: Service): Record<string, string> {
  const env = s.environment ?? {};
  const entries = Array.isArray(env)
    ? env.map((line): [string, string] => {
        const at = line.indexOf('=');
        return at < 0 ? [line, ''] : [line.slice(0, at), line.slice(at + 1)];
      })
    : Object.entries(env).map(([key, value]): [string, string] => [key, String(value ?? '')]);
  return Object.fromEntries(entries);
}

/** Host ports published for a container port, from short (`"h:c"`) or long port syntax. */
function publishedPorts(s: Service, containerPort: number): number[] {
  return (s.ports ?? []).flatMap((port) => {
    if (typeof port === 'object') {
      return port.target === containerPort && port.published !== undefined
        ? [Number(port.published)]
        : [];
    }
    const parts = String(port)
      .replace(/\/(tcp|udp)$/, '')
      .split(':');
    const container = Number(parts.at(-1));
    const host = parts.length > 1 ? Number(parts.at(-2)) : container;
    return container === containerPort ? [host] : [];
  });
}

const POSTGRES_SHARDS = ['postgres-0', 'postgres-1', 'postgres-2', 'postgres-3'];
/** The services built from this repository; they read lib/config.ts's variables. */
// Every process `npm start` runs has its container, plus the one-shot infra-setup.
const ORDERSTREAM_SERVICES = [
  'infra-setup',
  ...serviceProcesses(loadConfig({})).map((p) => p.name),
];

describe('docker-compose.yml', () => {
  it('is YAML with a services map', () => {
    expect(compose).toEqual(expect.any(Object));
    expect(services).toEqual(expect.any(Object));
    expect(Array.isArray(compose.services)).toBe(false);
  });

  it('has the broker, the Postgres shards, Redis, infra-setup and the services', () => {
    for (const name of ['kafka', ...POSTGRES_SHARDS, 'redis', ...ORDERSTREAM_SERVICES]) {
      expect(Object.keys(services)).toContain(name);
    }
  });

  it('has one Postgres server per default shard', () => {
    const postgres = Object.keys(services).filter((name) => /^postgres-\d+$/.test(name));
    expect(postgres.sort()).toEqual(POSTGRES_SHARDS);
    expect(postgres).toHaveLength(loadConfig({}).postgres.shardUrls.length);
  });

  it.each(ORDERSTREAM_SERVICES)('%s sets only variables lib/config.ts reads', (name) => {
    const keys = Object.keys(environmentOf(service(name)));
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.filter((key) => !CONFIG_VARIABLES.includes(key))).toEqual([]);
  });

  it('gives command-api a configuration loadConfig accepts, with one URL per shard server', () => {
    const config = loadConfig(environmentOf(service('command-api')));
    expect(config.postgres.shardUrls).toHaveLength(4);
    expect(config.postgres.shardUrls.map((url) => new URL(url).hostname)).toEqual(POSTGRES_SHARDS);
    expect(config.startLocalInfra).toBe(false);
    expect(config.http.host).toBe('0.0.0.0');
  });

  it('runs the same Kafka line (major.minor) as infra/kafka/pom.xml', () => {
    const pomVersion = /<kafka\.version>\s*([^<\s]+)\s*<\/kafka\.version>/.exec(
      read('infra/kafka/pom.xml'),
    )?.[1];
    expect(pomVersion).toMatch(/^\d+\.\d+/);
    const image = service('kafka').image ?? '';
    const [repository, tag = ''] = image.split(':');
    expect(repository).toBe('apache/kafka');
    expect(tag.startsWith('3.9')).toBe(true);
    const majorMinor = (version: string) => version.split('.').slice(0, 2).join('.');
    expect(majorMinor(tag)).toBe(majorMinor(pomVersion ?? ''));
  });

  it('publishes the APIs on the ports the config defaults to', () => {
    const { http } = loadConfig({});
    expect(publishedPorts(service('command-api'), http.commandApiPort)).toEqual([3001]);
    expect(publishedPorts(service('query-api'), http.queryApiPort)).toEqual([3002]);
    expect(http).toMatchObject({ commandApiPort: 3001, queryApiPort: 3002 });
  });

  it('runs Zipkin, the version of infra/zipkin/pom.xml, and every service sends it its spans', () => {
    const zipkin = service('zipkin');
    const pomVersion = /<zipkin\.version>([^<]+)</.exec(read('infra/zipkin/pom.xml'))?.[1];
    expect(zipkin.image).toBe(`openzipkin/zipkin:${pomVersion}`);
    expect(publishedPorts(zipkin, 9411)).toEqual([9411]);
    for (const name of serviceProcesses(loadConfig({})).map((p) => p.name)) {
      const { tracing } = loadConfig(environmentOf(service(name)));
      expect(tracing).toMatchObject({
        exporter: 'zipkin',
        zipkinEndpoint: 'http://zipkin:9411/api/v2/spans',
      });
    }
  });

  it('runs Prometheus scraping every service on the port the config gives it, each published there', () => {
    expect(service('prometheus').image).toMatch(/^prom\/prometheus:/);
    const scrape = parse(read('infra/prometheus.yml')) as {
      scrape_configs: { static_configs: { targets: string[] }[] }[];
    };
    const targets = scrape.scrape_configs.flatMap((c) =>
      c.static_configs.flatMap((s) => s.targets),
    );
    const { http, paymentGateway } = loadConfig({});
    const ports: Record<string, number> = {
      'command-api': http.commandApiPort,
      'query-api': http.queryApiPort,
      'payment-gateway': paymentGateway.port,
      projectors: http.projectorsPort,
      sagas: http.sagasPort,
    };
    const names = serviceProcesses(loadConfig({})).map((p) => p.name);
    expect(targets.sort()).toEqual(names.map((name) => `${name}:${ports[name]}`).sort());
    for (const name of names)
      expect(publishedPorts(service(name), ports[name] as number)).toEqual([ports[name]]);
  });

  it('builds only from Dockerfiles that exist', () => {
    const built = Object.entries(services).filter(([, s]) => s.build !== undefined);
    expect(built.map(([name]) => name).sort()).toEqual([...ORDERSTREAM_SERVICES].sort());
    for (const [, s] of built) {
      const build = typeof s.build === 'string' ? { context: s.build } : (s.build ?? {});
      const context = path.resolve(REPO_ROOT, build.context ?? '.');
      const dockerfile = path.resolve(context, build.dockerfile ?? 'Dockerfile');
      expect(fs.existsSync(dockerfile)).toBe(true);
    }
  });
});

describe('docker-compose.cluster.yml', () => {
  const cluster = parse(read('docker-compose.cluster.yml'), { merge: true }) as {
    services?: Record<string, Service>;
  };
  const nodes = ['kafka', 'kafka-2', 'kafka-3'];

  it('runs three KRaft nodes that replicate as `infra up --brokers 3` does', () => {
    const { factor, minInSync } = replicationFor(3);
    const envs = nodes.map((name) => environmentOf(cluster.services?.[name] ?? {}));
    expect(envs.map((env) => env.KAFKA_NODE_ID)).toEqual(['1', '2', '3']);
    for (const env of envs) {
      expect(env.KAFKA_CONTROLLER_QUORUM_VOTERS).toBe('1@kafka:9093,2@kafka-2:9093,3@kafka-3:9093');
      expect(env.KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR).toBe(String(factor));
      expect(env.KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR).toBe(String(factor));
      expect(env.KAFKA_TRANSACTION_STATE_LOG_MIN_ISR).toBe(String(minInSync));
      expect(env.KAFKA_MIN_INSYNC_REPLICAS).toBe(String(minInSync));
    }
    expect(cluster.services?.['kafka-2']?.image).toBe(service('kafka').image);
  });

  it('points every orderstream service that uses Kafka at all three brokers', () => {
    for (const name of ['infra-setup', 'command-api', 'query-api', 'projectors', 'sagas']) {
      const env = environmentOf(cluster.services?.[name] ?? {});
      expect([name, env.KAFKA_BROKERS]).toEqual([name, 'kafka:9092,kafka-2:9092,kafka-3:9092']);
    }
  });
});

describe('infra/Dockerfile', () => {
  it('exists and builds on Node 20', () => {
    const froms = read('infra/Dockerfile')
      .split('\n')
      .filter((line) => /^\s*FROM\s/i.test(line));
    expect(froms.length).toBeGreaterThan(0);
    for (const from of froms) expect(from).toMatch(/^\s*FROM\s+node:20[-.\s]/i);
  });
});
