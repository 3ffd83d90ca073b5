/** Given/when/then for any Decider (test support; imported only by *.test.ts). */
import { expect } from '@jest/globals';
import type { Decider, Decision, Rejection, Workflow } from './decider';

/** Freezes plain objects and arrays all the way down, so a mutating evolve throws. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/** Replays `events` from the initial state; every state along the way is frozen. */
export function fold<C, E, S>(decider: Decider<C, E, S>, events: readonly E[]): S {
  return events.reduce(
    (state, event) => deepFreeze(decider.evolve(state, event)),
    decider.initialState,
  );
}

export interface Then<E, S> {
  /** The state the command was decided against. */
  readonly state: S;
  readonly decision: Decision<E>;
  /** Accepted with exactly these events (plain JSON data, which evolve can apply). */
  then(expected: readonly E[]): S;
  /** Rejected with this code (and kind, when given); returns the rejection to check its reason. */
  thenReject(code: string, kind?: Rejection['kind']): Rejection;
}

export interface Given<C, E, S> {
  when(command: C): Then<E, S>;
}

/** `scenario(decider).given(events).when(command).then(events)` / `.thenReject(code)`. */
export function scenario<C, E, S>(
  decider: Decider<C, E, S>,
): {
  given(events: readonly E[]): Given<C, E, S>;
} {
  return {
    given: (history) => ({
      when(command) {
        const state = fold(decider, history);
        const decision = decider.decide(command, state);
        return {
          state,
          decision,
          // biome-ignore lint/suspicious/noThenProperty: the given/when/then vocabulary; never awaited
          then(expected) {
            expect(decision).toStrictEqual({ ok: true, events: expected });
            const events = decision.ok ? decision.events : [];
            // Avro-bound: no undefined, Dates or class instances survive this unchanged.
            expect(JSON.parse(JSON.stringify(events))).toStrictEqual(events);
            return events.reduce((s, e) => deepFreeze(decider.evolve(s, e)), state);
          },
          thenReject(code, kind) {
            expect(decision).toMatchObject({ ok: false, rejection: { code } });
            if (decision.ok) throw new Error('unreachable: expected a rejection');
            if (kind) expect(decision.rejection.kind).toBe(kind);
            expect(decision.rejection.reason).toEqual(expect.any(String));
            return decision.rejection;
          },
        };
      },
    }),
  };
}

/**
 * Given/when/then for a Workflow: `process(workflow, context).given(inputs).when(input)
 * .then(actions)` — the actions it asks for after the history, every state along the way frozen.
 */
export function process<I, S, A, X>(
  workflow: Workflow<I, S, A, X>,
  context: X,
): { given(history: readonly I[]): { when(input: I): { then(expected: readonly A[]): S } } } {
  return {
    given: (history) => ({
      when(input) {
        const state = history.reduce(
          (s, i) => deepFreeze(workflow.evolve(s, i)),
          deepFreeze(workflow.initialState),
        );
        const actions = workflow.react(state, input, context);
        return {
          // biome-ignore lint/suspicious/noThenProperty: the given/when/then vocabulary; never awaited
          then(expected) {
            expect(actions).toStrictEqual(expected);
            return deepFreeze(workflow.evolve(state, input));
          },
        };
      },
    }),
  };
}
