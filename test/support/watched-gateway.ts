import { createPaymentGateway, type PaymentGateway } from '../../infra/payment-gateway/app';
import { behaviourFromConfig } from '../../infra/payment-gateway/behaviour';
import { type AuthorizeRequest, PaymentGatewayClient } from '../../infra/payment-gateway/client';
import { loadConfig } from '../../lib/config';
import { listen, type RunningServer } from '../../lib/http/serve';
import type { ConsumedRecord } from '../../lib/kafka';
import { createLogger } from '../../lib/logger';
import type { PaymentGateway as SagaGateway } from '../../sagas/payment-step';

/**
 * The saga's gateway client in front of the real simulator (in this process), watching the calls
 * in flight: how many at once at most, and whether one order ever had two at once.
 */
export class WatchedGateway implements SagaGateway {
  inFlight = 0;
  maxInFlight = 0;
  /** Orders that had two calls in flight at once. */
  readonly overlapped = new Set<string>();
  private readonly perOrder = new Map<string, number>();

  constructor(private readonly client: PaymentGatewayClient) {}

  private async watch<T>(orderId: string, call: () => Promise<T>): Promise<T> {
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const mine = (this.perOrder.get(orderId) ?? 0) + 1;
    if (mine > 1) this.overlapped.add(orderId);
    this.perOrder.set(orderId, mine);
    try {
      return await call();
    } finally {
      this.inFlight -= 1;
      this.perOrder.set(orderId, (this.perOrder.get(orderId) ?? 1) - 1);
    }
  }

  authorize(request: AuthorizeRequest) {
    return this.watch(request.orderId, () => this.client.authorize(request));
  }

  refund(paymentId: string, idempotencyKey: string) {
    return this.watch(idempotencyKey.replace(/^refund:/, ''), () =>
      this.client.refund(paymentId, idempotencyKey),
    );
  }

  voidPayment(idempotencyKey: string) {
    return this.watch(idempotencyKey.replace(/^pay:/, ''), () =>
      this.client.voidPayment(idempotencyKey),
    );
  }

  reset(): void {
    this.maxInFlight = 0;
    this.overlapped.clear();
  }
}

/** The gateway simulator on a free port, and the saga's watched client of it. */
export async function startWatchedGateway(
  latencyMs: number,
): Promise<{ simulator: PaymentGateway; watched: WatchedGateway; stop: () => Promise<void> }> {
  const simulator = createPaymentGateway({
    logger: createLogger('test', 'silent'),
    behaviour: { ...behaviourFromConfig(loadConfig({}).paymentGateway), latencyMs },
    bodyLimit: '2kb',
    healthTimeoutMs: 100,
  });
  const server: RunningServer = await listen(simulator.app, '127.0.0.1', 0);
  const watched = new WatchedGateway(new PaymentGatewayClient(server.url, { timeoutMs: 5000 }));
  return {
    simulator,
    watched,
    stop: async () => {
      simulator.stop();
      await server.close();
    },
  };
}

/** A record as a consumer gets it, from what a producer wrote. */
export function consumed(
  topic: string,
  offset: number,
  value: Buffer | null,
  headers: Record<string, string>,
  key = '',
): ConsumedRecord {
  return {
    topic,
    partition: 0,
    offset: BigInt(offset),
    key: Buffer.from(key),
    value,
    headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Buffer.from(v)])),
    timestamp: Date.now(),
  };
}
