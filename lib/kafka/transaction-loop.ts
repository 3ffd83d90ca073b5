import { transactionDuration, transactionRecords } from '../metrics/registry';
import { KafkaFencedError, KafkaGroupMembershipError, type Transaction } from './port';
import { type ErrorKind, sleep } from './settings';

/** The adapter's primitives for one transaction. */
export interface TransactionPrimitives {
  begin(): Promise<Transaction>;
  commit(): Promise<void>;
  abort(): Promise<void>;
  classify(error: unknown): ErrorKind;
}

const message = (cause: unknown) => (cause instanceof Error ? cause.message : String(cause));

const staleMember = (cause: unknown): KafkaGroupMembershipError =>
  new KafkaGroupMembershipError(
    `the consumer is not a member of its group's current generation: ${message(cause)}`,
    { cause },
  );

const fenced = (cause: unknown): KafkaFencedError =>
  new KafkaFencedError(
    `fenced: another producer took over this transactional id (${cause instanceof Error ? cause.message : String(cause)})`,
  );

/**
 * Runs `work` in a transaction and commits it (both adapters share this loop). A retriable
 * failure (a coordinator moving or loading, a previous commit still completing) aborts and
 * runs `work` again in a new transaction; being fenced — seen in the failure itself or in the
 * abort that follows it — becomes KafkaFencedError; offsets refused because their consumer
 * left its group's generation become KafkaGroupMembershipError (not retried here: the
 * consumer must rejoin first); anything else aborts and is thrown.
 */
export async function runTransaction<T>(
  primitives: TransactionPrimitives,
  work: (tx: Transaction) => Promise<T>,
  attempts = 8,
): Promise<T> {
  const started = process.hrtime.bigint();
  for (let attempt = 1; ; attempt += 1) {
    let began = false;
    try {
      const tx = counted(await primitives.begin());
      began = true;
      const result = await work(tx);
      await primitives.commit();
      transactionRecords.observe(tx.records);
      transactionDuration.observe(Number(process.hrtime.bigint() - started) / 1e9);
      return result;
    } catch (err) {
      let kind = primitives.classify(err);
      if (began && kind !== 'fenced') {
        try {
          await primitives.abort();
        } catch (abortError) {
          if (primitives.classify(abortError) === 'fenced') kind = 'fenced';
        }
      }
      if (kind === 'fenced') throw fenced(err);
      if (kind === 'stale-member') throw staleMember(err);
      if (kind !== 'retriable' || attempt >= attempts) throw err;
      await sleep(Math.min(50 * attempt, 500));
    }
  }
}

/** `tx`, counting the records sent in it (for the transaction size histogram). */
function counted(tx: Transaction): Transaction & { records: number } {
  const wrapped = {
    records: 0,
    send: async (records: Parameters<Transaction['send']>[0]) => {
      wrapped.records += records.length;
      return tx.send(records);
    },
    sendOffsets: (...args: Parameters<Transaction['sendOffsets']>) => tx.sendOffsets(...args),
  };
  return wrapped;
}

/** Runs calls one after another (a producer has one transaction open at a time). */
export class Turns {
  private last: Promise<unknown> = Promise.resolve();

  run<T>(call: () => Promise<T>): Promise<T> {
    const next = this.last.then(call, call);
    this.last = next.catch(() => undefined);
    return next;
  }
}

/** A transactional producer's close was asked for: no new call starts. */
export class ProducerClosingError extends Error {
  override name = 'ProducerClosingError';
  constructor() {
    super('the transactional producer is closing');
  }
}

/**
 * The transaction calls of a producer still waiting for the broker. Its close waits for them:
 * librdkafka deadlocks when a client is destroyed while another thread waits in one of its
 * transaction calls (that call, the close and the process's exit then wait forever), and on
 * either adapter a call cut off by the close would fail for a reason that is not its own.
 */
export class CallsInFlight {
  private count = 0;
  private closing = false;
  private idle: (() => void)[] = [];

  track<T>(call: () => Promise<T>): Promise<T> {
    if (this.closing) return Promise.reject(new ProducerClosingError());
    this.count += 1;
    const settle = () => {
      this.count -= 1;
      if (this.count === 0) for (const resolve of this.idle.splice(0)) resolve();
    };
    return call().finally(settle);
  }

  /** Refuses new calls and resolves once none is in flight. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.count > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
  }
}
