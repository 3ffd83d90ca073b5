import { loadConfig } from '../lib/config';
import { createKafkaClient, type KafkaAdmin } from '../lib/kafka';
import { createLogger } from '../lib/logger';
import { kafkaGroupLag, type LagSource, type PartitionLag } from '../lib/metrics/consumer-lag';
import { requireReachable, requireTopics } from '../lib/preflight';
import { createRedis } from '../lib/redis';
import { consumerGroupNames, topicNames } from '../lib/topics';
import { openShard0, projectionSpecs } from '../projectors/projections';
import { projectionLagSource, totalLag } from '../projectors/runtime/projection-lag';
import { openDeadLetters } from './dlq';

export interface GroupStatus {
  /** What the group does: `commands`, `saga`, `saga-reservations`, `saga-retries`, or a projection. */
  name: string;
  group: string;
  /** For a projection: the generation it reads and writes. */
  generation?: number;
  lag: string;
  partitions: { topic: string; partition: number; position: string; end: string; lag: string }[];
}

export interface SystemStatus {
  groups: GroupStatus[];
  deadLetters: { saga: number; projector: number };
  /** The saga's payment-gateway breaker, read from the sagas process's /metrics. */
  breaker: 'closed' | 'half-open' | 'open' | 'unknown';
}

const BREAKER_BY_VALUE = ['closed', 'half-open', 'open'] as const;

/** The breaker state the sagas process reports on SAGAS_PORT; `unknown` when it does not answer. */
async function breakerState(url: string): Promise<SystemStatus['breaker']> {
  try {
    const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(2000) });
    const line = (await res.text())
      .split('\n')
      .find((l) => l.startsWith('orderstream_circuit_breaker_state{dependency="payment-gateway"}'));
    return BREAKER_BY_VALUE[Number(line?.split(' ').at(-1))] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

async function groupStatus(
  admin: KafkaAdmin,
  name: string,
  source: LagSource,
  generation?: number,
): Promise<GroupStatus> {
  const rows: PartitionLag[] = await source.lag(admin);
  return {
    name,
    group: source.group,
    ...(generation !== undefined && { generation }),
    lag: String(totalLag(rows)),
    partitions: rows.map((r) => ({
      topic: r.topic,
      partition: r.partition,
      position: String(r.position),
      end: String(r.end),
      lag: String(r.lag),
    })),
  };
}

/** Every consumer group of the system with its lag per partition, the DLQ depths, the breaker. */
export async function systemStatus(): Promise<SystemStatus> {
  const config = loadConfig();
  await requireReachable(config, ['kafka', 'postgres', 'redis']);
  const names = topicNames(config.topics);
  await requireTopics(config, [names.productEvents, names.orderEvents, names.sagaDeadLetter]);
  const logger = createLogger('cli', 'silent');
  const shard0 = openShard0(config);
  const redis = createRedis(config.redis.url);
  const admin = createKafkaClient(config).admin();
  const groups = consumerGroupNames(config.topics);
  try {
    const kafkaGroups: [string, LagSource][] = [
      [
        'commands',
        kafkaGroupLag(groups.commandProcessor, [names.productCommands, names.orderCommands]),
      ],
      ['saga', kafkaGroupLag(groups.sagaFulfilment, [names.orderEvents])],
      [
        'saga-reservations',
        kafkaGroupLag(groups.sagaReservations, [names.productEvents, names.productReplies]),
      ],
      ['saga-retries', kafkaGroupLag(groups.sagaRetries, names.sagaRetries)],
    ];
    const statuses: GroupStatus[] = [];
    for (const [name, source] of kafkaGroups) statuses.push(await groupStatus(admin, name, source));
    // Every projection, the read model's followers included when configured.
    for (const spec of projectionSpecs({ config, logger, shard0, redis })) {
      const generation = await spec.currentGeneration();
      const source = projectionLagSource(spec, [names.productEvents, names.orderEvents]);
      statuses.push(await groupStatus(admin, spec.name, source, generation));
    }
    const projectorDlq = await admin.offsets(names.projectorDeadLetter);
    const host = config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host;
    return {
      groups: statuses,
      deadLetters: {
        saga: (await openDeadLetters(config)).length,
        projector: projectorDlq.reduce((sum, p) => sum + Number(p.high - p.low), 0),
      },
      breaker: await breakerState(`http://${host}:${config.http.sagasPort}`),
    };
  } finally {
    await admin.close();
    redis.disconnect();
    await shard0.end();
  }
}

/** `orderstream status [--json]`: systemStatus as a table (or one JSON document). */
export async function status(options: { json?: boolean } = {}): Promise<void> {
  const report = await systemStatus();
  if (options.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  const out = (line: string) => process.stdout.write(`${line}\n`);
  for (const g of report.groups) {
    const generation = g.generation !== undefined ? `generation ${g.generation}, ` : '';
    out(`${g.name} (${generation}group ${g.group}): lag ${g.lag}`);
    for (const p of g.partitions) {
      out(
        `  ${p.topic.padEnd(44)} ${String(p.partition).padStart(3)}  next ${p.position.padStart(8)}  end ${p.end.padStart(8)}  lag ${p.lag.padStart(8)}`,
      );
    }
  }
  const { saga, projector } = report.deadLetters;
  out(`saga dead letters: ${saga}${saga > 0 ? ' (see `orderstream dlq list`)' : ''}`);
  out(`projector dead letters: ${projector}`);
  out(`payment gateway breaker: ${report.breaker}`);
}
