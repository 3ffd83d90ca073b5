import type { Config } from '../../lib/config';
import { isolatedConfig } from '../support/command-api';
import { SagaHarness, typesOf } from '../support/saga-harness';

/** The order-fulfilment saga with the real broker, Postgres, Redis, gateway and a saga process. */
describe('order fulfilment saga', () => {
  let config: Config;
  let h: SagaHarness;

  beforeAll(async () => {
    config = await isolatedConfig(
      'sagas',
      {
        SAGA_RETRY_DELAYS_MS: '200,400,800',
        SAGA_BREAKER_COOLDOWN_MS: '300',
        SAGA_GATEWAY_TIMEOUT_MS: '1000',
        COMMAND_TIMEOUT_MS: '60000',
      },
      { stores: true },
    );
    h = new SagaHarness(config);
    await h.start();
    await h.startSaga();
  });
  afterAll(() => h.stop());

  it('happy path: the order ends confirmed, stock reduced by its lines, payment authorized once', async () => {
    const productId = await h.createProduct(10);
    const orderId = await h.placeOrder('happy', productId, 3);
    const byOrder = await h.settled([orderId]);
    expect(typesOf(byOrder.get(orderId))).toEqual([
      'OrderPlaced',
      'OrderStockReserved',
      'OrderPaymentAuthorized',
      'OrderConfirmed',
    ]);
    const stock = (await h.productEvents()).filter((e) => e.aggregateId === productId);
    expect(stock.at(-1)?.data.available).toBe(7);
    const payments = h.gateway.ledger.list({ orderId });
    expect(
      payments.filter((p) => p.type === 'authorization' && p.status === 'authorized'),
    ).toHaveLength(1);
  });
});
