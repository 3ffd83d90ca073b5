import fs from 'node:fs';
import path from 'node:path';
import { Type } from 'avsc';
import { type DefinedSchema, definedSchemas, NAMESPACES, type SchemaKind } from './definitions';
import { SchemaError } from './errors';

export type { SchemaKind } from './definitions';

/** One version of one event or command type: declared in domain/, or an `.avsc` file. */
export interface RegisteredSchema {
  readonly kind: SchemaKind;
  /** The type name, also the Avro record name, e.g. `ProductCreated`. */
  readonly typeName: string;
  /** From the declaration, or the file name `<TypeName>.v<N>.avsc`. */
  readonly version: number;
  /** sha256 of the schema's Parsing Canonical Form, lower-case hex. */
  readonly fingerprint: string;
  readonly type: Type;
  /** The Avro schema as declared or written in its file (docs and defaults included). */
  readonly json: unknown;
  /** Where it comes from, for messages: a file, or the declaration's type, version and list. */
  readonly source: string;
}

/**
 * The `.avsc` files shipped with this code, `schemas/avro/{events,commands}/` (copied into
 * dist/): the order messages, and older versions kept so that events written with them can
 * still be read. The product messages are declared in domain/ (definitions.ts).
 */
export const DEFAULT_SCHEMA_DIR = path.join(__dirname, 'avro');

const SUBDIRS: Record<SchemaKind, string> = { event: 'events', command: 'commands' };
const FILE_NAME = /^([A-Z][A-Za-z0-9]*)\.v([1-9][0-9]*)\.avsc$/;

type AvroSchema = Parameters<typeof Type.forSchema>[0];
type Resolver = ReturnType<Type['createResolver']>;

/** How to read a payload: the writer's schema, the current reader schema, and the resolver
 *  between them (none when the writer is the reader). */
export interface ReadPlan {
  readonly writer: RegisteredSchema;
  readonly reader: RegisteredSchema;
  readonly resolver: Resolver | undefined;
}

/** The sha256 fingerprint of a type's canonical form, as hex (what the `schema-fingerprint` header holds). */
export const fingerprintOf = (type: Type): string => type.fingerprint('sha256').toString('hex');

const key = (kind: SchemaKind, typeName: string): string => `${kind}:${typeName}`;

/** Parses and checks one schema (a record named `<namespace>.<typeName>`). */
function register(schema: DefinedSchema): RegisteredSchema {
  const { kind, typeName, version, json, source, released } = schema;
  let type: Type;
  try {
    type = Type.forSchema(json as AvroSchema);
  } catch (err) {
    throw new SchemaError(`schema ${source} is not a valid Avro schema: ${String(err)}`, {
      typeName,
    });
  }
  const expected = `${NAMESPACES[kind]}.${typeName}`;
  if (type.typeName !== 'record' || type.name !== expected) {
    throw new SchemaError(`schema ${source} must define the record ${expected}`, { typeName });
  }
  const fingerprint = fingerprintOf(type);
  if (released !== undefined && released !== fingerprint) {
    throw new SchemaError(
      `schema ${source} was released with fingerprint ${released} but its canonical form now has ${fingerprint}: a released schema never changes, give it a new version (schemas/README.md)`,
      { typeName, fingerprint },
    );
  }
  return { kind, typeName, version, fingerprint, type, json, source };
}

function parseFile(kind: SchemaKind, file: string): RegisteredSchema {
  const match = FILE_NAME.exec(path.basename(file));
  if (!match?.[1] || !match[2]) {
    throw new SchemaError(`schema file ${file} is not named <TypeName>.v<N>.avsc`);
  }
  const typeName = match[1];
  let json: object;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new SchemaError(`schema file ${file} is not valid JSON: ${String(err)}`, { typeName });
  }
  return register({ kind, typeName, version: Number(match[2]), json, source: file });
}

/** The schemas declared in domain/ (definitions.ts), parsed and checked. */
export const loadDefinedSchemas = (
  defined: readonly DefinedSchema[] = definedSchemas(),
): RegisteredSchema[] => defined.map(register);

/** Every schema shipped: those declared in domain/ and the files of DEFAULT_SCHEMA_DIR. */
export const shippedSchemas = (): RegisteredSchema[] => [
  ...loadDefinedSchemas(),
  ...loadSchemaFiles(DEFAULT_SCHEMA_DIR),
];

/** Every `.avsc` file under `<dir>/events` and `<dir>/commands` (a missing subfolder is empty). */
export function loadSchemaFiles(dir: string): RegisteredSchema[] {
  const schemas: RegisteredSchema[] = [];
  for (const kind of ['event', 'command'] as const) {
    const sub = path.join(dir, SUBDIRS[kind]);
    if (!fs.existsSync(sub)) continue;
    for (const name of fs.readdirSync(sub).sort()) {
      if (name.endsWith('.avsc')) schemas.push(parseFile(kind, path.join(sub, name)));
    }
  }
  return schemas;
}

/**
 * Per event/command type: the current (highest version) reader schema, and every known writer
 * schema by fingerprint. Construction fails if the current schema cannot read an older version.
 */
export class SchemaRegistry {
  private readonly currentByType = new Map<string, RegisteredSchema>();
  private readonly byFingerprint = new Map<string, RegisteredSchema>();
  private readonly all: RegisteredSchema[];
  private readonly plans = new Map<string, ReadPlan>();

  constructor(schemas: readonly RegisteredSchema[]) {
    this.all = [...schemas];
    const versions = new Set<string>();
    for (const schema of schemas) {
      const id = `${key(schema.kind, schema.typeName)}:v${schema.version}`;
      if (versions.has(id)) throw new SchemaError(`duplicate schema ${id} (${schema.source})`);
      versions.add(id);
      const existing = this.byFingerprint.get(`${schema.kind}:${schema.fingerprint}`);
      if (existing) {
        throw new SchemaError(
          `${schema.source} has the same canonical form as ${existing.source} (fingerprint ${schema.fingerprint})`,
          { typeName: schema.typeName, fingerprint: schema.fingerprint },
        );
      }
      this.byFingerprint.set(`${schema.kind}:${schema.fingerprint}`, schema);
      const current = this.currentByType.get(key(schema.kind, schema.typeName));
      if (!current || current.version < schema.version) {
        this.currentByType.set(key(schema.kind, schema.typeName), schema);
      }
    }
    for (const schema of schemas) this.checkReadable(schema);
  }

  /** The shipped schemas and those in the given directories (each laid out like `schemas/avro`). */
  static shippedWith(...dirs: string[]): SchemaRegistry {
    return new SchemaRegistry([...shippedSchemas(), ...dirs.flatMap(loadSchemaFiles)]);
  }

  /** The current (latest version) schema of a type; SchemaError if the type is unknown. */
  current(kind: SchemaKind, typeName: string): RegisteredSchema {
    const schema = this.currentByType.get(key(kind, typeName));
    if (!schema) {
      throw new SchemaError(`unknown ${kind} type '${typeName}': no schema registered`, {
        typeName,
      });
    }
    return schema;
  }

  /** A known writer schema by fingerprint; SchemaError if no schema has that fingerprint. */
  writer(kind: SchemaKind, fingerprint: string): RegisteredSchema {
    const schema = this.byFingerprint.get(`${kind}:${fingerprint}`);
    if (!schema) {
      throw new SchemaError(`unknown ${kind} schema fingerprint '${fingerprint}'`, { fingerprint });
    }
    return schema;
  }

  /**
   * How to read a `typeName` payload written with the schema of `fingerprint`: SchemaError if the
   * type or the fingerprint is unknown, or the fingerprint belongs to another type.
   */
  readPlan(kind: SchemaKind, typeName: string, fingerprint: string): ReadPlan {
    const cacheKey = `${key(kind, typeName)}:${fingerprint}`;
    const cached = this.plans.get(cacheKey);
    if (cached) return cached;
    const reader = this.current(kind, typeName);
    const writer = this.writer(kind, fingerprint);
    if (writer.typeName !== typeName) {
      throw new SchemaError(
        `schema fingerprint '${fingerprint}' is ${writer.typeName} v${writer.version}, not ${typeName}`,
        { typeName, fingerprint },
      );
    }
    const resolver = writer === reader ? undefined : reader.type.createResolver(writer.type);
    const plan: ReadPlan = { writer, reader, resolver };
    this.plans.set(cacheKey, plan);
    return plan;
  }

  /** The type names that have a schema, sorted. */
  typeNames(kind: SchemaKind): string[] {
    return [...this.currentByType.values()]
      .filter((s) => s.kind === kind)
      .map((s) => s.typeName)
      .sort();
  }

  /** Every registered schema version (e.g. to publish them to the schemas topic). */
  schemas(): readonly RegisteredSchema[] {
    return this.all;
  }

  private checkReadable(schema: RegisteredSchema): void {
    const current = this.current(schema.kind, schema.typeName);
    if (current === schema) return;
    try {
      current.type.createResolver(schema.type);
    } catch (err) {
      throw new SchemaError(
        `${current.source} cannot read data written with ${schema.source}: ${String(err)}`,
        { typeName: schema.typeName, fingerprint: schema.fingerprint },
      );
    }
  }
}

let defaultRegistry: SchemaRegistry | undefined;

/** The registry of the schemas shipped with this code, loaded once (call it at startup to fail fast). */
export function getDefaultRegistry(): SchemaRegistry {
  defaultRegistry ??= SchemaRegistry.shippedWith();
  return defaultRegistry;
}
