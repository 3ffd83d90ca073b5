import { rejectedCommand } from './decided-command';
import { PartitionState, PendingChanges } from './partition-state';
import { type CommandReply, decodeReply, encodeReply } from './reply';

const reply = (requestHash: string, outcome: CommandReply['outcome']): CommandReply => ({
  commandId: 'cmd-1',
  commandType: 'PlaceOrder',
  aggregateId: 'o-1',
  actor: 'customer:c-1',
  requestHash,
  decidedAt: '2026-01-01T00:00:00.000Z',
  outcome,
});
const accepted = reply('hash-A', { status: 'accepted', events: [] });
const reuse = { kind: 'invalid', code: 'idempotency_key_reused', reason: 'reused' } as const;
/** As owners write it now: marked. */
const marked: CommandReply = {
  ...reply('hash-B', { status: 'rejected', rejection: reuse }),
  reusedKey: true,
};
/** As owners wrote it before the mark (still in replies topics): known by its code. */
const legacy = reply('hash-B', { status: 'rejected', rejection: reuse });

describe('PartitionState remembers outcomes, never the refusal of a reused key', () => {
  it.each([
    ['marked', marked],
    ['from before the mark', legacy],
  ])(
    'keeps the outcome when a refusal %s follows it (as on replay of the replies)',
    (_l, refusal) => {
      const state = new PartitionState<unknown>(undefined, 10);
      state.remember(decodeReply(encodeReply(accepted)));
      state.remember(decodeReply(encodeReply(refusal)));
      expect(state.outcome('cmd-1')).toEqual(accepted);
    },
  );

  it('does not take a refusal for an outcome when none is known', () => {
    const state = new PartitionState<unknown>(undefined, 10);
    state.remember(marked);
    expect(state.outcome('cmd-1')).toBeUndefined();
  });

  it('keeps the outcome through a transaction that refused a reuse', () => {
    const state = new PartitionState<unknown>(undefined, 10);
    state.remember(accepted);
    const pending = new PendingChanges(state);
    const context = {
      commandId: 'cmd-1',
      correlationId: 'c',
      actor: 'customer:c-1',
      requestHash: 'hash-B',
    };
    pending.remember(rejectedCommand(context, 'PlaceOrder', 'o-1', reuse, true));
    expect(pending.outcome('cmd-1')).toEqual(accepted);
    pending.applyTo(state, [marked]);
    expect(state.outcome('cmd-1')).toEqual(accepted);
  });

  it('reads replies written before the mark existed', () => {
    expect(decodeReply(encodeReply(legacy))).toEqual(legacy);
    expect(decodeReply(encodeReply(marked)).reusedKey).toBe(true);
  });
});

describe('PartitionState keeps who holds a unique key', () => {
  it('takes and frees keys, and a pending change shows only after applyTo', () => {
    const state = new PartitionState<unknown>(undefined, 10);
    state.applyHolding({ key: 'MUG-1', aggregateId: 'p-1', held: true });
    const pending = new PendingChanges(state);
    pending.applyHolding({ key: 'MUG-1', aggregateId: 'p-1', held: false });
    pending.applyHolding({ key: 'MUG-1', aggregateId: 'p-2', held: true });
    expect([...pending.holdersOf('MUG-1')]).toEqual(['p-2']);
    expect([...state.holdersOf('MUG-1')]).toEqual(['p-1']);
    pending.applyTo(state, []);
    expect([...state.holdersOf('MUG-1')]).toEqual(['p-2']);
    state.applyHolding({ key: 'MUG-1', aggregateId: 'p-2', held: false });
    expect(state.holdersOf('MUG-1').size).toBe(0);
  });
});
