import { Writable } from 'node:stream';
import { stripVTControlCharacters } from 'node:util';
import { Router } from 'express';
import pino from 'pino';
import { prettyFactory } from 'pino-pretty';
import { serviceOutput } from '../../cli/service-output';
import { createHttpApp } from './app';
import { correlationIdOf } from './request-log';
import { listen, type RunningServer } from './serve';

describe('request logs and correlation ids', () => {
  let server: RunningServer;
  const lines: Record<string, unknown>[] = [];

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean))
          lines.push(JSON.parse(line));
        done();
      },
    });
    const routes = Router();
    routes.get('/things/:id', (_req, res) => {
      res.status(201).json({ correlationId: correlationIdOf(res) });
    });
    const app = createHttpApp({
      logger: pino({ level: 'info' }, sink),
      checks: [],
      healthTimeoutMs: 100,
      bodyLimit: '1kb',
      routes,
    });
    server = await listen(app, '127.0.0.1', 0);
  });
  afterAll(() => server.close());

  const logged = async (correlationId: string) => {
    for (let i = 0; i < 50; i++) {
      const line = lines.find((l) => l.correlationId === correlationId);
      if (line) return line;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no request log for ${correlationId}`);
  };

  it("echoes the client's X-Correlation-Id, hands it to the route and logs the request with it", async () => {
    const res = await fetch(`${server.url}/things/42?x=1`, {
      headers: { 'X-Correlation-Id': 'checkout-7' },
    });
    expect(res.headers.get('X-Correlation-Id')).toBe('checkout-7');
    expect(await res.json()).toEqual({ correlationId: 'checkout-7' });
    const line = await logged('checkout-7');
    expect(line).toMatchObject({ msg: 'request', method: 'GET', path: '/things/42', status: 201 });
    expect(typeof line.latencyMs).toBe('number');
    expect(line.latencyMs as number).toBeGreaterThanOrEqual(0);
  });

  it('makes a correlation id when the client sent none, also for answers no route gave', async () => {
    const res = await fetch(`${server.url}/nowhere`, { method: 'DELETE' });
    expect(res.status).toBe(404);
    const id = res.headers.get('X-Correlation-Id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await logged(id as string)).toMatchObject({
      method: 'DELETE',
      path: '/nowhere',
      status: 404,
    });
  });

  it('logs the trace id of the request span when one is active', async () => {
    // Without a tracer provider no span exists: the field is left out rather than made up.
    const res = await fetch(`${server.url}/things/1`);
    const line = await logged(res.headers.get('X-Correlation-Id') as string);
    expect(line).not.toHaveProperty('traceId');
  });
});

describe("npm start's passing on of service output", () => {
  const event = JSON.stringify({
    level: 30,
    time: 1_700_000_000_000,
    name: 'sagas',
    msg: 'sagas running',
    pid: 1,
  });

  it('keeps JSON lines as JSON, unprefixed, when not on a terminal', () => {
    const output = serviceOutput('sagas', false);
    expect(JSON.parse(output(event, 'stdout'))).toMatchObject({
      name: 'sagas',
      msg: 'sagas running',
    });
    // A stack trace on stderr becomes an ERROR event of the service that pino-pretty can read.
    const wrapped = JSON.parse(output('    at main (sagas/main.ts:3:1)', 'stderr'));
    expect(wrapped).toMatchObject({
      level: 50,
      name: 'sagas',
      msg: '    at main (sagas/main.ts:3:1)',
    });
    // …and pino-pretty reads the combined output back.
    expect(prettyFactory({ colorize: false })(output(event, 'stdout'))).toContain('sagas running');
  });

  it('prints one pretty line per event with the service name in a column on a terminal', () => {
    const output = serviceOutput('sagas', true);
    const line = output(event, 'stdout');
    expect(line).not.toContain('\n');
    expect(line).not.toContain('{');
    expect(stripVTControlCharacters(line)).toMatch(/INFO.*sagas {11} sagas running$/);
  });
});
