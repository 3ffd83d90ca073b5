import type { OrderEvent } from './order/events';
import type { ProductEvent } from './product/messages';

/**
 * Every event the domain writes: what the codec decodes (schemas/codec.ts) and what every
 * projection handles or declares it ignores (read-models/), so a new event type is a compile
 * error in each projection that says nothing about it.
 */
export type DomainEvent = ProductEvent | OrderEvent;

export type DomainEventType = DomainEvent['type'];

/**
 * Is `event`'s type one of `types`? Narrows `event` (a DomainEvent, or anything discriminated
 * by its type) either way: readers declare the types they ignore with it, so their `switch`
 * must handle every other one (a `never` default), and a new type is a compile error there.
 */
export function hasTypeIn<T extends DomainEventType, E extends { type: DomainEventType }>(
  types: readonly T[],
  event: E,
): event is Extract<E, { type: T }> {
  return (types as readonly DomainEventType[]).includes(event.type);
}
