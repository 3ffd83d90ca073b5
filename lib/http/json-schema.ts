import { z } from 'zod';

/**
 * zod 4 schemas as the JSON Schema of an OpenAPI 3.1 document (lib/http/openapi.ts): the
 * schemas a document names are registered with an id and shown as `#/components/schemas/<id>`.
 */

/** The schemas a document names (`#/components/schemas/<id>`). */
export type SchemaRegistry = z.core.$ZodRegistry<{ id: string; description?: string }>;

export const schemaRegistry = (): SchemaRegistry =>
  z.registry<{ id: string; description?: string }>();

export const schemaRef = (id: string) => ({ $ref: `#/components/schemas/${id}` });

/**
 * How zod converts for these documents: the request's side of a schema (a query parameter is
 * the string sent, a default makes a field optional); ids from the document's registry, and
 * the descriptions the schemas were given (`.describe()`, kept in zod's global registry).
 */
const conversion = (registry: SchemaRegistry) =>
  ({
    io: 'input',
    unrepresentable: 'any',
    metadata: registry,
    override: ({ zodSchema, jsonSchema }) => {
      const description = z.globalRegistry.get(zodSchema)?.description;
      if (description && jsonSchema.description === undefined) jsonSchema.description = description;
    },
  }) satisfies Parameters<typeof z.toJSONSchema>[1];

/** JSON Schema of `schema` as the document shows it: a registered one by reference. */
export function toJsonSchema(registry: SchemaRegistry, schema: z.ZodType): Record<string, unknown> {
  const id = registry.get(schema)?.id;
  if (id) return schemaRef(id);
  // Registered schemas inside come out as `$defs` (by id): every one is a component too.
  const { $schema: _, $defs: _defs, ...rest } = z.toJSONSchema(schema, conversion(registry));
  return JSON.parse(
    JSON.stringify(rest).replaceAll('"#/$defs/', '"#/components/schemas/'),
  ) as Record<string, unknown>;
}

/** Every registered schema as `components.schemas` (its registry description included). */
export function componentSchemas(registry: SchemaRegistry): Record<string, unknown> {
  const { schemas } = z.toJSONSchema(registry, {
    ...conversion(registry),
    uri: (ref) => `#/components/schemas/${ref}`,
  });
  return Object.fromEntries(
    Object.entries(schemas).map(([id, schema]) => {
      const { $schema: _s, $id: _i, ...rest } = schema as Record<string, unknown>;
      return [id, rest];
    }),
  );
}
