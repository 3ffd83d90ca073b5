import {
  type DeliveryReport,
  type LibrdKafkaError,
  type MessageHeader,
  Producer as RdProducer,
} from '@confluentinc/kafka-javascript';
import type {
  GroupConsumer,
  OutgoingRecord,
  Producer,
  TopicPartitionOffset,
  Transaction,
  TransactionalProducer,
} from '../port';
import type { KafkaSettings } from '../settings';
import { CallsInFlight, runTransaction, Turns } from '../transaction-loop';
import { baseConfig, classifyConfluentError } from './client';
import { ConfluentGroupConsumer } from './group-consumer';

/** What a delivery report settles: the record's position, or the reason it was not written. */
interface Delivery {
  resolve: (position: TopicPartitionOffset) => void;
  reject: (error: unknown) => void;
}

const TIMEOUT_MS = 30_000;

function callback(resolve: () => void, reject: (e: unknown) => void) {
  return (err: LibrdKafkaError | null | undefined) => (err ? reject(err) : resolve());
}

/**
 * A librdkafka producer (idempotent, acks=all, murmur2 partitioner like every other client)
 * whose delivery reports are polled by librdkafka's own thread, so an idle producer costs no
 * JavaScript timer.
 */
class DeliveringProducer {
  readonly native: RdProducer;
  private connected: Promise<void> | undefined;

  constructor(settings: KafkaSettings, extra: Record<string, string | number | boolean>) {
    this.native = new RdProducer({
      ...baseConfig(settings),
      dr_cb: true,
      'enable.idempotence': true,
      acks: -1,
      partitioner: 'murmur2_random',
      // A few milliseconds of lingering lets concurrent sends share one request.
      'linger.ms': 2,
      ...extra,
    });
    this.native.on('delivery-report', (err: LibrdKafkaError | null, report: DeliveryReport) => {
      const delivery = report.opaque as Delivery | undefined;
      if (!delivery) return;
      if (err) delivery.reject(err);
      else
        delivery.resolve({
          topic: report.topic,
          partition: report.partition,
          offset: BigInt(report.offset),
        });
    });
  }

  connect(): Promise<void> {
    this.connected ??= new Promise<void>((resolve, reject) => {
      this.native.connect({ timeout: TIMEOUT_MS }, (err) => {
        if (err) return reject(err);
        this.native.setPollInBackground(true);
        resolve();
      });
    });
    return this.connected;
  }

  async produce(records: OutgoingRecord[]): Promise<TopicPartitionOffset[]> {
    await this.connect();
    return Promise.all(
      records.map(
        (record) =>
          new Promise<TopicPartitionOffset>((resolve, reject) => {
            const headers: MessageHeader[] = Object.entries(record.headers ?? {}).map(
              ([name, value]) => ({ [name]: value }),
            );
            try {
              this.native.produce(
                record.topic,
                record.partition ?? -1,
                record.value,
                record.key,
                Date.now(),
                { resolve, reject } satisfies Delivery,
                headers,
              );
            } catch (err) {
              reject(err);
            }
          }),
      ),
    );
  }

  async disconnect(): Promise<void> {
    if (!this.connected) return;
    await new Promise<void>((resolve) => this.native.disconnect(TIMEOUT_MS, () => resolve()));
  }
}

export class ConfluentProducer implements Producer {
  private readonly producer: DeliveringProducer;

  constructor(settings: KafkaSettings) {
    this.producer = new DeliveringProducer(settings, {});
  }

  send(records: OutgoingRecord[]): Promise<TopicPartitionOffset[]> {
    return records.length === 0 ? Promise.resolve([]) : this.producer.produce(records);
  }

  close(): Promise<void> {
    return this.producer.disconnect();
  }
}

export class ConfluentTransactionalProducer implements TransactionalProducer {
  private readonly producer: DeliveringProducer;
  private readonly turns = new Turns();
  private readonly calls = new CallsInFlight();

  constructor(
    settings: KafkaSettings,
    readonly transactionalId: string,
  ) {
    this.producer = new DeliveringProducer(settings, {
      'transactional.id': transactionalId,
      'transaction.timeout.ms': 60_000,
      // A transaction begun right after a commit meets CONCURRENT_TRANSACTIONS until the broker
      // has written the last one's markers (a few ms under load): retry soon, not after 100 ms.
      'retry.backoff.ms': 5,
      'retry.backoff.max.ms': 100,
      // sendOffsetsToTransaction looks up the group's coordinator and, while the cached one is
      // down, waits for some broker connection to go up or down, never checking its own timeout
      // (librdkafka#5456, #5511). With sparse connections, nothing changes once the dead broker
      // has left the metadata: the call, the owner's stop and the process's exit then waited
      // forever. A connection to every broker (one coming back connects at once) and idle ones
      // closed and reopened keep such changes coming.
      'enable.sparse.connections': false,
      'connections.max.idle.ms': 30_000,
    });
  }

  /** One of librdkafka's transaction calls, which close() waits for (see CallsInFlight). */
  private call(start: (done: (err: LibrdKafkaError | null | undefined) => void) => void) {
    return this.calls.track(
      () => new Promise<void>((resolve, reject) => start(callback(resolve, reject))),
    );
  }

  async open(): Promise<void> {
    await this.calls.track(() => this.producer.connect());
    // InitProducerId: fences the previous producer with this id and aborts its transaction.
    await this.call((done) => this.producer.native.initTransactions(TIMEOUT_MS, done));
  }

  transaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    return this.turns.run(() => this.runOne(work));
  }

  private runOne<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    const native = this.producer.native;
    const tx: Transaction = {
      send: (records) =>
        records.length === 0 ? Promise.resolve([]) : this.producer.produce(records),
      sendOffsets: (consumer: GroupConsumer, offsets: TopicPartitionOffset[]) => {
        if (offsets.length === 0) return Promise.resolve();
        if (!(consumer instanceof ConfluentGroupConsumer)) {
          throw new Error('sendOffsets needs a consumer of the same Kafka adapter');
        }
        return this.call((done) =>
          native.sendOffsetsToTransaction(
            offsets.map((o) => ({
              topic: o.topic,
              partition: o.partition,
              offset: Number(o.offset),
            })),
            consumer.nativeConsumer(),
            TIMEOUT_MS,
            done,
          ),
        );
      },
    };
    return runTransaction(
      {
        begin: () => this.call((done) => native.beginTransaction(done)).then(() => tx),
        commit: () => this.call((done) => native.commitTransaction(TIMEOUT_MS, done)),
        abort: () => this.call((done) => native.abortTransaction(TIMEOUT_MS, done)),
        classify: classifyConfluentError,
      },
      work,
    );
  }

  async close(): Promise<void> {
    await this.calls.close();
    await this.producer.disconnect();
  }
}
