import type { Decider, Message, Rejection } from '../../domain/decider';

/** An aggregate taking (`held`) or freeing a unique key, e.g. a product its SKU. */
export interface KeyHolding {
  key: string;
  aggregateId: string;
  held: boolean;
}

/**
 * A rule across the aggregates of a kind: a key names at most one live aggregate (a SKU one
 * product). The key must hash to the same partition as the aggregate claiming it, so that the
 * partition's single owner sees every claim on it and refuses a taken key atomically; it keeps
 * who holds which key beside the aggregates, rebuilt from the events on replay.
 */
export interface UniqueKeyRule<C extends Message, E extends Message, S> {
  /** What the key is called in reasons, e.g. `sku`. */
  name: string;
  /** The key `command` claims, if any (e.g. a new product's SKU). */
  claimedBy(command: C): string | undefined;
  /** How `event` changes who holds a key; `before` is its aggregate's state before it. */
  change(event: E, before: S): KeyHolding | undefined;
  /** The refusal of `aggregateId`'s claim on `key` given its live `holders`; undefined if free. */
  refusal(key: string, aggregateId: string, holders: readonly string[]): Rejection | undefined;
}

/** A state's form in a snapshot (JSON), for a state that is not plain data throughout. */
export interface StateJson<S> {
  toJson(state: S): unknown;
  fromJson(json: unknown): S;
}

/** What the command processor needs to know about one kind of aggregate. */
export interface AggregateKind<
  C extends Message = Message,
  E extends Message = Message,
  S = unknown,
> {
  name: 'product' | 'order';
  decider: Decider<C, E, S>;
  aggregateId: (message: C | E) => string;
  topics: { commands: string; events: string; replies: string; snapshots: string };
  uniqueKey?: UniqueKeyRule<C, E, S>;
  /**
   * The version of the state's shape: bump it whenever the state or `evolve` changes, so that
   * snapshots of the old shape are ignored instead of trusted (see snapshots.ts).
   */
  stateVersion: number;
  /** How a state is written into a snapshot and read back; without it, JSON as it is. */
  stateJson?: StateJson<S>;
  /** The schemas of the kind's events (fingerprints): a changed schema voids snapshots too. */
  eventSchemaFingerprints: () => readonly string[];
}
