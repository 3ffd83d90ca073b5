import type { DomainEvent, DomainEventType } from '../domain/events';
import type { EventMetadata } from '../schemas/codec';

/** Where an event sits in the log, and its envelope. */
interface Placed {
  topic: string;
  partition: number;
  /** Kafka offset as a decimal string. */
  offset: string;
  meta: EventMetadata;
}

/** One event type as a projection sees it: its `type` apart from its fields (`data`). */
type Projected<E extends DomainEvent> = E extends DomainEvent
  ? Placed & { type: E['type']; data: Omit<E, 'type'> }
  : never;

/**
 * One decoded event as a projection sees it, with its place in the log: a union over the
 * domain's events, so a `switch (event.type)` narrows `data` to that event's fields. The codec
 * checked them against the event's schema; projections do not check them again.
 */
export type ProjectedEvent = Projected<DomainEvent>;

/** The projected events of the given types. */
export type ProjectedOf<T extends DomainEventType> = Extract<ProjectedEvent, { type: T }>;

/** A decoded event at its place in the log, as a projection sees it. */
export function projectedEvent(event: DomainEvent, placed: Placed): ProjectedEvent {
  const { type, ...data } = event;
  // `data` is the rest of the same event, so it belongs to `type` (TS cannot relate the two).
  return { ...placed, type, data } as ProjectedEvent;
}

/** An event a projection can never take (unknown type, a row it needs missing): never retry it. */
export class ModelViolation extends Error {
  override name = 'ModelViolation';
}

/**
 * The `default` of a projection's exhaustive `switch`: `event` is `never` there, so an event type
 * the projection neither handles nor ignores does not compile. At run time (an event built
 * outside the codec) it is a model violation.
 */
export function unknownEvent(projection: string, event: never): never {
  const type = (event as { type?: unknown }).type;
  throw new ModelViolation(`the ${projection} does not know event type ${String(type)}`);
}
