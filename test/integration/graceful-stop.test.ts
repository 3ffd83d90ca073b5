import { type ServiceProcess, startServiceProcess } from '../support/service-process';
import { freePort } from '../support/test-env';

interface Answer {
  status: number;
  connection: string | null;
}

let sent = 0;

/** One payment (fetch keeps its connections alive); undefined once the server refuses them. */
async function authorize(url: string): Promise<Answer | undefined> {
  sent += 1;
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        idempotencyKey: `stop-${sent}`,
        orderId: `o-${sent}`,
        customerId: 'c-stop',
        amount: { amount: 100, currency: 'EUR' },
      }),
    });
    await res.arrayBuffer();
    return { status: res.status, connection: res.headers.get('connection') };
  } catch {
    return undefined;
  }
}

/**
 * SIGTERM while clients keep their keep-alive connections busy: the service answers what it
 * was asked, closes those connections, and stops cleanly. A closed Node server goes on serving
 * requests on open connections, so a busy client kept the stop from ever finishing until the
 * forced exit (code 1, after 10 s) cut the requests in flight.
 */
describe('a service stopping under load', () => {
  let service: ServiceProcess | undefined;

  afterAll(async () => {
    await service?.kill('SIGKILL');
  });

  it('closes busy keep-alive connections and finishes its own stop (exit 0, not the forced exit)', async () => {
    const port = await freePort();
    service = startServiceProcess('infra/payment-gateway/main.ts', port, {
      PAYMENT_GATEWAY_PORT: String(port),
      // Each answer takes a while: the connections are never idle when the signal comes.
      PAYMENT_LATENCY_MS: '50',
    });
    await service.waitForLog((l) => l.msg === 'payment-gateway listening', 90_000);
    const url = `${service.url}/payments/authorize`;
    let signalled = false;
    const afterSignal: Answer[] = [];
    const client = async () => {
      for (;;) {
        const answer = await authorize(url);
        if (!answer) return;
        if (signalled) afterSignal.push(answer);
      }
    };
    const clients = Promise.all(Array.from({ length: 16 }, client));
    await new Promise((r) => setTimeout(r, 500));

    signalled = true;
    await service.kill('SIGTERM');
    await clients;

    // 0: its own stop finished (the forced exit, 10 s after the signal, exits 1).
    expect({ exitCode: service.child.exitCode, signal: service.child.signalCode }).toEqual({
      exitCode: 0,
      signal: null,
    });
    // The answers it gave while draining (the gateway refuses new payments once stopping: 503)
    // ended their connections.
    expect(afterSignal.filter((a) => a.connection === 'close').length).toBeGreaterThan(0);
  });
});
