/**
 * The environment a service process is started with (by `orderstream start`, the bench, the
 * tests; the npm `start:*` scripts and the Docker image set the same): libuv's thread pool
 * sized for the native Kafka client, unless the operator chose a size.
 *
 * The native client runs each blocking librdkafka call (a consumer's fetch, up to its wait;
 * initTransactions, commits and disconnects, up to 30 s while a coordinator is gone) on libuv's
 * thread pool, which has 4 threads by default. A saga process holds three consumers and a
 * producer per owned partition: after a broker died, the few threads were taken by calls
 * waiting on it and everything else queued behind them — the owners' fencing, the consumers'
 * fetches and rebalances — so the process stalled for minutes. libuv reads the variable when
 * the pool first starts, which under `--import tsx` is before any of our code runs: it has to
 * be in the environment the process starts with.
 */
export const NATIVE_THREADS = '64';

export function withNativeThreads(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...env, UV_THREADPOOL_SIZE: env.UV_THREADPOOL_SIZE ?? NATIVE_THREADS };
}
