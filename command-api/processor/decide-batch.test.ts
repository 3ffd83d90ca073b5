import { productAggregateId, productDecider } from '../../domain';
import type { Message } from '../../domain/decider';
import type { ProductCommand } from '../../domain/product/messages';
import type { TopicPartitionOffset } from '../../lib/kafka';
import type { AggregateKind } from './aggregate-kind';
import { type BatchCommand, decideBatch } from './decide-batch';
import type { DecideScope } from './decide-command';
import { rejectedCommand } from './decided-command';
import { PartitionState } from './partition-state';

// The pure step of a command owner, without Kafka: one partition of one (so no command is
// misplaced), the product decider, topic names only as labels.
const scope: DecideScope<unknown> = {
  kind: {
    name: 'product',
    decider: productDecider,
    aggregateId: productAggregateId,
    topics: { commands: 'cmds', events: 'events', replies: 'replies' },
  } as unknown as AggregateKind<Message, Message, unknown>,
  partition: 0,
  partitions: 1,
};

const create: ProductCommand = {
  type: 'CreateProduct',
  productId: 'p-1',
  sku: 'SKU-1',
  name: 'Mug',
  description: '',
  category: 'kitchen',
  price: { amount: 500, currency: 'EUR' },
  initialStock: 3,
};
const restock: ProductCommand = { type: 'RestockProduct', productId: 'p-1', quantity: 2 };

const sent = (
  commandId: string,
  command: ProductCommand,
  extra: Partial<BatchCommand<string>> = {},
): BatchCommand<string> => ({
  command: {
    command,
    context: {
      commandId,
      correlationId: commandId,
      actor: 'staff:s-1',
      requestHash: `${commandId}:${command.type}`,
    },
  },
  replyRequired: false,
  ...extra,
});
const at = (offset: number): TopicPartitionOffset => ({
  topic: 'events',
  partition: 0,
  offset: BigInt(offset),
});
const noFault = (err: unknown) => {
  throw err;
};
const fresh = () => new PartitionState<unknown>(productDecider.initialState, 100);

describe('decideBatch: commands + state → events, replies, new state', () => {
  it('decides in order against the batch so far; the replies carry the events’ real positions', () => {
    const state = fresh();
    const batch = decideBatch(scope, state, [sent('c1', create), sent('c2', restock)], noFault);
    expect(batch.events.map((r) => r.headers?.['event-type']?.toString())).toEqual([
      'ProductCreated',
      'ProductRestocked',
    ]);
    expect(batch.refusals).toEqual([]);
    const replies = batch.replies([at(40), at(41)]);
    expect(replies.map((r) => r.reply.outcome)).toEqual([
      {
        status: 'accepted',
        events: [
          expect.objectContaining({
            type: 'ProductCreated',
            position: { topic: 'events', partition: 0, offset: '40' },
          }),
        ],
      },
      {
        status: 'accepted',
        events: [
          expect.objectContaining({
            type: 'ProductRestocked',
            aggregateVersion: 2,
            data: { productId: 'p-1', quantity: 2, available: 5 },
            position: { topic: 'events', partition: 0, offset: '41' },
          }),
        ],
      },
    ]);
  });

  it('has no reply for an accepted command before its events have positions', () => {
    const batch = decideBatch(scope, fresh(), [sent('c1', create)], noFault);
    expect(() => batch.replies([])).toThrow(/no position/);
  });

  it('changes the state only on commit', () => {
    const state = fresh();
    const batch = decideBatch(scope, state, [sent('c1', create)], noFault);
    expect(state.aggregate('p-1').version).toBe(0);
    expect(state.outcome('c1')).toBeUndefined();
    const [committed] = batch.commit(state, [at(7)]);
    expect(state.aggregate('p-1')).toMatchObject({ version: 1, state: { exists: true } });
    expect(state.outcome('c1')).toEqual(committed?.reply);
  });

  it('answers a refusal at once, appending no event', () => {
    const batch = decideBatch(scope, fresh(), [sent('c1', restock)], noFault);
    expect(batch.events).toEqual([]);
    expect(batch.refusals).toEqual([
      expect.objectContaining({
        commandId: 'c1',
        outcome: {
          status: 'rejected',
          rejection: expect.objectContaining({ code: 'product_not_found' }),
        },
      }),
    ]);
  });

  it('answers a repeat within the batch with its sibling’s reply, appending nothing', () => {
    const batch = decideBatch(scope, fresh(), [sent('c1', create), sent('c1', create)], noFault);
    expect(batch.events).toHaveLength(1);
    const [first, repeat] = batch.replies([at(3)]);
    expect(repeat?.reply).toEqual(first?.reply);
    expect(repeat?.needsRecord).toBe(false);
  });

  it('refuses a reused Idempotency-Key with another body, and never keeps that as the outcome', () => {
    const state = fresh();
    const other = sent('c1', restock);
    const batch = decideBatch(scope, state, [sent('c1', create), other], noFault);
    expect(batch.refusals).toEqual([
      expect.objectContaining({
        reusedKey: true,
        outcome: {
          status: 'rejected',
          rejection: expect.objectContaining({ code: 'idempotency_key_reused' }),
        },
      }),
    ]);
    batch.commit(state, [at(0)]);
    expect(state.outcome('c1')?.outcome.status).toBe('accepted');
  });

  it('asks for a reply record only for a new outcome awaited elsewhere', () => {
    const awaited = decideBatch(
      scope,
      fresh(),
      [sent('c1', create, { replyRequired: true })],
      noFault,
    );
    expect(awaited.awaitedElsewhere).toBe(true);
    expect(awaited.replies([at(0)])[0]?.needsRecord).toBe(true);

    let waiting = true;
    const local = sent('c1', create, { local: 'http', waiting: () => waiting });
    const here = decideBatch(scope, fresh(), [local], noFault);
    expect(here.awaitedElsewhere).toBe(false);
    expect(here.replies([at(0)])[0]).toMatchObject({ local: 'http', needsRecord: false });
    waiting = false; // the HTTP request gave up: the outcome goes to the replies topic
    expect(here.replies([at(0)])[0]?.needsRecord).toBe(true);
  });

  it('passes a command refused before deciding (undecodable) through as its refusal', () => {
    const refused = rejectedCommand(
      { commandId: 'bad', correlationId: '', actor: '', requestHash: '' },
      'unknown',
      'p-9',
      { kind: 'invalid', code: 'undecodable_command', reason: 'garbage' },
    );
    const batch = decideBatch(
      scope,
      fresh(),
      [{ command: { refused }, replyRequired: true }],
      noFault,
    );
    expect(batch.refusals).toEqual([
      expect.objectContaining({
        commandId: 'bad',
        outcome: expect.objectContaining({ status: 'rejected' }),
      }),
    ]);
  });

  it('turns a decider’s fault into that command’s refusal; the batch goes on', () => {
    const faults: unknown[] = [];
    const broken: DecideScope<unknown> = {
      ...scope,
      kind: {
        ...scope.kind,
        decider: {
          ...scope.kind.decider,
          decide: (command, state) => {
            if (command.type === 'RestockProduct') throw new Error('boom');
            return scope.kind.decider.decide(command, state);
          },
        },
      },
    };
    const batch = decideBatch(broken, fresh(), [sent('c1', create), sent('c2', restock)], (e) =>
      faults.push(e),
    );
    expect(faults).toHaveLength(1);
    expect(batch.events).toHaveLength(1);
    expect(batch.refusals).toEqual([
      expect.objectContaining({
        commandId: 'c2',
        outcome: expect.objectContaining({ status: 'rejected' }),
      }),
    ]);
  });
});
