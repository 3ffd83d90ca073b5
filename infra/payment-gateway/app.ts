import { setTimeout as sleep } from 'node:timers/promises';
import { type Express, type Response, Router } from 'express';
import { z } from 'zod';
import { createHttpApp } from '../../lib/http/app';
import { sendProblem } from '../../lib/http/problem';
import { identifier } from '../../lib/http/text';
import { parseBody, parseInput } from '../../lib/http/validation';
import type { Logger } from '../../lib/logger';
import { applyPatch, type Behaviour, type BehaviourPatch, behaviourPatchSchema } from './behaviour';
import { PaymentLedger, type PaymentRecord } from './ledger';

export interface PaymentGatewayOptions {
  logger: Logger;
  /** The behaviour it starts with (and returns to on `DELETE /admin/behaviour`). */
  behaviour: Behaviour;
  bodyLimit: string;
  healthTimeoutMs: number;
  /** Uniform in [0, 1): decides which calls fail or time out. Tests pass their own. */
  random?: () => number;
}

export interface PaymentGateway {
  app: Express;
  ledger: PaymentLedger;
  behaviour(): Behaviour;
  setBehaviour(patch: BehaviourPatch): Behaviour;
  /** Ends every pending latency and hang at once (answering 503) so the server can close. */
  stop(): void;
}

const PROBLEM = 'urn:orderstream:problem:payment-gateway';

const idempotencyKey = identifier(255);
const id = identifier(200);

const authorizeSchema = z.strictObject({
  idempotencyKey,
  orderId: id,
  customerId: id,
  amount: z.strictObject({
    amount: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
    currency: z.string().regex(/^[A-Z]{3}$/, 'expected an ISO 4217 code such as EUR'),
  }),
});

const refundSchema = z.strictObject({ idempotencyKey, paymentId: id });

/** The key of the authorization to void. */
const voidSchema = z.strictObject({ idempotencyKey });

const listSchema = z.strictObject({
  orderId: id.optional(),
  limit: z
    .string()
    .regex(/^\d+$/, 'expected a whole number')
    .transform(Number)
    .pipe(z.number().int().min(1).max(1000))
    .optional(),
});

/** The query parsed by `schema`, or undefined after answering 400 naming every field at fault. */
function parseQuery<T extends z.ZodType>(
  schema: T,
  query: unknown,
  res: Response,
): z.infer<T> | undefined {
  return parseInput(schema, query, res, {
    whole: '(query)',
    unknownKey: 'unknown query parameter',
  });
}

function unavailable(res: Response, reason: string, detail: string): void {
  if (res.headersSent || res.writableEnded) return;
  res.setHeader('Retry-After', '1');
  sendProblem(res, {
    type: `${PROBLEM}:unavailable`,
    title: 'Service Unavailable',
    status: 503,
    detail,
    reason,
  });
}

/** The payment gateway simulator: an HTTP service standing in for an external payment provider. */
export function createPaymentGateway(options: PaymentGatewayOptions): PaymentGateway {
  const { logger } = options;
  const random = options.random ?? Math.random;
  const ledger = new PaymentLedger();
  const initial = applyPatch(options.behaviour, {});
  let behaviour = initial;
  const stopping = new AbortController();

  const roll = (rate: number) => rate > 0 && random() < rate;

  /**
   * Waits `ms`; false when the caller went away (nothing more to answer) or the gateway is
   * stopping (then it has answered 503).
   */
  async function pause(ms: number, res: Response): Promise<boolean> {
    if (ms <= 0) return true;
    const gone = new AbortController();
    const onClose = () => gone.abort();
    res.once('close', onClose);
    try {
      await sleep(ms, undefined, { signal: AbortSignal.any([gone.signal, stopping.signal]) });
      return true;
    } catch {
      if (stopping.signal.aborted) unavailable(res, 'shutting_down', 'the gateway is stopping');
      return false;
    } finally {
      res.off('close', onClose);
    }
  }

  /**
   * Latency, then the faults every payment call may meet. Runs `act` (which records) unless
   * the call failed first; answers the call unless `act`'s answer is lost to a timeout.
   */
  async function simulate(
    res: Response,
    call: string,
    act: (behaviour: Behaviour) => () => void,
  ): Promise<void> {
    const b = behaviour;
    if (!(await pause(b.latencyMs, res))) return;
    if (b.down) {
      logger.info({ call }, 'simulated outage: 503');
      unavailable(res, 'gateway_down', 'the payment gateway is down (simulated outage)');
      return;
    }
    if (roll(b.failureRate)) {
      logger.info({ call }, 'simulated transient failure: 503');
      unavailable(res, 'simulated_failure', 'simulated transient failure; retry later');
      return;
    }
    const timesOut = roll(b.timeoutRate);
    const answer = timesOut && !b.timeoutAfterCharge ? undefined : act(b);
    if (!timesOut && answer) {
      answer();
      return;
    }
    logger.info({ call, recorded: answer !== undefined }, 'simulated timeout: hanging');
    if (!(await pause(b.timeoutHangMs, res))) return;
    if (res.headersSent || res.writableEnded) return;
    sendProblem(res, {
      type: `${PROBLEM}:timeout`,
      title: 'Gateway Timeout',
      status: 504,
      detail: `simulated timeout: no answer for ${b.timeoutHangMs} ms`,
      reason: 'simulated_timeout',
    });
  }

  const keyReused = (res: Response) =>
    sendProblem(res, {
      type: `${PROBLEM}:idempotency-key-reused`,
      title: 'Idempotency key reused',
      status: 422,
      code: 'idempotency_key_reused',
      detail: 'this idempotencyKey was used for another request; use a new key for a new payment',
    });

  const routes = Router();

  routes.post('/payments/authorize', async (req, res) => {
    const body = parseBody(authorizeSchema, req, res);
    if (!body) return;
    await simulate(res, 'authorize', (current) => {
      const result = ledger.authorize(body, current);
      if (result.kind === 'key_reused') return () => keyReused(res);
      if (result.kind === 'voided') {
        const { record } = result;
        logger.info({ orderId: record.orderId, paymentId: record.paymentId }, 'payment voided');
        return () =>
          res.status(402).json({
            status: 'declined',
            reason: 'voided',
            paymentId: record.paymentId,
            orderId: record.orderId,
            amount: record.amount,
          });
      }
      const { record, replayed } = result;
      logger.info(
        { orderId: record.orderId, paymentId: record.paymentId, status: record.status, replayed },
        `payment ${record.status}`,
      );
      if (record.status === 'declined') {
        return () =>
          res.status(402).json({
            status: 'declined',
            reason: record.reason,
            paymentId: record.paymentId,
            orderId: record.orderId,
            amount: record.amount,
          });
      }
      return () =>
        res.json({
          paymentId: record.paymentId,
          status: 'authorized',
          orderId: record.orderId,
          amount: record.amount,
        });
    });
  });

  routes.post('/payments/refund', async (req, res) => {
    const body = parseBody(refundSchema, req, res);
    if (!body) return;
    await simulate(res, 'refund', () => {
      const result = ledger.refund(body);
      switch (result.kind) {
        case 'key_reused':
          return () => keyReused(res);
        case 'payment_not_found':
          return () =>
            sendProblem(res, {
              type: `${PROBLEM}:payment-not-found`,
              title: 'Not Found',
              status: 404,
              code: 'payment_not_found',
              detail: `no payment ${body.paymentId} (the simulator forgets payments when it restarts)`,
            });
        case 'payment_not_authorized':
          return () =>
            sendProblem(res, {
              type: `${PROBLEM}:payment-not-authorized`,
              title: 'Conflict',
              status: 409,
              code: 'payment_not_authorized',
              detail: `payment ${body.paymentId} was declined; there is nothing to refund`,
            });
        case 'payment_voided':
          return () =>
            sendProblem(res, {
              type: `${PROBLEM}:payment-voided`,
              title: 'Conflict',
              status: 409,
              code: 'payment_voided',
              detail: `payment ${body.paymentId} was voided and its charge given back; there is nothing to refund`,
            });
        case 'recorded': {
          const { record, replayed } = result;
          logger.info(
            {
              orderId: record.orderId,
              paymentId: record.paymentId,
              refundId: record.refundId,
              replayed,
            },
            'payment refunded',
          );
          return () =>
            res.json({
              refundId: record.refundId,
              paymentId: record.paymentId,
              status: 'refunded',
              orderId: record.orderId,
              amount: record.amount,
            });
        }
      }
    });
  });

  routes.post('/payments/void', async (req, res) => {
    const body = parseBody(voidSchema, req, res);
    if (!body) return;
    await simulate(res, 'void', () => {
      const result = ledger.void(body.idempotencyKey);
      if (result.kind === 'key_reused') {
        return () =>
          sendProblem(res, {
            type: `${PROBLEM}:idempotency-key-reused`,
            title: 'Idempotency key reused',
            status: 422,
            code: 'idempotency_key_reused',
            detail:
              'this idempotencyKey belongs to a refund; void takes the key of an authorization',
          });
      }
      const { record, replayed } = result;
      logger.info(
        {
          idempotencyKey: record.idempotencyKey,
          orderId: record.orderId,
          paymentId: record.paymentId,
          givenBack: record.amount !== null,
          replayed,
        },
        'authorization voided',
      );
      return () =>
        res.json({
          voidId: record.voidId,
          status: 'voided',
          idempotencyKey: record.idempotencyKey,
          paymentId: record.paymentId,
          orderId: record.orderId,
          amount: record.amount,
        });
    });
  });

  routes.get('/payments', (req, res) => {
    const query = parseQuery(listSchema, req.query, res);
    if (!query) return;
    const limit = query.limit ?? (query.orderId === undefined ? 100 : undefined);
    const items: PaymentRecord[] = ledger.list({ orderId: query.orderId, limit });
    res.json({ items });
  });

  routes.get('/admin/behaviour', (_req, res) => {
    res.json(behaviour);
  });

  routes.put('/admin/behaviour', (req, res) => {
    const patch = parseBody(behaviourPatchSchema, req, res);
    if (!patch) return;
    res.json(setBehaviour(patch));
  });

  routes.delete('/admin/behaviour', (_req, res) => {
    behaviour = applyPatch(initial, {});
    logger.info({ behaviour }, 'behaviour reset');
    res.json(behaviour);
  });

  function setBehaviour(patch: BehaviourPatch): Behaviour {
    behaviour = applyPatch(behaviour, patch);
    logger.info({ behaviour }, 'behaviour changed');
    return behaviour;
  }

  const app = createHttpApp({
    logger,
    checks: [],
    healthTimeoutMs: options.healthTimeoutMs,
    bodyLimit: options.bodyLimit,
    routes,
  });

  return {
    app,
    ledger,
    behaviour: () => behaviour,
    setBehaviour,
    stop: () => stopping.abort(),
  };
}
