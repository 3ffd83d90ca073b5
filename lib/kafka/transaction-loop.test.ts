import { KafkaJSProtocolError } from 'kafkajs';
import { resolveAdapter } from './index';
import { classifyKafkajsError } from './kafkajs/client';
import { KafkaFencedError, KafkaGroupMembershipError, type Transaction } from './port';
import type { ErrorKind } from './settings';
import { runTransaction } from './transaction-loop';

/** Primitives whose work fails with `error` the first `failing` times, counting every call. */
function primitives(error: unknown, kind: ErrorKind, failing = Number.POSITIVE_INFINITY) {
  const calls = { begin: 0, work: 0, commit: 0, abort: 0 };
  const tx: Transaction = { send: async () => [], sendOffsets: async () => undefined };
  return {
    calls,
    work: async () => {
      calls.work += 1;
      if (calls.work <= failing) throw error;
      return 'done';
    },
    primitives: {
      begin: async () => {
        calls.begin += 1;
        return tx;
      },
      commit: async () => {
        calls.commit += 1;
      },
      abort: async () => {
        calls.abort += 1;
      },
      classify: (e: unknown): ErrorKind => (e === error ? kind : 'fatal'),
    },
  };
}

describe('runTransaction', () => {
  it('runs a retriable failure again in a new transaction', async () => {
    const p = primitives(new Error('coordinator loading'), 'retriable', 2);
    await expect(runTransaction(p.primitives, p.work)).resolves.toBe('done');
    expect(p.calls).toEqual({ begin: 3, work: 3, commit: 1, abort: 2 });
  });

  it('aborts offsets refused for a stale group member once, as KafkaGroupMembershipError', async () => {
    const refused = new Error('Failed to commit offsets to transaction: Broker: Unknown member');
    const p = primitives(refused, 'stale-member');
    const failure = runTransaction(p.primitives, p.work);
    await expect(failure).rejects.toBeInstanceOf(KafkaGroupMembershipError);
    await expect(failure).rejects.toMatchObject({ cause: refused });
    // Sent again at once it would fail again: the consumer must rejoin its group first.
    expect(p.calls).toEqual({ begin: 1, work: 1, commit: 0, abort: 1 });
  });

  it('turns being fenced into KafkaFencedError without aborting', async () => {
    const p = primitives(new Error('producer fenced'), 'fenced');
    await expect(runTransaction(p.primitives, p.work)).rejects.toBeInstanceOf(KafkaFencedError);
    expect(p.calls.abort).toBe(0);
  });
});

describe('kafkajs errors', () => {
  it.each([
    ['UNKNOWN_MEMBER_ID', 25],
    ['ILLEGAL_GENERATION', 22],
    ['REBALANCE_IN_PROGRESS', 27],
  ])('%s (a consumer out of its group generation) is stale-member', (type, code) => {
    // kafkajs builds its protocol errors from the broker's code, type and retriability.
    const error = new KafkaJSProtocolError(
      Object.assign(new Error(type), { type, code, retriable: false }),
    );
    expect(classifyKafkajsError(error)).toBe('stale-member');
  });
});

// The native client is optional (built where its system libraries are): its errors are
// classified only where it loads, as CI's machine does.
const confluent = resolveAdapter('auto') === 'confluent';
(confluent ? describe : describe.skip)('librdkafka errors', () => {
  it('offsets refused for an unknown member (as after a coordinator failover) are stale-member', () => {
    const { classifyConfluentError, ERRORS } =
      require('./confluent/client') as typeof import('./confluent/client');
    // As sendOffsetsToTransaction reported it in a broker-failure run.
    const refused = Object.assign(new Error('(Broker: Unknown member)'), {
      code: ERRORS.ERR_UNKNOWN_MEMBER_ID,
      isRetriable: false,
      isTxnRequiresAbort: true,
    });
    expect(classifyConfluentError(refused)).toBe('stale-member');
    for (const code of [ERRORS.ERR_ILLEGAL_GENERATION, ERRORS.ERR_REBALANCE_IN_PROGRESS])
      expect(classifyConfluentError({ code, isTxnRequiresAbort: true })).toBe('stale-member');
    expect(classifyConfluentError({ code: ERRORS.ERR__DESTROY_BROKER })).toBe('retriable');
  });
});
