import type { KafkaAdapterName } from '../../lib/kafka';
import type { RawBaseline } from './raw/baselines';
import type { FailoverResult } from './scenarios/failover';
import type { FlashSaleResult } from './scenarios/flash-sale';
import type { IdleResult } from './scenarios/idle';
import type { FixedRateResult } from './scenarios/latency';
import type { LogEntriesResult } from './scenarios/log-entries';
import type { OverloadResult } from './scenarios/overload';
import type { ReadsResult } from './scenarios/reads';
import type { ThroughputResult } from './scenarios/throughput';
import type { TracingCostResult } from './scenarios/tracing-cost';

/** Everything one `orderstream bench` run measured: the JSON it writes and the table's source. */
export interface BenchResults {
  date: string;
  runId: string;
  quick: boolean;
  parts: string[];
  machine: {
    cpus: number;
    cpuModel: string;
    memoryMb: number;
    os: string;
    /** 1-minute load average as the run started and ended (others share this machine). */
    loadAverageStart: number;
    loadAverageEnd: number;
  };
  node: string;
  /** The adapter the stack ran with (KAFKA_CLIENT), and how it was chosen. */
  adapter: KafkaAdapterName;
  adapterChosenBy: string;
  raw: RawBaseline[];
  e2e?: E2eResults;
  failover?: FailoverResult;
  errors: string[];
  durationMs: number;
}

export interface E2eResults {
  /** Every order of the load has one line of one unit. */
  orderLines: number;
  paymentLatencyMs: number;
  commandTimeoutMs: number;
  stackStartMs: number;
  logEntries?: LogEntriesResult;
  throughput?: ThroughputResult;
  idle?: IdleResult;
  fixedRates?: FixedRateResult[];
  overload?: OverloadResult;
  flashSale?: FlashSaleResult;
  reads?: ReadsResult;
  tracing?: TracingCostResult;
}
