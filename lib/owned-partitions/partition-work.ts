import type {
  ConsumedRecord,
  OutgoingRecord,
  TopicPartition,
  TopicPartitionOffset,
} from '../kafka/index';

/** One thing an owner handles, in arrival order: a consumed record or a local request. */
export type Entry<Local> =
  | {
      record: ConsumedRecord;
      /** Where the partition's next record can be, past the markers after this one, if known. */
      next?: bigint;
    }
  | { local: Local };

/** What one batch appends, decided before the transaction and applied only after it commits. */
export interface Decided<Local> {
  /** Appended in the batch's transaction, with the consumed offsets. */
  records: OutgoingRecord[];
  /**
   * More records for the same transaction, made once `records` have their positions (e.g.
   * replies that show where their events landed).
   */
  followWith?(positions: TopicPartitionOffset[]): OutgoingRecord[];
  /** Entries left for later (e.g. retries not yet due): put back at the head of the queue. */
  later?: Entry<Local>[];
  /** When to look at `later` again (ms since the epoch). */
  laterAt?: number;
  /** The transaction committed; `positions` are those of `records`, in order. */
  committed(positions: TopicPartitionOffset[]): void;
  /** Nothing of the batch was appended (the owner is being restarted or stopped). */
  failed(error: Error): void;
}

/**
 * The logic of one owned partition; the runtime (OwnedPartitions) does the Kafka part:
 * fencing, the batch loop, the transaction, offsets, restarts and revocation.
 */
export interface PartitionWork<Local> {
  /**
   * Rebuilds the owner's state from the log. The previous owner is already fenced, so the log's
   * end is final. Called again (on a fresh state) after a failed transaction.
   */
  rebuild(): Promise<void>;
  /** Decides a batch of entries, purely in memory; nothing is applied until `committed`. */
  decide(entries: Entry<Local>[]): Promise<Decided<Local>>;
  /**
   * One entry that keeps failing even alone (a poison record, a bug): what to append so the
   * partition goes on — a refusal, a dead letter — or nothing.
   */
  poison(entry: Entry<Local>, error: Error): Decided<Local>;
  /** A local entry the owner will not handle (the partition moved or the owner stopped). */
  abandon(local: Local, error: Error): void;
}

export interface OwnedPartition extends TopicPartition {
  /** The transactional id of this partition's producer (fences the previous owner's). */
  transactionalId: string;
}
