// Ad-hoc: command-api alone under closed-loop POST /orders (not committed).
import { spawn } from 'node:child_process';
import { ensureTopics } from '../../infra/kafka-topics';
import { loadConfig } from '../../lib/config';
import { issueToken } from '../../lib/http/auth';
import { runClosedLoop } from './closed-loop';
import { HttpTarget } from './http-client';
import { cpuMs } from './process-cpu';

(async () => {
  const prefix = `adhoc-${Date.now()}`;
  const port = 3901 + Math.floor(Math.random() * 50);
  const env = {
    ...process.env,
    TOPIC_PREFIX: prefix,
    COMMAND_API_PORT: String(port),
    LOG_LEVEL: 'warn',
    KAFKA_CLIENT: process.env.KAFKA_CLIENT ?? 'auto',
  };
  const config = loadConfig(env);
  await ensureTopics(config);
  const child = spawn(
    process.execPath,
    [
      ...(process.env.PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/adhoc'] : []),
      '--import',
      'tsx',
      'command-api/main.ts',
    ],
    { env, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    try {
      const r = await fetch(`${url}/health/ready`);
      if (r.ok) break;
    } catch {}
    await new Promise((r) => setTimeout(r, 300));
  }
  await new Promise((r) => setTimeout(r, 3000));
  const admin = await issueToken(config.jwt, 'alice', 'admin');
  const res = await fetch(`${url}/products`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      sku: 'ADHOC-1',
      name: 'A',
      category: 'c',
      price: { amount: 100, currency: 'EUR' },
      initialStock: 1000000,
    }),
  });
  const product = (await res.json()) as { aggregateId: string };
  const tokens = await Promise.all(
    Array.from({ length: 50 }, (_, i) => issueToken(config.jwt, `c-${i}`, 'customer')),
  );
  const target = new HttpTarget(url, 64);
  let i = 0;
  const before = cpuMs(child.pid as number) ?? 0;
  const result = await runClosedLoop({
    concurrency: Number(process.env.CONC ?? 64),
    warmupMs: 3000,
    durationMs: 15000,
    send: async () =>
      (
        await target.post(
          '/orders',
          JSON.stringify({ items: [{ productId: product.aggregateId, quantity: 1 }] }),
          { authorization: `Bearer ${tokens[i++ % 50]}`, 'content-type': 'application/json' },
          5000,
        )
      ).outcome,
  });
  const after = cpuMs(child.pid as number) ?? 0;
  console.log(
    JSON.stringify({
      adapter: env.KAFKA_CLIENT,
      ackPerSec: result.acknowledgedPerSec,
      outcomes: result.outcomes,
      latency: result.latency,
      cmdApiCpuMsPerOrder: (after - before) / Math.max(1, result.acknowledged + 0),
    }),
  );
  child.kill('SIGTERM');
  process.exit(0);
})();
