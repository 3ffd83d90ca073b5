import { performance } from 'node:perf_hooks';
import type { Config } from '../../lib/config';
import { createKafkaClient } from '../../lib/kafka';
import { topicNames } from '../../lib/topics';
import { stackCpuTargets } from './cpu-targets';
import type { E2eContext } from './e2e-context';
import { HttpTarget } from './http-client';
import { endOffsets, stackTopics } from './log-offsets';
import { OrderTracker } from './order-tracker';
import type { Part, Plan } from './plan';
import type { E2eResults } from './results';
import type { RunNames } from './run-names';
import { measureFlashSale } from './scenarios/flash-sale';
import { measureIdle } from './scenarios/idle';
import { measureFixedRates } from './scenarios/latency';
import { measureLogEntries } from './scenarios/log-entries';
import { measureOverload } from './scenarios/overload';
import { measureReads } from './scenarios/reads';
import { measureThroughput } from './scenarios/throughput';
import { measureTracingCost } from './scenarios/tracing-cost';
import { adminHeaders, createProducts, customerHeaders, oneLineOrder, placeOrder } from './shop';
import type { BenchStack } from './stack';

export interface E2eRun {
  config: Config;
  names: RunNames;
  plan: Plan;
  parts: Set<Part>;
  stack: BenchStack;
  cores: number;
  say: (line: string) => void;
  /** A part that failed: recorded, and the run goes on with the next. */
  failed: (part: string, error: unknown) => void;
}

/** Stock of each load product: more than any run can order. */
const PLENTY = 1_000_000;

/** Starts the stack, sets up the catalogue and customers, and runs the chosen scenarios. */
export async function runE2e(run: E2eRun): Promise<E2eResults> {
  const { config, plan, parts, stack, say } = run;
  const e2ePlan = plan.e2e;
  const result: E2eResults = {
    orderLines: 1,
    paymentLatencyMs: config.paymentGateway.latencyMs,
    commandTimeoutMs: config.commands.timeoutMs,
    stackStartMs: 0,
  };
  const started = performance.now();
  say(`e2e: starting the stack (${config.kafka.client}), log in ${stack.logFile}`);
  stack.start();
  await stack.waitUntilReady(120_000);
  result.stackStartMs = Math.round(performance.now() - started);

  const kafka = createKafkaClient(config);
  const admin = kafka.admin();
  const apiUrl = `http://127.0.0.1:${config.http.commandApiPort}`;
  const setup = new HttpTarget(apiUrl, 16);
  const closedLoop = new HttpTarget(apiUrl, e2ePlan.concurrency);
  const openLoop = new HttpTarget(apiUrl, 1024);
  try {
    const adminAuth = await adminHeaders(config);
    say(`e2e: creating ${e2ePlan.products} products and ${e2ePlan.customers} customers…`);
    const products = await createProducts(
      setup,
      adminAuth,
      run.names.id,
      e2ePlan.products,
      PLENTY,
      'load',
    );
    const customers = await customerHeaders(config, 'c-', e2ePlan.customers);
    const bodies = products.map(oneLineOrder);
    let n = 0;
    const ctx: E2eContext = {
      config,
      names: run.names,
      plan: e2ePlan,
      say,
      stack,
      kafka,
      countingKafka: createKafkaClient({ kafka: { ...config.kafka, client: 'kafkajs' } }),
      admin,
      topics: await stackTopics(admin, config.topics.prefix),
      orderEvents: topicNames(config.topics).orderEvents,
      setup,
      closedLoop,
      openLoop,
      adminHeaders: adminAuth,
      cpuTargets: stackCpuTargets(config, stack.pids()),
      nextOrder: () => {
        n += 1;
        return {
          headers: customers[n % customers.length] ?? {},
          body: bodies[n % bodies.length] ?? '',
        };
      },
    };
    await firstOrderConfirmed(ctx, products[0] ?? '');

    const step = async <T>(part: Part, label: string, measure: () => Promise<T>) => {
      if (!parts.has(part)) return undefined;
      if (stack.died) {
        run.failed(part, new Error(`skipped: ${stack.died}`));
        return undefined;
      }
      say(`e2e: ${label}…`);
      try {
        return await measure();
      } catch (err) {
        run.failed(part, err);
        return undefined;
      }
    };
    result.logEntries = await step(
      'log-entries',
      `log entries of ${e2ePlan.logOrders} orders`,
      () => measureLogEntries(ctx),
    );
    result.throughput = await step(
      'throughput',
      `max throughput, ${e2ePlan.concurrency} connections, ${e2ePlan.throughputMs / 1000} s after ${e2ePlan.warmupMs / 1000} s warm-up`,
      () => measureThroughput(ctx),
    );
    result.idle = await step('idle', `idle stack for ${e2ePlan.idleMs / 1000} s`, () =>
      measureIdle(ctx, run.cores),
    );
    // Early, while the log is small: it restarts the stack six times (tracing and metrics off,
    // on, and on with sampling), and each restart's owners rebuild their state from the log; after
    // the flash sale, those rebuilds took most of each leg. Then once more as it was.
    result.tracing = await step(
      'tracing',
      `throughput with tracing and metrics off, on and sampled, in the order off, on, sampled, sampled, on, off (stack restarted each time), ${e2ePlan.throughputMs / 1000} s each`,
      () => measureTracingCost(ctx),
    );
    result.fixedRates = await step('latency', 'latency at fixed offered rates', () =>
      measureFixedRates(ctx),
    );
    result.overload = await step('overload', 'overload', () =>
      measureOverload(ctx, result.throughput?.acknowledgedPerSec ?? 0),
    );
    result.flashSale = await step('flash-sale', 'flash sale', () => measureFlashSale(ctx));
    result.reads = await step('reads', 'query API reads beside raw Redis and Postgres', () =>
      measureReads(ctx, products),
    );
    if (stack.died) run.failed('stack', new Error(`${stack.died}; see ${stack.logFile}`));
    return result;
  } finally {
    await Promise.allSettled([setup.close(), closedLoop.close(), openLoop.close()]);
    await admin.close().catch(() => undefined);
  }
}

/** The whole pipeline works (command, saga, gateway) before anything is measured. */
async function firstOrderConfirmed(ctx: E2eContext, productId: string): Promise<void> {
  const tracker = new OrderTracker(ctx.kafka, ctx.orderEvents, 'customer:warm-');
  tracker.start(await endOffsets(ctx.admin, [ctx.orderEvents]));
  try {
    const [headers = {}] = await customerHeaders(ctx.config, 'warm-', 1);
    const placed = await placeOrder(
      ctx.setup,
      headers,
      oneLineOrder(productId),
      `warm-${ctx.names.id}`,
      ctx.plan.requestTimeoutMs,
      10,
    );
    const confirmed = await tracker.waitFor(() => tracker.confirmed.size > 0, 90_000);
    if (!confirmed)
      throw new Error(
        `the first order (answered ${placed.outcome}) was not confirmed within 90 s; see ${ctx.stack.logFile}`,
      );
  } finally {
    await tracker.stop();
  }
}
