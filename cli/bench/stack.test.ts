import net from 'node:net';
import { freePort, SERVICE_PORTS } from './stack';

describe("the bench's service ports", () => {
  it('are free, distinct and below the ephemeral range, so a restart finds them still free', async () => {
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    expect(new Set(ports).size).toBe(ports.length);
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(SERVICE_PORTS.from);
      expect(port).toBeLessThan(32_768);
    }
    // Free indeed: each can be listened on.
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(ports[0], '127.0.0.1', resolve);
    });
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});
