import type { CommandReply } from './reply';

export interface AggregateEntry<S> {
  state: S;
  /** Number of events the aggregate has; the next event gets version + 1. */
  version: number;
}

/**
 * Everything a partition owner holds in memory: each aggregate's state and the outcome of
 * recent commands (for idempotency), both rebuilt from the log on assignment.
 */
export class PartitionState<S> {
  private readonly aggregates = new Map<string, AggregateEntry<S>>();
  private readonly outcomes = new Map<string, CommandReply>();

  constructor(
    private readonly initialState: S,
    private readonly maxRememberedCommands: number,
  ) {}

  aggregate(id: string): AggregateEntry<S> {
    return this.aggregates.get(id) ?? { state: this.initialState, version: 0 };
  }

  outcome(commandId: string): CommandReply | undefined {
    return this.outcomes.get(commandId);
  }

  setAggregate(id: string, entry: AggregateEntry<S>): void {
    this.aggregates.set(id, entry);
  }

  remember(reply: CommandReply): void {
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
}

/**
 * Changes decided within one transaction, kept apart until it commits so a failed
 * transaction leaves the owner's state as the log has it.
 */
export class PendingChanges<S> {
  private readonly aggregates = new Map<string, AggregateEntry<S>>();
  private readonly outcomes = new Map<string, CommandReply>();

  constructor(private readonly base: PartitionState<S>) {}

  aggregate(id: string): AggregateEntry<S> {
    return this.aggregates.get(id) ?? this.base.aggregate(id);
  }

  outcome(commandId: string): CommandReply | undefined {
    return this.outcomes.get(commandId) ?? this.base.outcome(commandId);
  }

  setAggregate(id: string, entry: AggregateEntry<S>): void {
    this.aggregates.set(id, entry);
  }

  remember(reply: CommandReply): void {
    this.outcomes.set(reply.commandId, reply);
  }

  applyTo(target: PartitionState<S>): void {
    for (const [id, entry] of this.aggregates) target.setAggregate(id, entry);
    for (const reply of this.outcomes.values()) target.remember(reply);
  }
}
