import fs from 'node:fs';
import path from 'node:path';
import { Type } from 'avsc';
import { SchemaError } from './errors';

/** Events and commands have separate schema sets (and namespaces). */
export type SchemaKind = 'event' | 'command';

/** One parsed `.avsc` file: one version of one event or command type. */
export interface RegisteredSchema {
  readonly kind: SchemaKind;
  /** The type name, also the Avro record name, e.g. `ProductCreated`. */
  readonly typeName: string;
  /** From the file name `<TypeName>.v<N>.avsc`. */
  readonly version: number;
  /** sha256 of the schema's Parsing Canonical Form, lower-case hex. */
  readonly fingerprint: string;
  readonly type: Type;
  readonly file: string;
}

/** The schemas shipped with this code: `schemas/avro/{events,commands}/` (copied into dist/). */
export const DEFAULT_SCHEMA_DIR = path.join(__dirname, 'avro');

const SUBDIRS: Record<SchemaKind, string> = { event: 'events', command: 'commands' };
const NAMESPACES: Record<SchemaKind, string> = {
  event: 'orderstream.events',
  command: 'orderstream.commands',
};
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

function parseFile(kind: SchemaKind, file: string): RegisteredSchema {
  const match = FILE_NAME.exec(path.basename(file));
  if (!match?.[1] || !match[2]) {
    throw new SchemaError(`schema file ${file} is not named <TypeName>.v<N>.avsc`);
  }
  const typeName = match[1];
  let type: Type;
  try {
    const json: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    type = Type.forSchema(json as AvroSchema);
  } catch (err) {
    throw new SchemaError(`schema file ${file} is not a valid Avro schema: ${String(err)}`, {
      typeName,
    });
  }
  const expected = `${NAMESPACES[kind]}.${typeName}`;
  if (type.typeName !== 'record' || type.name !== expected) {
    throw new SchemaError(`schema file ${file} must define the record ${expected}`, { typeName });
  }
  return {
    kind,
    typeName,
    version: Number(match[2]),
    fingerprint: fingerprintOf(type),
    type,
    file,
  };
}

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
      if (versions.has(id)) throw new SchemaError(`duplicate schema ${id} (${schema.file})`);
      versions.add(id);
      const existing = this.byFingerprint.get(`${schema.kind}:${schema.fingerprint}`);
      if (existing) {
        throw new SchemaError(
          `${schema.file} has the same canonical form as ${existing.file} (fingerprint ${schema.fingerprint})`,
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

  /** Loads every schema in the given directories (each laid out like `schemas/avro`). */
  static fromDirectories(...dirs: string[]): SchemaRegistry {
    return new SchemaRegistry(dirs.flatMap(loadSchemaFiles));
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
        `${current.file} cannot read data written with ${schema.file}: ${String(err)}`,
        { typeName: schema.typeName, fingerprint: schema.fingerprint },
      );
    }
  }
}

let defaultRegistry: SchemaRegistry | undefined;

/** The registry of the schemas shipped with this code, loaded once (call it at startup to fail fast). */
export function getDefaultRegistry(): SchemaRegistry {
  defaultRegistry ??= SchemaRegistry.fromDirectories(DEFAULT_SCHEMA_DIR);
  return defaultRegistry;
}
