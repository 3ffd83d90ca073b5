import path from 'node:path';
import { createCodec, type EventMetadata, SchemaError } from './codec';
import { SchemaRegistry, shippedSchemas } from './registry';
import { sampleEvent } from './samples';

/** `ProductCreated.v2.avsc` adds `brand` (default ""), as a later release of this code would. */
const V2_DIR = path.join(__dirname, 'test-fixtures', 'evolution');
/** A v2 that adds `brand` WITHOUT a default: v1 events could not be read by it. */
const INCOMPATIBLE_DIR = path.join(__dirname, 'test-fixtures', 'incompatible');

const v1Registry = SchemaRegistry.shippedWith();
const v2Registry = SchemaRegistry.shippedWith(V2_DIR);
const v1Code = createCodec(v1Registry);
const v2Code = createCodec(v2Registry);

const meta: EventMetadata = {
  eventId: '0193c0e0-0000-7000-8000-000000000001',
  aggregateId: 'prod-1',
  aggregateVersion: 1,
  commandId: 'cmd-1',
  correlationId: 'corr-1',
  causationId: 'cmd-1',
  occurredAt: '2025-01-31T12:00:00.000Z',
  actor: 'user:alice',
};

const created = sampleEvent('ProductCreated');

describe('schema evolution (ProductCreated v1 → v2 adds brand, default "")', () => {
  it('v2 is the current schema; v1 stays known as a writer schema', () => {
    const current = v2Registry.current('event', 'ProductCreated');
    expect(current.version).toBe(2);
    const v1 = v1Registry.current('event', 'ProductCreated');
    expect(v2Registry.writer('event', v1.fingerprint).version).toBe(1);
    expect(current.fingerprint).not.toBe(v1.fingerprint);
  });

  it('v2 code reads an event written by v1 code, the new field taking its default', () => {
    const written = v1Code.encodeEvent(created, meta);
    expect(written.headers['schema-fingerprint']).toBe(
      v1Registry.current('event', 'ProductCreated').fingerprint,
    );
    const { event, meta: read } = v2Code.decodeEvent(written);
    expect(event).toStrictEqual({ ...created, brand: '' });
    expect(read).toStrictEqual(meta);
  });

  it('v2 code writes with v2 and reads its own events back', () => {
    const written = v2Code.encodeEvent({ ...created, brand: 'Acme' }, meta);
    expect(written.headers['schema-fingerprint']).toBe(
      v2Registry.current('event', 'ProductCreated').fingerprint,
    );
    expect(v2Code.decodeEvent(written).event).toStrictEqual({ ...created, brand: 'Acme' });
  });

  it('v1-only code rejects a v2-written event cleanly: unknown fingerprint', () => {
    const written = v2Code.encodeEvent({ ...created, brand: 'Acme' }, meta);
    const fingerprint = written.headers['schema-fingerprint'];
    expect(() => v1Code.decodeEvent(written)).toThrow(SchemaError);
    expect(() => v1Code.decodeEvent(written)).toThrow(
      `unknown event schema fingerprint '${fingerprint}'`,
    );
  });

  it('v1 code cannot write a field it does not know', () => {
    expect(() => v1Code.encodeEvent({ ...created, brand: 'Acme' }, meta)).toThrow(/brand/);
  });

  it('refuses at load time a new version that cannot read the old one', () => {
    expect(() => SchemaRegistry.shippedWith(INCOMPATIBLE_DIR)).toThrow(
      /ProductCreated\.v2\.avsc cannot read data written with ProductCreated\.v1 \(domain\//,
    );
  });

  it('refuses a duplicate version, or a new version identical to an old one', () => {
    expect(() => new SchemaRegistry([...shippedSchemas(), ...shippedSchemas()])).toThrow(
      /duplicate schema \w+:\w+:v1/,
    );
    const schemas = shippedSchemas();
    const v1 = v1Registry.current('event', 'ProductCreated');
    expect(() => new SchemaRegistry([...schemas, { ...v1, version: 2 }])).toThrow(
      /same canonical form/,
    );
  });
});
