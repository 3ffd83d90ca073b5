import type { KeyHolding, StateJson } from './aggregate-kind';
import type { DecidedCommand } from './decided-command';
import { type CommandReply, isCommandOutcome } from './reply';
import type { PartitionSnapshot } from './snapshots';

export interface AggregateEntry<S> {
  state: S;
  /** Number of events the aggregate has; the next event gets version + 1. */
  version: number;
}

/**
 * Everything a partition owner holds in memory: each aggregate's state, who holds each unique
 * key (see UniqueKeyRule), and the outcome of recent commands (for idempotency), all rebuilt
 * from the log on assignment.
 */
export class PartitionState<S> {
  private readonly aggregates = new Map<string, AggregateEntry<S>>();
  private readonly holders = new Map<string, ReadonlySet<string>>();
  private readonly outcomes = new Map<string, CommandReply>();

  constructor(
    private readonly initialState: S,
    private readonly maxRememberedCommands: number,
    /** How a state goes into a snapshot and back (default: as it is, plain data). */
    private readonly json: StateJson<S> = {
      toJson: (state) => state,
      fromJson: (json) => json as S,
    },
  ) {}

  aggregate(id: string): AggregateEntry<S> {
    return this.aggregates.get(id) ?? { state: this.initialState, version: 0 };
  }

  outcome(commandId: string): CommandReply | undefined {
    return this.outcomes.get(commandId);
  }

  /** The live aggregates holding `key`. */
  holdersOf(key: string): ReadonlySet<string> {
    return this.holders.get(key) ?? NONE;
  }

  setAggregate(id: string, entry: AggregateEntry<S>): void {
    this.aggregates.set(id, entry);
  }

  setHolders(key: string, holders: ReadonlySet<string>): void {
    if (holders.size === 0) this.holders.delete(key);
    else this.holders.set(key, holders);
  }

  applyHolding(change: KeyHolding): void {
    this.setHolders(change.key, withHolding(this.holdersOf(change.key), change));
  }

  /**
   * Keeps `reply` as its command's outcome (live, and when replaying the replies topic); the
   * refusal of a reused Idempotency-Key is not an outcome and never replaces one.
   */
  remember(reply: CommandReply): void {
    if (!isCommandOutcome(reply)) return;
    this.outcomes.delete(reply.commandId);
    this.outcomes.set(reply.commandId, reply);
    // Maps iterate in insertion order: the first key is the oldest.
    while (this.outcomes.size > this.maxRememberedCommands) {
      const oldest = this.outcomes.keys().next().value;
      if (oldest === undefined) break;
      this.outcomes.delete(oldest);
    }
  }

  get aggregateCount(): number {
    return this.aggregates.size;
  }

  /** Everything it holds, as plain data (for a snapshot). */
  contents(): Pick<PartitionSnapshot, 'aggregates' | 'holders' | 'outcomes'> {
    return {
      aggregates: [...this.aggregates].map(([id, entry]) => [
        id,
        { ...entry, state: this.json.toJson(entry.state) },
      ]),
      holders: [...this.holders].map(([key, ids]) => [key, [...ids]]),
      outcomes: [...this.outcomes.values()],
    };
  }

  /** Takes over a snapshot's contents (on a fresh state, before the replay of what followed). */
  restore(snapshot: Pick<PartitionSnapshot, 'aggregates' | 'holders' | 'outcomes'>): void {
    for (const [id, entry] of snapshot.aggregates)
      this.aggregates.set(id, { ...entry, state: this.json.fromJson(entry.state) });
    for (const [key, ids] of snapshot.holders) this.holders.set(key, new Set(ids));
    for (const reply of snapshot.outcomes) this.remember(reply);
  }
}

const NONE: ReadonlySet<string> = new Set();

/** A new set: `holders` with the change applied (sets are tiny; one live holder as a rule). */
function withHolding(holders: ReadonlySet<string>, change: KeyHolding): ReadonlySet<string> {
  const next = new Set(holders);
  if (change.held) next.add(change.aggregateId);
  else next.delete(change.aggregateId);
  return next;
}

/**
 * Changes decided within one transaction, kept apart until it commits so a failed
 * transaction leaves the owner's state as the log has it. Commands decided earlier in the
 * batch are outcomes too: a repeat within the batch is answered with its sibling's reply.
 */
export class PendingChanges<S> {
  private readonly aggregates = new Map<string, AggregateEntry<S>>();
  private readonly holders = new Map<string, ReadonlySet<string>>();
  private readonly decided = new Map<string, DecidedCommand>();

  constructor(private readonly base: PartitionState<S>) {}

  aggregate(id: string): AggregateEntry<S> {
    return this.aggregates.get(id) ?? this.base.aggregate(id);
  }

  /** The outcome of a command: decided in this batch, or remembered from before. */
  outcome(commandId: string): DecidedCommand | CommandReply | undefined {
    return this.decided.get(commandId) ?? this.base.outcome(commandId);
  }

  holdersOf(key: string): ReadonlySet<string> {
    return this.holders.get(key) ?? this.base.holdersOf(key);
  }

  setAggregate(id: string, entry: AggregateEntry<S>): void {
    this.aggregates.set(id, entry);
  }

  applyHolding(change: KeyHolding): void {
    this.holders.set(change.key, withHolding(this.holdersOf(change.key), change));
  }

  /** Keeps a newly decided command (not a repeat, not a reused key's refusal) as an outcome. */
  remember(decided: DecidedCommand): void {
    if (!decided.reusedKey && !decided.repeat && !decided.repeatOf)
      this.decided.set(decided.context.commandId, decided);
  }

  /** After the commit: the changes, and the replies of the batch's new commands. */
  applyTo(target: PartitionState<S>, replies: Iterable<CommandReply>): void {
    for (const [id, entry] of this.aggregates) target.setAggregate(id, entry);
    for (const [key, holders] of this.holders) target.setHolders(key, holders);
    for (const reply of replies) target.remember(reply);
  }
}
