import type { Config } from '../../lib/config';
import type { KafkaAdmin, KafkaClient } from '../../lib/kafka';
import type { HttpTarget } from './http-client';
import type { E2ePlan } from './plan';
import type { CpuTarget } from './process-cpu';
import type { RunNames } from './run-names';
import type { BenchStack } from './stack';

/** What every end-to-end scenario works with: the running stack and the bench's clients. */
export interface E2eContext {
  config: Config;
  names: RunNames;
  plan: E2ePlan;
  say: (line: string) => void;
  stack: BenchStack;
  /** Observes the log (end offsets, order events) with the stack's adapter. */
  kafka: KafkaClient;
  /** Counts records between offsets: always kafkajs, so the count does not vary with the adapter. */
  countingKafka: KafkaClient;
  admin: KafkaAdmin;
  /** Every topic of the stack. */
  topics: string[];
  orderEvents: string;
  /** Few connections, for setting up (products, single orders). */
  setup: HttpTarget;
  /** One connection per closed-loop caller. */
  closedLoop: HttpTarget;
  /** Many connections, for open-loop runs (one per request awaiting its answer, up to a cap). */
  openLoop: HttpTarget;
  adminHeaders: Record<string, string>;
  cpuTargets: CpuTarget[];
  /** The next order of the load: a customer (round robin over many) and a one-line body. */
  nextOrder: () => { headers: Record<string, string>; body: string };
}
