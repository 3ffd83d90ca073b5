import { randomBytes, randomInt } from 'node:crypto';
import type { Pool } from 'pg';
import { encodeConsistencyToken } from '../../lib/consistency-token';
import { issueToken, type Role } from '../../lib/http/auth';
import { listen, type RunningServer } from '../../lib/http/serve';
import { createShardPools } from '../../lib/postgres';
import { ShardingRing } from '../../lib/sharding-ring';
import { topicNames } from '../../lib/topics';
import { createQueryApi, type QueryApi, type QueryApiOptions } from '../../query-api/app';
import { dropGeneration, ensureGeneration, switchGeneration } from '../../read-models/postgres';
import { call } from '../support/command-api';
import { keyOnShard, type OrderFixture, ReadModelFixture } from '../support/query-fixtures';
import { runConfig, silentLogger } from '../support/test-env';

/**
 * GET /orders/{id}/stream (Server-Sent Events) over the run's shard databases, with rows
 * written straight into a generation of this file's own (its own projection name points shard 0
 * at it) and a Redis key prefix of its own; the rows are then changed as the projector would.
 */

const hex = randomBytes(3).toString('hex');
const PROJECTION = `read-model-stream-${hex}`;
/** A generation far above any a projector of this run would build. */
const G = 1_000_000_000 + randomInt(500_000_000, 1_000_000_000);
const KEY_PREFIX = `${process.env.REDIS_KEY_PREFIX ?? 'ostest:'}stream-${hex}:`;
const WAIT_MS = 1500;
const PARTITIONS = 3;
const APPLIED = 100;
const POLL_MS = 200;

const env = { REDIS_KEY_PREFIX: KEY_PREFIX, CONSISTENCY_WAIT_MS: String(WAIT_MS) };
const config = runConfig(env);
const topics = topicNames(config.topics);
const EVENT_TOPICS = [topics.productEvents, topics.orderEvents];
const ring = new ShardingRing(config.postgres.shardUrls.length);

const ALICE = `alice-${hex}`;
/** On another shard than Alice. */
const BOB = keyOnShard(ring, `bob-${hex}`, (ring.shardFor(ALICE) + 1) % ring.size);

let n = 0;
/** A pending order of Alice's with two lines, only the first reserved (pending_stock). */
const pendingOrder = (over: Partial<OrderFixture> = {}): OrderFixture => ({
  orderId: `o-${hex}-${++n}`,
  customerId: ALICE,
  placedAt: '2025-03-01T10:00:00Z',
  lines: [
    { productId: `p-${hex}-1`, quantity: 1, price: 100, reserved: true },
    { productId: `p-${hex}-2`, quantity: 2, price: 250, reserved: false },
  ],
  ...over,
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- reading an event stream ----

/** One block of the stream: an event (id, event, data) or a comment. */
interface SseBlock {
  id?: string;
  event?: string;
  data?: unknown;
  comment?: string;
}

function parseBlock(block: string): SseBlock {
  const parsed: SseBlock = {};
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) parsed.comment = line.slice(1).trim();
    else if (line.startsWith('id: ')) parsed.id = line.slice(4);
    else if (line.startsWith('event: ')) parsed.event = line.slice(7);
    else if (line.startsWith('data: ')) parsed.data = JSON.parse(line.slice(6));
    else throw new Error(`unexpected line in the event stream: ${JSON.stringify(line)}`);
  }
  return parsed;
}

/** Reads the response body as it arrives: a TextDecoder over its ReadableStream. */
class EventStream {
  private buffer = '';
  private readonly decoder = new TextDecoder();
  /** Undefined for an answer without a body (204). */
  private readonly reader: ReadableStreamDefaultReader<Uint8Array> | undefined;

  constructor(
    readonly response: Response,
    private readonly controller: AbortController,
  ) {
    this.reader = response.body?.getReader();
  }

  /** The next block, or undefined once the server ended the stream; fails after `timeoutMs`. */
  async next(timeoutMs = 3000): Promise<SseBlock | undefined> {
    const reader = this.reader;
    if (!reader) return undefined;
    for (;;) {
      const end = this.buffer.indexOf('\n\n');
      if (end >= 0) {
        const block = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        return parseBlock(block);
      }
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`nothing in the stream for ${timeoutMs} ms`)),
          timeoutMs,
        );
      });
      const chunk = await Promise.race([reader.read(), timeout]).finally(() => clearTimeout(timer));
      if (chunk.done) {
        this.buffer += this.decoder.decode();
        if (this.buffer !== '') throw new Error(`the stream ended mid-event: ${this.buffer}`);
        return undefined;
      }
      this.buffer += this.decoder.decode(chunk.value, { stream: true });
    }
  }

  /** The next block that is not a keep-alive comment. */
  async nextEvent(timeoutMs = 3000): Promise<SseBlock | undefined> {
    for (;;) {
      const block = await this.next(timeoutMs);
      if (block?.comment === undefined) return block;
    }
  }

  /** The client goes away. */
  disconnect(): void {
    this.controller.abort();
  }
}

describe('GET /orders/{id}/stream', () => {
  let leaders: Pool[];
  let model: ReadModelFixture;
  const running: { api: QueryApi; server: RunningServer }[] = [];
  let main: { api: QueryApi; server: RunningServer };
  const streams: EventStream[] = [];
  const tokens: Partial<Record<string, string>> = {};

  async function tokenFor(role: Role, subject: string): Promise<string> {
    const key = `${role}:${subject}`;
    const token = tokens[key] ?? (await issueToken(config.jwt, subject, role));
    tokens[key] = token;
    return token;
  }

  async function start(opts: QueryApiOptions = {}) {
    const api = createQueryApi(runConfig(env), silentLogger(), {
      readModelProjection: PROJECTION,
      orderStreamPollMs: POLL_MS,
      ...opts,
    });
    const server = await listen(api.app, '127.0.0.1', 0);
    const r = { api, server };
    running.push(r);
    return r;
  }

  /** Opens the stream; the answer's headers have arrived (the body has not been read). */
  async function open(
    orderId: string,
    token: string,
    headers: Record<string, string> = {},
    on = main,
  ): Promise<EventStream> {
    const controller = new AbortController();
    const response = await fetch(`${on.server.url}/orders/${orderId}/stream`, {
      headers: { authorization: `Bearer ${token}`, ...headers },
      signal: controller.signal,
    });
    const stream = new EventStream(response, controller);
    streams.push(stream);
    return stream;
  }

  const status = (order: OrderFixture, data: Record<string, unknown>) => ({
    event: 'status',
    data: { orderId: order.orderId, cancelReason: null, ...data },
  });

  beforeAll(async () => {
    leaders = createShardPools(config.postgres.shardUrls, 2);
    await ensureGeneration(config.postgres.shardUrls, G);
    await switchGeneration(leaders[0] as Pool, G, PROJECTION);
    model = new ReadModelFixture(leaders, ring, G);
    await model.checkpointAll(EVENT_TOPICS, PARTITIONS, APPLIED);
    main = await start();
  }, 60_000);

  afterAll(async () => {
    for (const s of streams) s.disconnect();
    await Promise.allSettled(
      running.map(async ({ api, server }) => {
        const stopped = server.close();
        api.orderStreams.endAll();
        await stopped;
        await api.close();
      }),
    );
    await dropGeneration(config.postgres.shardUrls, G).catch(() => undefined);
    await leaders[0]?.query('delete from public.projection_generations where projection = $1', [
      PROJECTION,
    ]);
    await Promise.allSettled(leaders.map((p) => p.end()));
  }, 60_000);

  it('sends pending_stock at once, then each change of progress in order, and ends once confirmed', async () => {
    const order = pendingOrder();
    await model.order(order);
    const stream = await open(order.orderId, await tokenFor('customer', ALICE));
    expect(stream.response.status).toBe(200);
    expect(stream.response.headers.get('content-type')).toBe('text/event-stream');
    expect(stream.response.headers.get('cache-control')).toMatch(/^no-cache\b/);
    expect(stream.response.headers.get('content-encoding')).toBeNull();
    expect(stream.response.headers.get('x-read-from')).toBe('leader');

    expect(await stream.nextEvent()).toEqual({
      id: '1',
      ...status(order, { status: 'pending', progress: 'pending_stock' }),
    });
    // Nothing changes for a while: nothing is sent.
    await sleep(3 * POLL_MS);
    expect(await model.updateOrder(order, { reserveLines: [1] })).toBe(2);
    expect(await stream.nextEvent()).toEqual({
      id: '2',
      ...status(order, { status: 'pending', progress: 'pending_payment' }),
    });
    // A change the user does not see (payment authorized: still pending_payment): no event.
    expect(await model.updateOrder(order, {})).toBe(3);
    await sleep(2 * POLL_MS);
    expect(await model.updateOrder(order, { status: 'confirmed' })).toBe(4);
    expect(await stream.nextEvent()).toEqual({
      id: '4',
      ...status(order, { status: 'confirmed', progress: 'confirmed' }),
    });
    expect(await stream.next()).toBeUndefined();
  });

  it('sends the reason of a cancellation and ends; a settled order: one event, then the end', async () => {
    const order = pendingOrder();
    await model.order(order);
    const stream = await open(order.orderId, await tokenFor('service', 'saga'));
    expect(await stream.nextEvent()).toMatchObject({ data: { progress: 'pending_stock' } });
    await model.updateOrder(order, { status: 'cancelled', cancelReason: 'out of stock' });
    expect(await stream.nextEvent()).toEqual({
      id: '2',
      ...status(order, {
        status: 'cancelled',
        progress: 'cancelled',
        cancelReason: 'out of stock',
      }),
    });
    expect(await stream.next()).toBeUndefined();

    const again = await open(order.orderId, await tokenFor('customer', ALICE));
    expect(again.response.status).toBe(200);
    expect(await again.next()).toMatchObject({
      id: '2',
      data: { progress: 'cancelled', cancelReason: 'out of stock' },
    });
    expect(await again.next()).toBeUndefined();
  });

  it('answers 404 before streaming for an unknown order or another customer’s', async () => {
    const bobs = pendingOrder({ customerId: BOB });
    await model.order(bobs);
    for (const orderId of [bobs.orderId, `nope-${hex}`]) {
      const res = await call(main.server.url, 'GET', `/orders/${orderId}/stream`, {
        token: await tokenFor('customer', ALICE),
      });
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ status: 404, detail: `no order ${orderId}` });
    }
    const own = await open(bobs.orderId, await tokenFor('customer', BOB));
    expect(own.response.status).toBe(200);
    expect(await own.nextEvent()).toMatchObject({ data: { orderId: bobs.orderId } });
    own.disconnect();
    const unsigned = await call(main.server.url, 'GET', `/orders/${bobs.orderId}/stream`);
    expect(unsigned.status).toBe(401);
  });

  it('reads the first status once the consistency token is reached; refuses a bad token', async () => {
    const order = pendingOrder();
    await model.order(order);
    const alice = await tokenFor('customer', ALICE);
    const token = encodeConsistencyToken([
      { topic: topics.orderEvents, partition: 1, offset: String(APPLIED + 5) },
    ]);
    const started = Date.now();
    const pending = open(order.orderId, alice, { 'X-Consistency-Token': token });
    await sleep(300);
    await model.checkpoint(topics.orderEvents, 1, APPLIED + 5);
    const stream = await pending;
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(stream.response.status).toBe(200);
    expect(await stream.nextEvent()).toMatchObject({
      id: '1',
      data: { progress: 'pending_stock' },
    });
    stream.disconnect();

    const bad = await call(main.server.url, 'GET', `/orders/${order.orderId}/stream`, {
      token: alice,
      headers: { 'X-Consistency-Token': 'not-a-token' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([expect.objectContaining({ field: 'X-Consistency-Token' })]);
  });

  it('sends a keep-alive comment line while nothing changes', async () => {
    const chatty = await start({ orderStreamKeepAliveMs: 250 });
    const order = pendingOrder();
    await model.order(order);
    const stream = await open(order.orderId, await tokenFor('admin', 'root'), {}, chatty);
    expect(await stream.next()).toMatchObject({ id: '1', event: 'status' });
    expect(await stream.next(1000)).toEqual({ comment: 'keep-alive' });
    expect(await stream.next(1000)).toEqual({ comment: 'keep-alive' });
    stream.disconnect();
  });

  it('stops polling once the client disconnects', async () => {
    const own = await start();
    const streamsOf = own.api.orderStreams;
    const order = pendingOrder();
    await model.order(order);
    const stream = await open(order.orderId, await tokenFor('customer', ALICE), {}, own);
    expect(await stream.nextEvent()).toMatchObject({ id: '1' });
    expect(streamsOf.open).toBe(1);
    await sleep(5 * POLL_MS);
    // It polls about every POLL_MS, one query each.
    expect(streamsOf.polls).toBeGreaterThanOrEqual(3);
    expect(streamsOf.polls).toBeLessThanOrEqual(6);

    stream.disconnect();
    const deadline = Date.now() + 2000;
    while (streamsOf.open > 0 && Date.now() < deadline) await sleep(20);
    expect(streamsOf.open).toBe(0);
    const polls = streamsOf.polls;
    await sleep(4 * POLL_MS);
    expect(streamsOf.polls).toBe(polls);
  });

  it('ends open streams cleanly when the server shuts down', async () => {
    const doomed = await start();
    const order = pendingOrder();
    await model.order(order);
    const stream = await open(order.orderId, await tokenFor('customer', ALICE), {}, doomed);
    expect(await stream.nextEvent()).toMatchObject({ id: '1' });

    // As query-api/main.ts does on SIGTERM.
    const started = Date.now();
    const stopped = doomed.server.close();
    doomed.api.orderStreams.endAll();
    expect(await stream.next()).toBeUndefined();
    await stopped;
    await doomed.api.close();
    running.splice(running.indexOf(doomed), 1);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(doomed.api.orderStreams.open).toBe(0);
  });

  it('answers 204 to an EventSource reconnecting with the last event id of a settled order', async () => {
    const order = pendingOrder({ status: 'confirmed', history: ['OrderPlaced', 'OrderConfirmed'] });
    await model.order(order);
    const alice = await tokenFor('customer', ALICE);
    const seen = await open(order.orderId, alice, { 'Last-Event-ID': '2' });
    expect(seen.response.status).toBe(204);
    expect(await seen.next()).toBeUndefined();
    const stale = await open(order.orderId, alice, { 'Last-Event-ID': '1' });
    expect(stale.response.status).toBe(200);
    expect(await stale.next()).toMatchObject({ id: '2', data: { progress: 'confirmed' } });
    expect(await stale.next()).toBeUndefined();
  });

  it('is documented in /openapi.json as text/event-stream', async () => {
    const res = await call(main.server.url, 'GET', '/openapi.json');
    const paths = res.body.paths as Record<string, Record<string, Record<string, unknown>>>;
    const op = paths['/orders/{id}/stream']?.get;
    expect(op?.responses).toMatchObject({
      '200': { content: { 'text/event-stream': expect.any(Object) } },
      '404': expect.any(Object),
    });
  });
});
