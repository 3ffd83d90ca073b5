import { type Response, Router } from 'express';
import { refuseControlCharactersInParams } from '../../lib/http/input-guard';
import { sendProblem } from '../../lib/http/problem';
import type { Logger } from '../../lib/logger';
import { fromPgText } from '../../lib/postgres-text';
import {
  isSettled,
  type OrderStatusRow,
  orderStatus,
  orderStatusJson,
} from '../../read-models/orders/queries';
import { everyShard } from '../read-side/shard-reader';
import { anyRole, ownCustomer, type QueryContext } from './context';
import { orderNotFound } from './order-routes';
import { READ_FROM_HEADER, readConsistency } from './read-request';

export interface OrderStreamOptions {
  /** How often an open stream reads its order again (default 200 ms). */
  pollMs: number;
  /** How often an open stream sends a `: keep-alive` comment (default 15 s). */
  keepAliveMs: number;
  logger: Logger;
}

/**
 * The open `GET /orders/{id}/stream` responses: counted, and ended together when the server
 * shuts down (an open stream would otherwise hold `server.close()` until its order settles).
 */
export class OrderStreams {
  private readonly ends = new Set<() => void>();
  private ending = false;
  /** Read-model queries the streams' polls have made so far (each poll is one query). */
  polls = 0;

  constructor(readonly options: OrderStreamOptions) {}

  /** Streams open now. */
  get open(): number {
    return this.ends.size;
  }

  /** Whether endAll was called: no stream starts any more. */
  get ended(): boolean {
    return this.ending;
  }

  /** Registers an open stream's `end` (called on shutdown). */
  add(end: () => void): void {
    this.ends.add(end);
  }

  /** Forgets a stream that ended. */
  remove(end: () => void): void {
    this.ends.delete(end);
  }

  /** Ends every open stream (its response finishes cleanly) and refuses new ones. */
  endAll(): void {
    this.ending = true;
    for (const end of [...this.ends]) end();
  }
}

/** An order's `status` event: its SSE text (the id is the order version), data and whether settled. */
interface StatusEvent {
  version: number;
  data: ReturnType<typeof orderStatusJson>;
  text: string;
  settled: boolean;
}

/** Throws for a status the read model does not know (orderProgress). */
function statusEvent(row: OrderStatusRow): StatusEvent {
  const data = orderStatusJson(row);
  return {
    version: row.version,
    data,
    text: `id: ${row.version}\nevent: status\ndata: ${JSON.stringify(data)}\n\n`,
    settled: isSettled(data),
  };
}

/** Whether `next` shows the user something `shown` did not (status, progress or reason). */
function changed(shown: StatusEvent, next: StatusEvent): boolean {
  const [a, b] = [shown.data, next.data];
  return a.status !== b.status || a.progress !== b.progress || a.cancelReason !== b.cancelReason;
}

/**
 * `GET /orders/{id}/stream`: the order's status and saga progress as Server-Sent Events. The
 * first read is an ordinary read (auth, ownership, consistency token, follower or leader) and
 * answers a problem before the stream starts; then the leader of the order's shard is read
 * every `pollMs` (one query per poll, none once the client has gone), an event is sent when
 * status, progress or cancel reason change, and the stream ends after the event of a settled
 * order. An EventSource that reconnects with the id of a settled order's last event gets
 * 204 No Content, which tells it to stop reconnecting.
 */
export function orderStreamRoutes(ctx: QueryContext, streams: OrderStreams): Router {
  const router = Router();
  refuseControlCharactersInParams(router, 'id');
  const { pollMs, keepAliveMs, logger } = streams.options;

  router.get('/orders/:id/stream', anyRole(ctx.config), async (req, res) => {
    let gone = false;
    res.once('close', () => {
      gone = true;
    });
    const consistency = readConsistency(req, res, ctx.topics);
    if (!consistency) return;
    const orderId = req.params.id as string;
    const { results, from } = await ctx.shards.read(
      everyShard,
      consistency.positions,
      (db, schema) => orderStatus(db, schema, orderId),
    );
    const first = results.find((row) => row !== undefined);
    const owner = ownCustomer(req);
    if (!first || (owner !== undefined && fromPgText(first.customer_id) !== owner)) {
      return orderNotFound(res, orderId);
    }
    if (gone) return;
    if (streams.ended) return shuttingDown(res);
    // Before any header is sent: a row it cannot show is an ordinary 500.
    let shown = statusEvent(first);
    if (shown.settled && req.header('Last-Event-ID') === String(shown.version)) {
      res.status(204).end();
      return;
    }

    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream');
    // no-transform: proxies must not compress (and so buffer) the stream; nginx: no buffering.
    res.setHeader('Cache-Control', 'no-cache, no-transform');
    res.setHeader('X-Accel-Buffering', 'no');
    // The connection carries this stream alone: closed when it ends, so a shutdown is not
    // kept waiting for an idle keep-alive connection.
    res.setHeader('Connection', 'close');
    res.setHeader(READ_FROM_HEADER, from);
    res.flushHeaders();

    // Polled by customer, not by shard: a grow (`shards add`) may move the order to another shard.
    const customerId = fromPgText(first.customer_id);
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), keepAliveMs);
    const stop = () => {
      if (stopped) return;
      stopped = true;
      clearTimeout(timer);
      clearInterval(keepAlive);
      streams.remove(end);
    };
    function end() {
      stop();
      res.end();
    }
    streams.add(end);
    res.once('close', stop);
    // A write racing a reset connection: the stream is over, nothing more to do.
    res.on('error', stop);

    const poll = async () => {
      if (stopped) return;
      streams.polls++;
      try {
        const row = await ctx.shards.readLeader(customerId, (db, schema) =>
          orderStatus(db, schema, orderId),
        );
        if (stopped) return;
        if (!row) return end();
        const next = statusEvent(row);
        // A first read from a follower may be ahead of the leader: never show an older version.
        if (next.version >= shown.version && changed(shown, next)) {
          shown = next;
          res.write(next.text);
          if (next.settled) return end();
        }
        timer = setTimeout(poll, pollMs);
      } catch (err) {
        // The client reconnects (EventSource does) and its first read reports what is wrong.
        if (!stopped) logger.warn({ err, orderId }, 'order stream poll failed; ending the stream');
        end();
      }
    };

    res.write(shown.text);
    if (shown.settled) return end();
    timer = setTimeout(poll, pollMs);
  });

  return router;
}

function shuttingDown(res: Response): void {
  res.setHeader('Retry-After', '1');
  sendProblem(res, {
    title: 'Service Unavailable',
    status: 503,
    detail: 'the query API is shutting down; retry shortly',
  });
}
