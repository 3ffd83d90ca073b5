import type { Money } from './decider';

/**
 * A command's or an event's fields, declared once: the TypeScript type is inferred from the
 * declaration (`CommandOf` / `EventOf`) and schemas/definitions.ts writes the Avro record from
 * it (one field per entry, in order; `money` is the shared `orderstream.Money` record,
 * `orderLines` an array of the shared `orderstream.OrderLine`, a nullable field `["null", T]`
 * with default null). No Avro library here: domain/ stays pure.
 */
export type Scalar = 'string' | 'int' | 'long' | 'money' | 'orderLines';

/** One line of an order: the shared `orderstream.OrderLine` record (`orderLines` is a list). */
export interface OrderLine {
  productId: string;
  quantity: number;
  unitPrice: Money;
}

/** A field that may hold null (in a command: may also be absent). */
export interface Nullable<S extends Scalar = Scalar> {
  readonly nullable: S;
  /** In an event too, it may be absent: for code written before the field was added. */
  readonly absent?: true;
}

export type FieldType = Scalar | Nullable;

export type Fields = Readonly<Record<string, FieldType>>;

/** The declaration of one command or event type: its name (the `type` field) and its fields. */
export interface MessageSchema<N extends string = string, F extends Fields = Fields> {
  readonly name: N;
  readonly fields: F;
  /** The schema's version (schemas/README.md, "Changing a schema"); 1 unless raised. */
  readonly version: number;
  /**
   * The sha256 fingerprint of its Avro canonical form once released: messages on the topics
   * were written with it, so the registry refuses a declaration that no longer has it.
   */
  readonly fingerprint?: string;
  /** The Avro record's doc (not part of its canonical form). */
  readonly doc?: string;
}

/** A released schema's version and fingerprint (the registry's error names the fingerprint),
 *  and the record's doc as released. */
export interface Release {
  readonly version: number;
  readonly fingerprint: string;
  readonly doc?: string;
}

export const nullable = <const S extends Scalar>(of: S): Nullable<S> => ({ nullable: of });

/** Nullable, and in an event also absent from code written before the field was added. */
export const nullableOrAbsent = <const S extends Scalar>(
  of: S,
): Nullable<S> & { absent: true } => ({
  nullable: of,
  absent: true,
});

type ValueOf<S> = S extends 'string'
  ? string
  : S extends 'int' | 'long'
    ? number
    : S extends 'money'
      ? Money
      : S extends 'orderLines'
        ? OrderLine[]
        : never;

type Simplify<T> = { [K in keyof T]: T[K] } & {};

type NullableKeys<F> = { [K in keyof F]: F[K] extends Nullable ? K : never }[keyof F];

type MayBeAbsentKeys<F> = { [K in keyof F]: F[K] extends { absent: true } ? K : never }[keyof F];

type Present<F> = { [K in Exclude<keyof F, NullableKeys<F>>]: ValueOf<F[K]> };

type NullOf<T> = T extends Nullable<infer S> ? ValueOf<S> | null : never;

/** An event (distributes over a union of schemas): every field present, absent optional data
 *  is null (events never hold undefined), but for a field declared `nullableOrAbsent`. */
export type EventOf<M extends MessageSchema> = M extends MessageSchema
  ? Simplify<
      { type: M['name'] } & Present<M['fields']> & {
          [K in Exclude<NullableKeys<M['fields']>, MayBeAbsentKeys<M['fields']>>]: NullOf<
            M['fields'][K]
          >;
        } & { [K in MayBeAbsentKeys<M['fields']>]?: NullOf<M['fields'][K]> }
    >
  : never;

/** A command: a nullable field may be absent, undefined (JSON) or null (Avro). */
export type CommandOf<M extends MessageSchema> = M extends MessageSchema
  ? Simplify<
      { type: M['name'] } & Present<M['fields']> & {
          [K in NullableKeys<M['fields']>]?: NullOf<M['fields'][K]>;
        }
    >
  : never;

/** Declares a command's or event's fields (the name and field types are kept literal). */
export const message = <const N extends string, const F extends Fields>(
  name: N,
  fields: F,
  release?: Release,
): MessageSchema<N, F> => ({ name, fields, version: 1, ...release });

/** The message types of a list of declarations, in order (for the `*_TYPES` lists). */
export const namesOf = <const M extends readonly MessageSchema[]>(
  schemas: M,
): readonly M[number]['name'][] => schemas.map((m) => m.name);
