/** A business refusal: expected, typed, never an exception. */
export interface Rejection {
  /** Machine-readable, e.g. `insufficient_stock`. */
  code: string;
  /** For people, e.g. "only 3 units available, 5 requested". */
  reason: string;
  /** not_found → 404, conflict → 409 (the current state forbids it), invalid → 422. */
  kind: 'not_found' | 'conflict' | 'invalid';
}

export type Decision<E> = { ok: true; events: E[] } | { ok: false; rejection: Rejection };

/** An aggregate's behaviour as pure functions (see domain/README.md). */
export interface Decider<C, E, S> {
  initialState: S;
  decide(command: C, state: S): Decision<E>;
  evolve(state: S, event: E): S;
}

/**
 * A process across aggregates (a saga) as pure functions, the counterpart of a Decider: it
 * follows events (`evolve`) and answers each with what it asks of others (`react`, given the
 * state before the event). `context` is what the process cannot know from its events (a clock,
 * settings): passed in, so the same input always gives the same actions.
 */
export interface Workflow<I, S, A, X> {
  initialState: S;
  evolve(state: S, input: I): S;
  react(state: S, input: I, context: X): A[];
}

export const accept = <E>(...events: E[]): Decision<E> => ({ ok: true, events });

export const reject = <E>(kind: Rejection['kind'], code: string, reason: string): Decision<E> => ({
  ok: false,
  rejection: { kind, code, reason },
});

/** Every command and event names its type and its aggregate. */
export interface Message {
  type: string;
}

/** Integer minor units (cents) with an ISO 4217 currency code. */
export interface Money {
  amount: number;
  currency: string;
}
