import type { MessageSchema, Scalar } from '../domain/message';
import { ORDER_COMMAND_SCHEMAS } from '../domain/order/commands';
import { ORDER_EVENT_SCHEMAS } from '../domain/order/events';
import { PRODUCT_COMMANDS } from '../domain/product/messages';

/**
 * The Avro records of the commands and events declared in domain/ (domain/message.ts): each
 * field in declaration order, `money` as the shared `orderstream.Money` record (defined at its
 * first use in a schema, named after that, as Avro requires), a nullable field as
 * `["null", T]` with default null. Their fingerprints are pinned (fingerprints.test.ts): a
 * schema that events were written with never changes.
 */

/** Events and commands have separate schema sets (and namespaces). */
export type SchemaKind = 'event' | 'command';

export const NAMESPACES: Record<SchemaKind, string> = {
  event: 'orderstream.events',
  command: 'orderstream.commands',
};

const MONEY = {
  type: 'record',
  name: 'Money',
  namespace: 'orderstream',
  doc: 'Integer minor units (cents) with an ISO 4217 currency code.',
  fields: [
    { name: 'amount', type: 'long' },
    { name: 'currency', type: 'string' },
  ],
};

/** One declared schema as Avro JSON, with where it was declared (for messages). */
export interface DefinedSchema {
  readonly kind: SchemaKind;
  readonly typeName: string;
  readonly version: number;
  readonly json: object;
  readonly source: string;
  /** The fingerprint it was released with, if declared (the registry checks it). */
  readonly released?: string;
}

export function avroRecord(kind: SchemaKind, schema: MessageSchema): object {
  // A named type is defined at its first use in a schema and named after that.
  const defined = new Set<string>();
  const named = (name: string, definition: () => object): unknown => {
    if (defined.has(name)) return `orderstream.${name}`;
    defined.add(name);
    return definition();
  };
  const avroType = (scalar: Scalar): unknown => {
    if (scalar === 'money') return named('Money', () => MONEY);
    if (scalar !== 'orderLines') return scalar;
    return {
      type: 'array',
      items: named('OrderLine', () => ({
        type: 'record',
        name: 'OrderLine',
        namespace: 'orderstream',
        fields: [
          { name: 'productId', type: 'string' },
          { name: 'quantity', type: 'int' },
          { name: 'unitPrice', type: avroType('money') },
        ],
      })),
    };
  };
  return {
    type: 'record',
    name: schema.name,
    namespace: NAMESPACES[kind],
    ...(schema.doc !== undefined && { doc: schema.doc }),
    fields: Object.entries(schema.fields).map(([name, type]) =>
      typeof type === 'string'
        ? { name, type: avroType(type) }
        : { name, type: ['null', avroType(type.nullable)], default: null },
    ),
  };
}

const defined = (kind: SchemaKind, schema: MessageSchema, source: string): DefinedSchema => ({
  kind,
  typeName: schema.name,
  version: schema.version,
  json: avroRecord(kind, schema),
  source: `${schema.name}.v${schema.version} (${source})`,
  ...(schema.fingerprint !== undefined && { released: schema.fingerprint }),
});

/** Every schema declared in domain/: the product commands and events, the order ones. */
export const definedSchemas = (): DefinedSchema[] => [
  ...PRODUCT_COMMANDS.flatMap((m) => [
    defined('command', m.command, 'domain/product/messages.ts'),
    defined('event', m.event, 'domain/product/messages.ts'),
  ]),
  ...ORDER_COMMAND_SCHEMAS.map((m) => defined('command', m, 'domain/order/commands.ts')),
  ...ORDER_EVENT_SCHEMAS.map((m) => defined('event', m, 'domain/order/events.ts')),
];
