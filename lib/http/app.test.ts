import { Router } from 'express';
import { createLogger } from '../logger';
import { createHttpApp } from './app';
import { listen, type RunningServer } from './serve';

describe('the shared HTTP app', () => {
  let server: RunningServer;
  let faults: unknown[];

  beforeAll(async () => {
    faults = [];
    const routes = Router();
    routes.post('/echo', (req, res) => {
      res.json(req.body);
    });
    routes.get('/boom', () => {
      throw new Error('secret internals');
    });
    const logger = createLogger('test', 'silent');
    const app = createHttpApp({
      logger: Object.assign(logger, { error: (...args: unknown[]) => faults.push(args) }),
      checks: [],
      healthTimeoutMs: 100,
      bodyLimit: '1kb',
      routes,
    });
    server = await listen(app, '127.0.0.1', 0);
  });
  afterAll(() => server.close());

  const post = (body: string) =>
    fetch(`${server.url}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });

  it('answers an unknown route with a 404 problem', async () => {
    const res = await fetch(`${server.url}/nowhere`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await res.json()).toEqual({
      type: 'about:blank',
      title: 'Not Found',
      status: 404,
      detail: 'No route for GET /nowhere',
      instance: '/nowhere',
    });
  });

  it('answers malformed JSON with a 400 problem', async () => {
    const res = await post('{"items": [');
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ title: 'Malformed JSON', status: 400 });
  });

  it('answers a body over the limit with a 413 problem', async () => {
    const res = await post(JSON.stringify({ pad: 'x'.repeat(2048) }));
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ title: 'Payload Too Large', status: 413 });
  });

  it('answers a fault with a 500 problem that hides the internals, and logs it', async () => {
    const res = await fetch(`${server.url}/boom`);
    expect(res.status).toBe(500);
    const body = await res.json();
    expect(body).toMatchObject({ title: 'Internal Server Error', status: 500 });
    expect(JSON.stringify(body)).not.toContain('secret internals');
    expect(faults).toHaveLength(1);
  });

  it('passes a good body through', async () => {
    const res = await post('{"ok":true}');
    expect(await res.json()).toEqual({ ok: true });
  });

  it('is ready with no dependencies to wait for', async () => {
    expect((await fetch(`${server.url}/health/ready`)).status).toBe(200);
  });
});
