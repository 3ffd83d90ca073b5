import { createHash } from 'node:crypto';
import {
  type CommandMetadata,
  decodeCommand,
  decodeEvent,
  type EventMetadata,
  encodeCommand,
  encodeEvent,
  SchemaError,
} from './codec';
import { getDefaultRegistry } from './registry';
import { sampleCommands, sampleEvent, sampleEvents } from './samples';

const eventMeta: EventMetadata = {
  eventId: '0193c0e0-0000-7000-8000-000000000001',
  aggregateId: 'prod-1',
  aggregateVersion: 7,
  commandId: 'cmd-1',
  correlationId: 'corr-1',
  causationId: 'cmd-1',
  occurredAt: '2025-01-31T12:00:00.123Z',
  actor: 'user:alice',
  traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  tracestate: 'vendor=abc',
};

const commandMeta: CommandMetadata = {
  commandId: 'cmd-1',
  correlationId: 'corr-1',
  actor: 'user:alice',
  issuedAt: '2025-01-31T12:00:00.000Z',
  traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
};

const reserve = { type: 'ReserveStock', productId: 'p1', orderId: 'o1', quantity: 3 };

/** Runs `fn` and returns the SchemaError it throws (fails the test otherwise). */
function schemaError(fn: () => unknown): SchemaError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SchemaError);
    return err as SchemaError;
  }
  throw new Error('expected a SchemaError');
}

describe('events', () => {
  it.each(sampleEvents.map((e) => [e.type, e] as const))('round-trips %s', (_, sample) => {
    const { event, meta } = decodeEvent(encodeEvent(sample, eventMeta));
    expect(event).toStrictEqual(sample);
    expect(meta).toStrictEqual(eventMeta);
  });

  it('writes the envelope headers of DESIGN §3', () => {
    const { headers, value } = encodeEvent(sampleEvent('ProductCreated'), eventMeta);
    expect(headers).toStrictEqual({
      'event-type': 'ProductCreated',
      'schema-fingerprint': getDefaultRegistry().current('event', 'ProductCreated').fingerprint,
      'event-id': eventMeta.eventId,
      'aggregate-id': 'prod-1',
      'aggregate-version': '7',
      'command-id': 'cmd-1',
      'correlation-id': 'corr-1',
      'causation-id': 'cmd-1',
      'occurred-at': '2025-01-31T12:00:00.123Z',
      actor: 'user:alice',
      traceparent: eventMeta.traceparent,
      tracestate: 'vendor=abc',
    });
    expect(headers['schema-fingerprint']).toMatch(/^[0-9a-f]{64}$/);
    expect(value.includes(Buffer.from('"type"'))).toBe(false);
    expect(value.includes(Buffer.from('ProductCreated'))).toBe(false);
  });

  it('fingerprints the Avro Parsing Canonical Form with sha256, as other Avro tools do', () => {
    const canonical =
      '{"name":"orderstream.events.OrderShipped","type":"record","fields":[' +
      '{"name":"orderId","type":"string"},{"name":"customerId","type":"string"},' +
      '{"name":"trackingNumber","type":["null","string"]}]}';
    expect(getDefaultRegistry().current('event', 'OrderShipped').fingerprint).toBe(
      createHash('sha256').update(canonical).digest('hex'),
    );
  });

  it('generates a UUIDv7 event id and leaves trace headers out when not given', () => {
    const { eventId: _, traceparent: __, tracestate: ___, ...rest } = eventMeta;
    const { headers } = encodeEvent(sampleEvent('ProductCreated'), rest);
    expect(headers['event-id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-/);
    expect(headers).not.toHaveProperty('traceparent');
    expect(headers).not.toHaveProperty('tracestate');
    expect(decodeEvent(encodeEvent(sampleEvent('ProductCreated'), rest)).meta).not.toHaveProperty(
      'traceparent',
    );
  });

  it('accepts kafkajs header shapes: Buffers, strings and repeated (array) headers', () => {
    const { value, headers } = encodeEvent(sampleEvent('StockReserved'), eventMeta);
    const asKafka = Object.fromEntries(
      Object.entries(headers).map(([k, v], i) => [
        k,
        i % 3 === 0 ? Buffer.from(v) : i % 3 === 1 ? ['stale', Buffer.from(v)] : v,
      ]),
    );
    expect(decodeEvent({ value, headers: asKafka }).event).toStrictEqual(
      sampleEvent('StockReserved'),
    );
  });

  it('rejects an unknown event type, naming it', () => {
    const err = schemaError(() => encodeEvent({ type: 'ProductTeleported' }, eventMeta));
    expect(err.message).toContain('ProductTeleported');
    expect(err.typeName).toBe('ProductTeleported');
    const { value, headers } = encodeEvent(sampleEvent('ProductCreated'), eventMeta);
    const decodeErr = schemaError(() =>
      decodeEvent({ value, headers: { ...headers, 'event-type': 'ProductTeleported' } }),
    );
    expect(decodeErr.message).toContain('ProductTeleported');
  });

  it('rejects an unknown schema fingerprint, naming it', () => {
    const { value, headers } = encodeEvent(sampleEvent('ProductCreated'), eventMeta);
    const unknown = 'ab'.repeat(32);
    const err = schemaError(() =>
      decodeEvent({ value, headers: { ...headers, 'schema-fingerprint': unknown } }),
    );
    expect(err.message).toContain(unknown);
    expect(err.fingerprint).toBe(unknown);
  });

  it('rejects a fingerprint that belongs to another type', () => {
    const { value, headers } = encodeEvent(sampleEvent('ProductCreated'), eventMeta);
    const other = getDefaultRegistry().current('event', 'OrderPlaced').fingerprint;
    const err = schemaError(() =>
      decodeEvent({ value, headers: { ...headers, 'schema-fingerprint': other } }),
    );
    expect(err.message).toMatch(/OrderPlaced.*not ProductCreated/);
  });

  it('rejects a missing header or an empty value, naming what is missing', () => {
    const { value, headers } = encodeEvent(sampleEvent('ProductCreated'), eventMeta);
    const { 'causation-id': _, ...noCausation } = headers;
    expect(schemaError(() => decodeEvent({ value, headers: noCausation })).message).toContain(
      'causation-id',
    );
    expect(schemaError(() => decodeEvent({ value: null, headers })).message).toContain(
      'ProductCreated',
    );
    expect(() => decodeEvent({ value: value.subarray(0, 5), headers })).toThrow(SchemaError);
  });

  it('rejects a payload that does not match its schema, naming the type and the field', () => {
    const err = schemaError(() =>
      encodeEvent({ ...reserve, type: 'StockReserved', quantity: '3', available: 5 }, eventMeta),
    );
    expect(err.message).toMatch(/StockReserved.*'quantity'/);
    expect(err.field).toBe('quantity');
    const nested = schemaError(() =>
      encodeEvent(
        {
          ...sampleEvent('OrderPlaced'),
          lines: [{ productId: 'p1', quantity: 1, unitPrice: { amount: 1.5, currency: 'EUR' } }],
        },
        eventMeta,
      ),
    );
    expect(nested.field).toBe('lines.0.unitPrice.amount');
    const missing = schemaError(() => encodeEvent({ type: 'OrderShipped' }, eventMeta));
    expect(missing.field).toBe('orderId');
    const noCustomer = schemaError(() =>
      encodeEvent({ type: 'OrderConfirmed', orderId: 'o1' }, eventMeta),
    );
    expect(noCustomer.field).toBe('customerId');
    const extra = schemaError(() =>
      encodeEvent(
        { type: 'OrderConfirmed', orderId: 'o1', customerId: 'c1', note: 'hi' },
        eventMeta,
      ),
    );
    expect(extra.message).toContain('note');
  });

  it('rejects bad envelope metadata', () => {
    expect(() =>
      encodeEvent(sampleEvent('ProductCreated'), { ...eventMeta, occurredAt: 'yesterday' }),
    ).toThrow(/occurredAt/);
    expect(() =>
      encodeEvent(sampleEvent('ProductCreated'), { ...eventMeta, aggregateVersion: 1.5 }),
    ).toThrow(/aggregateVersion/);
  });
});

describe('commands', () => {
  it.each(sampleCommands.map((c) => [c.type, c] as const))('round-trips %s', (_, sample) => {
    const { command, meta } = decodeCommand(encodeCommand(sample, commandMeta));
    expect(command).toStrictEqual(sample);
    expect(meta).toStrictEqual(commandMeta);
  });

  it('leaves absent optional fields absent (undefined or null in, absent out)', () => {
    const update = { type: 'UpdateProductDetails', productId: 'p1', name: 'n', category: null };
    const { command } = decodeCommand(encodeCommand(update, commandMeta));
    expect(command).toStrictEqual({ type: 'UpdateProductDetails', productId: 'p1', name: 'n' });
    const ship = { type: 'ShipOrder', orderId: 'o1', trackingNumber: undefined };
    expect(decodeCommand(encodeCommand(ship, commandMeta)).command).toStrictEqual({
      type: 'ShipOrder',
      orderId: 'o1',
    });
  });

  it('writes the command headers', () => {
    const { headers } = encodeCommand(reserve, commandMeta);
    expect(headers).toStrictEqual({
      'command-type': 'ReserveStock',
      'schema-fingerprint': getDefaultRegistry().current('command', 'ReserveStock').fingerprint,
      'command-id': 'cmd-1',
      'correlation-id': 'corr-1',
      actor: 'user:alice',
      'issued-at': '2025-01-31T12:00:00.000Z',
      traceparent: commandMeta.traceparent,
    });
  });

  it('rejects unknown types, unknown fingerprints and invalid payloads', () => {
    expect(schemaError(() => encodeCommand({ type: 'Teleport' }, commandMeta)).message).toContain(
      'Teleport',
    );
    const { value, headers } = encodeCommand(reserve, commandMeta);
    expect(
      schemaError(() => decodeCommand({ value, headers: { ...headers, 'command-type': 'Nope' } }))
        .message,
    ).toContain('Nope');
    expect(
      schemaError(() =>
        decodeCommand({ value, headers: { ...headers, 'schema-fingerprint': 'deadbeef' } }),
      ).message,
    ).toContain('deadbeef');
    // An event's fingerprint is not a command schema.
    const eventFp = getDefaultRegistry().current('event', 'StockReserved').fingerprint;
    expect(() =>
      decodeCommand({ value, headers: { ...headers, 'schema-fingerprint': eventFp } }),
    ).toThrow(SchemaError);
    const err = schemaError(() => encodeCommand({ ...reserve, quantity: '3' }, commandMeta));
    expect(err.message).toMatch(/ReserveStock.*'quantity'/);
    expect(err.field).toBe('quantity');
    expect(
      schemaError(() => encodeCommand({ ...reserve, quantity: 2 ** 31 }, commandMeta)).field,
    ).toBe('quantity');
  });
});
