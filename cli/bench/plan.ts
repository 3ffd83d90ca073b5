/** What a bench run measures and for how long: `--quick` is a smoke run of every part. */

export const PARTS = [
  'raw',
  'log-entries',
  'throughput',
  'idle',
  'latency',
  'overload',
  'flash-sale',
  'reads',
  'failover',
  'tracing',
] as const;
export type Part = (typeof PARTS)[number];

/** The parts that need the whole stack running (raw and failover need only Kafka). */
export const E2E_PARTS: readonly Part[] = PARTS.filter((p) => p !== 'raw' && p !== 'failover');

/** Parts that use another's result: overload offers 3× the measured capacity, idle follows load. */
const NEEDS: Partial<Record<Part, Part>> = { overload: 'throughput', idle: 'throughput' };
// (tracing measures its own baseline, tracing and metrics off, in the same legs' order.)

/**
 * `--only raw,e2e` or part names (comma-separated); undefined: everything. A part another
 * needs is added. Unknown names throw, naming them.
 */
export function selectParts(only: string | undefined): Set<Part> {
  if (only === undefined || only.trim() === '') return new Set(PARTS);
  const chosen = new Set<Part>();
  const unknown: string[] = [];
  for (const name of only
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    if (name === 'e2e') for (const p of E2E_PARTS) chosen.add(p);
    else if ((PARTS as readonly string[]).includes(name)) chosen.add(name as Part);
    else unknown.push(name);
  }
  if (unknown.length > 0)
    throw new Error(
      `--only: unknown part ${unknown.join(', ')} (expected raw, e2e or ${E2E_PARTS.join(', ')})`,
    );
  for (const part of [...chosen]) {
    const needed = NEEDS[part];
    if (needed) chosen.add(needed);
  }
  return chosen;
}

export interface RawPlan {
  /** 1 KB messages of the batched produce (sends of 500, 8 in flight). */
  produceMessages: number;
  /** Each transaction figure runs this long. */
  transactionMs: number;
}

export interface E2ePlan {
  /** Connections of the closed loop (max throughput, flash sale). */
  concurrency: number;
  warmupMs: number;
  throughputMs: number;
  idleMs: number;
  /** Offered rates (req/s) of the open-loop latency runs, and how long each runs. */
  rates: number[];
  rateMs: number;
  /** Overload offers this multiple of the measured capacity. */
  overloadFactor: number;
  overloadMs: number;
  flashBuyers: number;
  flashUnits: number;
  /** Each window of the reads part (query API, raw store, half rate) runs this long. */
  readMs: number;
  /** Longest the flash sale may take to settle every order before it reports what it saw. */
  flashMaxMs: number;
  /** Orders of the log-entries window. */
  logOrders: number;
  /** Longest to wait for the stack to go quiet between parts. */
  drainMaxMs: number;
  /** Longest one request may take (well past COMMAND_TIMEOUT_MS, when a 202 comes). */
  requestTimeoutMs: number;
  /** Most requests the open loop keeps awaiting answers; past it, due requests are shed. */
  maxOutstanding: number;
  products: number;
  customers: number;
}

/** An owner's takeover of one partition, replayed whole and from a snapshot. */
export interface FailoverPlan {
  events: number;
  /** SNAPSHOT_EVERY_EVENTS of the measured owner. */
  snapshotEvery: number;
}

export interface Plan {
  quick: boolean;
  raw: RawPlan;
  e2e: E2ePlan;
  failover: FailoverPlan;
}

export interface PlanOverrides {
  concurrency?: number;
  flashBuyers?: number;
}

export function benchPlan(quick: boolean, overrides: PlanOverrides = {}): Plan {
  const s = (full: number, smoke: number) => (quick ? smoke : full);
  return {
    quick,
    raw: { produceMessages: s(200_000, 20_000), transactionMs: s(5000, 1500) },
    failover: { events: s(200_000, 20_000), snapshotEvery: s(20_000, 2000) },
    e2e: {
      concurrency: overrides.concurrency ?? 64,
      warmupMs: s(5000, 2000),
      throughputMs: s(20_000, 5000),
      idleMs: s(20_000, 5000),
      rates: [100, 500, 1000],
      rateMs: s(15_000, 3000),
      overloadFactor: 3,
      overloadMs: s(30_000, 5000),
      flashBuyers: overrides.flashBuyers ?? s(10_000, 1000),
      flashUnits: 100,
      readMs: s(10_000, 3000),
      flashMaxMs: s(180_000, 60_000),
      logOrders: s(200, 30),
      drainMaxMs: s(45_000, 15_000),
      requestTimeoutMs: 15_000,
      maxOutstanding: 4096,
      products: 60,
      customers: 1000,
    },
  };
}
