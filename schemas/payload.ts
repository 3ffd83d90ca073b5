import { type Type, types } from 'avsc';
import { SchemaError } from './errors';
import type { ReadPlan, RegisteredSchema } from './registry';

/** Why a value failed its schema: the first offending field path and what was expected. */
function describeInvalid(type: Type, payload: unknown): { field: string; detail: string } {
  let found: { field: string; detail: string } | undefined;
  type.isValid(payload, {
    noUndeclaredFields: true,
    errorHook: (path: string[], value: unknown, at: Type) => {
      if (found) return;
      const field = path.join('.') || '(payload)';
      if (at instanceof types.RecordType && value !== null && typeof value === 'object') {
        const declared = new Set(at.fields.map((f) => f.name));
        const extra = Object.keys(value).filter((k) => !declared.has(k));
        if (extra.length > 0) {
          found = { field, detail: `undeclared field(s) ${extra.join(', ')}` };
          return;
        }
      }
      const got = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
      found = { field, detail: `expected ${at.branchName ?? at.typeName}, got ${got}` };
    },
  });
  return found ?? { field: '(payload)', detail: 'does not match the schema' };
}

/** Avro binary of a payload (the message without `type`); SchemaError naming the bad field. */
export function writePayload(schema: RegisteredSchema, payload: unknown): Buffer {
  if (!schema.type.isValid(payload, { noUndeclaredFields: true })) {
    const { field, detail } = describeInvalid(schema.type, payload);
    throw new SchemaError(`invalid ${schema.typeName} ${schema.kind}: field '${field}' ${detail}`, {
      typeName: schema.typeName,
      field,
    });
  }
  return schema.type.toBuffer(payload);
}

/** avsc returns record instances; the domain works with plain objects and arrays. */
function toPlain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toPlain);
  if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value)) {
    const plain: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) plain[k] = toPlain(v);
    return plain;
  }
  return value;
}

/** Decodes a payload written with `plan.writer` as the current reader schema sees it. */
export function readPayload(plan: ReadPlan, value: Buffer | null): Record<string, unknown> {
  const { reader, writer } = plan;
  if (!value) {
    throw new SchemaError(`${reader.typeName} message has no value`, {
      typeName: reader.typeName,
    });
  }
  let decoded: unknown;
  try {
    decoded = reader.type.fromBuffer(value, plan.resolver);
  } catch (err) {
    throw new SchemaError(
      `cannot decode ${reader.typeName} written with v${writer.version} (${writer.fingerprint}): ${String(err)}`,
      { typeName: reader.typeName, fingerprint: writer.fingerprint },
      { cause: err },
    );
  }
  const plain = toPlain(decoded);
  if (plain === null || typeof plain !== 'object' || Array.isArray(plain)) {
    throw new SchemaError(`${reader.typeName} payload is not a record`, {
      typeName: reader.typeName,
    });
  }
  return plain as Record<string, unknown>;
}
