/**
 * The Kafka port (DESIGN §7): the small set of Kafka operations orderstream needs. Services,
 * the CLI and the tests use only these interfaces; one adapter per client library implements
 * them (lib/kafka/kafkajs/, lib/kafka/confluent/), and only adapter files import a library.
 *
 * Offsets are bigints (exact arithmetic); every consumer reads committed data only
 * (read_committed), so aborted transactions and transaction markers are never delivered.
 */

export interface TopicPartition {
  topic: string;
  partition: number;
}

/** A position: for a consumer, the next offset it will read; for a record, where it sits. */
export interface TopicPartitionOffset extends TopicPartition {
  offset: bigint;
}

/** Header values as received; a header given twice keeps its last value. */
export type ConsumedHeaders = Record<string, Buffer | undefined>;

export interface ConsumedRecord extends TopicPartition {
  offset: bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers: ConsumedHeaders;
  /** Milliseconds since the epoch (the producer's create time). */
  timestamp: number;
}

export interface OutgoingRecord {
  topic: string;
  /** Defaults to the partition of `key` under Kafka's default (murmur2) partitioner. */
  partition?: number;
  key: string;
  value: Buffer | null;
  headers?: Record<string, string>;
}

/** Consecutive committed records of one partition, in offset order. */
export interface RecordBatch extends TopicPartition {
  records: ConsumedRecord[];
  /**
   * Where the partition's next record can be, when the client knows it already: past the
   * transaction markers and aborted records that follow the last record (group consumers).
   */
  nextOffset?: bigint;
}

/** An idempotent producer (acks=all) that batches concurrent sends. */
export interface Producer {
  /** Appends `records`; resolves with each record's position, in the order given. */
  send(records: OutgoingRecord[]): Promise<TopicPartitionOffset[]>;
  close(): Promise<void>;
}

export interface Transaction {
  /** Appends `records` in this transaction; each record's position, in the order given. */
  send(records: OutgoingRecord[]): Promise<TopicPartitionOffset[]>;
  /**
   * Commits `offsets` (the next offset to read, per partition) for `consumer`'s group in this
   * transaction. A consumer that no longer belongs to the group's current generation makes
   * the commit fail (a zombie cannot commit).
   */
  sendOffsets(consumer: GroupConsumer, offsets: TopicPartitionOffset[]): Promise<void>;
}

/**
 * A producer with a `transactional.id`. Opening it fences every older producer with the same
 * id and aborts their open transaction, so the log's end is final for the new one.
 */
export interface TransactionalProducer {
  readonly transactionalId: string;
  /** Connects and registers the id (the fencing step). */
  open(): Promise<void>;
  /**
   * Runs `work` in one transaction and commits. A retriable failure aborts and runs `work`
   * again; being fenced throws KafkaFencedError; anything else aborts and is thrown. `work`
   * must be safe to repeat: nothing it wrote is visible until a commit succeeds.
   */
  transaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface GroupConsumerOptions {
  groupId: string;
  topics: string[];
  /** Kafka's session timeout: how soon the group notices a member that died. */
  sessionTimeoutMs?: number;
  /** Longest a fetch waits for new data (the idle poll interval). */
  maxWaitMs?: number;
  /** Commit the position of every delivered batch periodically (for lag reporting). */
  autoCommit?: boolean;
}

export interface GroupHandlers {
  /**
   * Partitions this member now owns, before any of their records is delivered; it may `seek`
   * them. Partitions kept across a rebalance are neither revoked nor assigned again.
   */
  onAssigned?(partitions: TopicPartition[]): Promise<void> | void;
  /** Partitions taken away: no batch of them is delivered once this is called. */
  onRevoked?(partitions: TopicPartition[]): Promise<void> | void;
  /** One partition's batch; the next batch of that partition waits until this settles. */
  onBatch(batch: RecordBatch): Promise<void>;
  /**
   * The next offset to read in a partition moved past records that are never delivered
   * (transaction markers, records of aborted transactions) beyond the last batch's
   * `nextOffset`, every record before it having been delivered and its onBatch settled: a
   * reader's checkpoint may move there. Reported for partitions whose start is known (sought in
   * onAssigned, or with a batch delivered since); a report may come late, or not at all while
   * more records follow at once.
   */
  onPosition?(position: TopicPartitionOffset): void;
  /** The consumer stopped for good (a non-retriable error); it delivers nothing more. */
  onCrash?(error: Error): void;
}

/** A member of a consumer group; partitions are handled concurrently, each in order. */
export interface GroupConsumer {
  readonly groupId: string;
  start(handlers: GroupHandlers): Promise<void>;
  /** The next batch of this partition starts at `offset` (records before it are skipped). */
  seek(position: TopicPartitionOffset): void;
  pause(partitions: TopicPartition[]): void;
  resume(partitions: TopicPartition[]): void;
  /** Commits positions for the group outside any transaction. */
  commit(offsets: TopicPartitionOffset[]): Promise<void>;
  close(): Promise<void>;
}

export interface ReadRange extends TopicPartition {
  /** First offset to read. */
  from: bigint;
  /** Stop before this offset; undefined: follow the partition for ever. */
  until?: bigint;
}

/**
 * Reads partitions directly (no consumer group, nothing committed): replays up to a known end,
 * or follows topics for ever.
 */
export interface LogReader {
  /**
   * Delivers the committed records of every range in offset order per partition; resolves
   * once every range with an `until` has reached it (a follow reader never resolves; close it).
   */
  read(
    ranges: ReadRange[],
    onBatch: (batch: RecordBatch) => Promise<void> | void,
    /** Called with a partition's next offset as reading progresses (markers included). */
    onProgress?: (position: TopicPartitionOffset) => void,
  ): Promise<void>;
  close(): Promise<void>;
}

export interface PartitionOffsets {
  partition: number;
  /** Earliest offset still in the log. */
  low: bigint;
  /**
   * The end of what is decided: the log end, or the first offset of a transaction still open
   * (Kafka's last stable offset), which is as far as a committed-only reader can get for now.
   */
  high: bigint;
}

export interface TopicDescription {
  name: string;
  partitions: number;
  /** Replicas of its first partition (the replication factor). */
  replicas: number;
}

export interface TopicSpec {
  name: string;
  partitions: number;
  replicationFactor?: number;
  config: Record<string, string>;
}

export interface GroupMember {
  memberId: string;
  clientId: string;
  host: string;
  assignment: TopicPartition[];
}

export interface GroupDescription {
  groupId: string;
  state: string;
  members: GroupMember[];
  /** The id of the broker coordinating the group, where the client library tells it. */
  coordinator?: number;
}

export interface KafkaAdmin {
  /** Ids of the brokers that answer (the cluster's current members). */
  brokers(): Promise<number[]>;
  listTopics(): Promise<string[]>;
  /** Creates those missing; returns the names it created. Waits until they have leaders. */
  createTopics(topics: TopicSpec[]): Promise<string[]>;
  describeTopics(names: string[]): Promise<TopicDescription[]>;
  deleteTopics(names: string[]): Promise<void>;
  /** Low and high offsets of every partition of `topic`. */
  offsets(topic: string): Promise<PartitionOffsets[]>;
  /** The group's committed positions for `topics` (absent: nothing committed). */
  groupOffsets(groupId: string, topics: string[]): Promise<TopicPartitionOffset[]>;
  /** Sets the group's committed positions; the group must have no member (Kafka's rule). */
  setGroupOffsets(groupId: string, offsets: TopicPartitionOffset[]): Promise<void>;
  listGroups(): Promise<string[]>;
  describeGroups(groupIds: string[]): Promise<GroupDescription[]>;
  deleteGroups(groupIds: string[]): Promise<void>;
  close(): Promise<void>;
}

export type KafkaAdapterName = 'kafkajs' | 'confluent';

/** Entry point of an adapter: makes the clients above. */
export interface KafkaClient {
  readonly adapter: KafkaAdapterName;
  admin(): KafkaAdmin;
  producer(): Producer;
  transactionalProducer(transactionalId: string): TransactionalProducer;
  groupConsumer(options: GroupConsumerOptions): GroupConsumer;
  reader(): LogReader;
}

/** Another producer with the same transactional id took over: stop using this one. */
export class KafkaFencedError extends Error {
  override name = 'KafkaFencedError';
}

/**
 * The consumer whose offsets a transaction carried is not (or no longer) a member of its
 * group's current generation — its session lapsed while a coordinator moved, or a rebalance is
 * under way — so the transaction was aborted. Nothing is wrong with what it carried: it goes
 * again once the consumer has rejoined (or the partition's new owner takes it).
 */
export class KafkaGroupMembershipError extends Error {
  override name = 'KafkaGroupMembershipError';
}
