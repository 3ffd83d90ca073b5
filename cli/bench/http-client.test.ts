import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpTarget } from './http-client';

/** A local HTTP server standing in for the command API: answers 201, or never for /hang. */
function server(): Promise<{ url: string; close: () => Promise<void> }> {
  const hanging: http.ServerResponse[] = [];
  const s = http.createServer((req, res) => {
    if (req.url === '/hang') return void hanging.push(res);
    req.resume();
    req.on('end', () => res.writeHead(201, { 'content-type': 'application/json' }).end('{"ok":1}'));
  });
  return new Promise((resolve) =>
    s.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`,
        close: () =>
          new Promise((done) => {
            for (const res of hanging) res.destroy();
            s.close(() => done());
          }),
      }),
    ),
  );
}

describe('the load generator’s HTTP client', () => {
  it('answers with the status (and body when asked), also for a fractional time left', async () => {
    const { url, close } = await server();
    const target = new HttpTarget(url, 4);
    try {
      expect(await target.post('/orders', '{}', {}, 2000.4)).toEqual({ outcome: 201 });
      expect(await target.post('/orders', '{}', {}, 2000, true)).toEqual({
        outcome: 201,
        body: '{"ok":1}',
      });
    } finally {
      await target.close();
      await close();
    }
  });

  it('gives up on a request with no answer in its time, and on no time left', async () => {
    const { url, close } = await server();
    const target = new HttpTarget(url, 4);
    try {
      expect(await target.post('/hang', '{}', {}, 50)).toEqual({ outcome: 'timeout' });
      expect(await target.post('/orders', '{}', {}, 0)).toEqual({ outcome: 'timeout' });
    } finally {
      await target.close();
      await close();
    }
  });

  it('reports a refused connection as a failure with its code, never throwing', async () => {
    const { url, close } = await server();
    await close();
    const target = new HttpTarget(url, 1);
    try {
      expect(await target.post('/orders', '{}', {}, 2000)).toEqual({
        outcome: 'error:ECONNREFUSED',
      });
    } finally {
      await target.close();
    }
  });
});
