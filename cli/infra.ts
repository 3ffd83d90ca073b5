import { clusterAddresses } from '../infra/kafka-cluster';
import { infraDown, infraStatus, infraUp, upSummary } from '../infra/local-infra';
import { zipkinAddress } from '../infra/zipkin-server';
import { loadConfig } from '../lib/config';

const say = (line: string) => process.stdout.write(`${line}\n`);

/** `orderstream infra up`: start what is not running, create topics and shard databases, migrate. */
export async function up(options: { brokers?: number; with?: string[] } = {}): Promise<void> {
  const config = loadConfig();
  if (options.brokers !== undefined)
    config.kafka.brokers = clusterAddresses(config.kafka.brokers, options.brokers);
  const tracing = options.with?.includes('tracing') === true;
  say(upSummary(await infraUp(config, say, { tracing })));
  if (tracing)
    say(
      `zipkin: traces at ${zipkinAddress(config).origin}/zipkin/ once services run with OTEL_TRACES_EXPORTER=zipkin`,
    );
  if (config.kafka.brokers.length > 1 && process.env.KAFKA_BROKERS === undefined)
    say(`kafka: services reach this cluster at KAFKA_BROKERS=${config.kafka.brokers.join(',')}`);
}

/** `orderstream infra down`: stop what `infra up` started (by pid); data is kept. */
export async function down(): Promise<void> {
  await infraDown(loadConfig(), say);
}

/** `orderstream infra status`: what is up, where, who started it; exit 1 unless all is as configured. */
export async function status(): Promise<void> {
  const statuses = await infraStatus(loadConfig());
  for (const s of statuses) {
    say(
      [
        s.component.padEnd(9),
        (s.up ? 'up' : 'down').padEnd(5),
        s.where,
        s.owner && `· ${s.owner}`,
        s.detail && `· ${s.detail}`,
      ]
        .filter(Boolean)
        .join(' '),
    );
  }
  if (statuses.some((s) => !s.ok)) process.exitCode = 1;
}
