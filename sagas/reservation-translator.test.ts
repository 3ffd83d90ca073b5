import { type CommandReply, encodeReply } from '../command-api/processor/reply';
import { reserveCommandId } from '../domain/fulfilment/actions';
import type { ProductEvent } from '../domain/product/messages';
import { loadConfig } from '../lib/config';
import { createLogger } from '../lib/logger';
import type { Entry } from '../lib/owned-partitions/partition-work';
import { topicNames } from '../lib/topics';
import { decodeCommand, encodeEvent } from '../schemas/codec';
import { consumed } from '../test/support/watched-gateway';
import { ReservationTranslator, refusalOf } from './reservation-translator';

/** The translator reading records as the product's owner writes them (its own encoders). */
describe('ReservationTranslator', () => {
  const topics = topicNames(loadConfig({ TOPIC_PREFIX: 'unit' }).topics);
  const translator = new ReservationTranslator({
    logger: createLogger('test', 'silent'),
    retry: { delaysMs: [1000], topics },
    productEventsTopic: topics.productEvents,
  });
  let offset = 0;

  const productEvent = (event: ProductEvent, commandId: string): Entry<never> => {
    const { value, headers } = encodeEvent(event, {
      aggregateId: event.productId,
      aggregateVersion: 2,
      commandId,
      correlationId: 'corr-1',
      causationId: commandId,
      occurredAt: new Date().toISOString(),
      actor: 'service:order-fulfilment-saga',
    });
    return { record: consumed(topics.productEvents, offset++, value, headers, event.productId) };
  };
  const reply = (overrides: Partial<CommandReply>): CommandReply => ({
    commandId: reserveCommandId('o-1', 'p-1'),
    commandType: 'ReserveStock',
    aggregateId: 'p-1',
    actor: 'service:order-fulfilment-saga',
    requestHash: reserveCommandId('o-1', 'p-1'),
    decidedAt: new Date().toISOString(),
    outcome: {
      status: 'rejected',
      rejection: { kind: 'conflict', code: 'insufficient_stock', reason: 'only 0 units available' },
    },
    ...overrides,
  });
  const replyRecord = (r: CommandReply): Entry<never> => ({
    record: consumed(topics.productReplies, offset++, encodeReply(r), {}, r.aggregateId),
  });
  const translated = async (entries: Entry<never>[]) =>
    (await translator.decide(entries)).records.map((r) => {
      expect([r.topic, r.key]).toEqual([topics.orderCommands, 'o-1']);
      const { command, meta } = decodeCommand(r);
      return { command, commandId: meta.commandId, requestHash: meta.requestHash };
    });

  it('a StockReserved and a refusal of the saga’s ReserveStock become the order’s commands', async () => {
    const reserved: ProductEvent = {
      type: 'StockReserved',
      productId: 'p-1',
      orderId: 'o-1',
      quantity: 1,
      available: 4,
    };
    const fromEvent = await translated([productEvent(reserved, reserveCommandId('o-1', 'p-1'))]);
    const fromReply = await translated([replyRecord(reply({}))]);
    expect([...fromEvent, ...fromReply]).toEqual([
      {
        command: { type: 'RecordStockReserved', orderId: 'o-1', productId: 'p-1' },
        commandId: 'saga:o-1:stock:p-1',
        requestHash: 'saga:o-1:stock:p-1',
      },
      {
        command: {
          type: 'RecordStockRejected',
          orderId: 'o-1',
          productId: 'p-1',
          reason: 'only 0 units available',
        },
        commandId: 'saga:o-1:stock:p-1',
        requestHash: 'saga:o-1:stock:p-1',
      },
    ]);
    // Two words on one line in one batch: only the first is sent.
    expect(
      await translated([
        productEvent(reserved, reserveCommandId('o-1', 'p-1')),
        replyRecord(reply({})),
      ]),
    ).toEqual(fromEvent);
  });

  it('nothing for other product events, hand reservations, acceptances and unreadable records', async () => {
    const restocked: ProductEvent = {
      type: 'ProductRestocked',
      productId: 'p-1',
      quantity: 5,
      available: 9,
    };
    const byHand: ProductEvent = {
      type: 'StockReserved',
      productId: 'p-1',
      orderId: 'o-1',
      quantity: 1,
      available: 4,
    };
    expect(
      await translated([
        productEvent(restocked, 'admin-restock'),
        productEvent(byHand, 'idempotency-key-of-a-person'),
        replyRecord(reply({ outcome: { status: 'accepted', events: [] } })),
        {
          record: consumed(topics.productReplies, offset++, Buffer.from('not json'), {}, 'p-1'),
        },
      ]),
    ).toEqual([]);
  });

  it('a refusal that answers another request is not the reservation’s outcome', () => {
    expect(refusalOf(encodeReply(reply({})))).toEqual({
      commandId: 'saga:o-1:reserve:p-1',
      commandType: 'ReserveStock',
      reason: 'only 0 units available',
    });
    expect(refusalOf(encodeReply(reply({ reusedKey: true })))).toBeNull();
    const reused = reply({
      outcome: {
        status: 'rejected',
        rejection: { kind: 'invalid', code: 'idempotency_key_reused', reason: 'reused' },
      },
    });
    expect(refusalOf(encodeReply(reused))).toBeNull();
  });
});
