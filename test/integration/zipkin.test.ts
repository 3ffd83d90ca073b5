import fs from 'node:fs';
import { type ServiceProcess, startServiceProcess } from '../support/service-process';
import { eventually, freePort, runCli, scratchDir } from '../support/test-env';

interface ZipkinSpan {
  traceId: string;
  name?: string;
  localEndpoint?: { serviceName?: string };
}

/**
 * `orderstream infra up --with tracing` starts a Zipkin server of its own (jar from Maven
 * Central, on a free port, own state folder), and a service run with
 * OTEL_TRACES_EXPORTER=zipkin sends it its spans.
 */
describe('infra up --with tracing', () => {
  const stateDir = scratchDir('zipkin');
  let env: NodeJS.ProcessEnv;
  let origin: string;
  let gateway: ServiceProcess | undefined;

  beforeAll(async () => {
    origin = `http://127.0.0.1:${await freePort()}`;
    env = {
      ORDERSTREAM_STATE_DIR: stateDir,
      OTEL_EXPORTER_ZIPKIN_ENDPOINT: `${origin}/api/v2/spans`,
    };
  });

  afterAll(async () => {
    await gateway?.kill('SIGKILL');
    await runCli(['infra', 'down'], env);
    fs.rmSync(stateDir, { recursive: true, force: true });
  });

  it('starts Zipkin, which receives a traced request; down stops it', async () => {
    const up = await runCli(['infra', 'up', '--with', 'tracing'], env, 600_000);
    expect(up.stderr).toBe('');
    expect(up.code).toBe(0);
    expect(up.stdout).toMatch(/zipkin: started \(pid \d+\)/);
    const status = await runCli(['infra', 'status'], env);
    expect(status.stdout).toMatch(/^zipkin +up .*started by orderstream \(pid \d+\)/m);

    const port = await freePort();
    gateway = startServiceProcess('infra/payment-gateway/main.ts', port, {
      ...env,
      PAYMENT_GATEWAY_PORT: String(port),
      OTEL_TRACES_EXPORTER: 'zipkin',
    });
    await gateway.waitForLog((l) => l.msg === 'payment-gateway listening', 90_000);
    const traceId = '5a0f2c1e9b8d7c6a5f4e3d2c1b0a9f8e';
    // (Health probes and scrapes are not traced.)
    const res = await fetch(`${gateway.url}/payments?orderId=traced`, {
      headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    });
    expect(res.status).toBe(200);
    // Stopping exports the spans still buffered.
    await gateway.kill('SIGTERM');

    const spans = await eventually(
      async () => {
        const found = await fetch(`${origin}/api/v2/trace/${traceId}`);
        return found.ok ? ((await found.json()) as ZipkinSpan[]) : [];
      },
      (s) => s.length > 0,
      30_000,
    );
    expect(spans.length).toBeGreaterThan(0);
    expect(spans.every((s) => s.traceId === traceId)).toBe(true);
    expect(spans.map((s) => s.localEndpoint?.serviceName)).toContain('payment-gateway');

    const down = await runCli(['infra', 'down'], env);
    expect(down.stdout).toMatch(/zipkin: stopped \(pid \d+\)/);
    expect((await runCli(['infra', 'status'], env)).stdout).not.toMatch(/^zipkin/m);
  }, 600_000);
});
