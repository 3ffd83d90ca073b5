import { type Request, Router } from 'express';
import type { ProductCommand } from '../../domain';
import { requireRole } from '../../lib/http/auth';
import { refuseControlCharactersInParams } from '../../lib/http/input-guard';
import { sendProblem } from '../../lib/http/problem';
import { parseBody } from '../../lib/http/validation';
import { topicNames } from '../../lib/topics';
import { newProductId } from '../ids';
import { IDEMPOTENCY_KEY_REUSED } from '../processor/reply';
import type { ProductCatalogue } from '../product-catalogue';
import {
  commandRunner,
  type Dispatcher,
  dispatch,
  type PreparedCommand,
  prepare,
  runCommand,
  sendNotSent,
} from './dispatch';
import { sendOutcome, sendPending } from './outcome';
import {
  createProductBody,
  reserveStockBody,
  restockBody,
  updateProductBody,
} from './request-schemas';

/** Catalogue and stock commands: admins manage products; services (the saga) reserve stock. */
export function productRoutes(d: Dispatcher, catalogue: ProductCatalogue): Router {
  const router = Router();
  refuseControlCharactersInParams(router, 'id', 'orderId');
  const admin = requireRole(d.config.jwt, 'admin');
  const service = requireRole(d.config.jwt, 'service', 'admin');
  const topic = topicNames(d.config.topics).productCommands;
  /** Sends one command for an aggregate (or a new one) and answers with its outcome. */
  const run = commandRunner<ProductCommand>(d, topic, '/products');

  /**
   * A new product's partition follows its SKU, so the same Idempotency-Key with another SKU may
   * reach an owner that never saw the key: refused here when the key already created another
   * product (the log says so), or this instance saw it decided for another request.
   */
  const keyUsedElsewhere = async (req: Request, prepared: PreparedCommand, productId: string) => {
    if (req.header('Idempotency-Key') === undefined) return false;
    const known = d.bus.status(prepared.commandId);
    if (known?.status === 'decided' && known.reply.requestHash !== prepared.requestHash) {
      return true;
    }
    const created = await catalogue.creationOf(prepared.commandId, d.config.commands.timeoutMs);
    return created !== undefined && created !== productId;
  };

  router.post('/products', admin, async (req, res) => {
    const body = parseBody(createProductBody, req, res);
    if (!body) return;
    await runCommand(d, req, res, {
      commandsTopic: topic,
      collection: '/products',
      body,
      aggregateId: undefined,
      // In its SKU's partition: that partition's owner refuses a SKU a live product holds.
      newId: (commandId) => newProductId(commandId, body.sku, d.config.topics.partitions),
      build: async (productId, prepared) => {
        if (await keyUsedElsewhere(req, prepared, productId)) {
          sendProblem(res, {
            type: `urn:orderstream:problem:${IDEMPOTENCY_KEY_REUSED}`,
            title: 'idempotency key reused',
            status: 422,
            detail: 'this Idempotency-Key was already used for a different request',
            code: IDEMPOTENCY_KEY_REUSED,
            commandId: prepared.commandId,
          });
          return undefined;
        }
        return { type: 'CreateProduct', productId, ...body };
      },
      created: true,
    });
  });

  router.patch('/products/:id', admin, async (req, res) => {
    const body = parseBody(updateProductBody, req, res);
    if (!body) return;
    const productId = req.params.id as string;
    const { price, ...details } = body;
    const hasDetails = Object.values(details).some((v) => v !== undefined);
    if (price && hasDetails) {
      // Two commands (details, then price): refuse up front what would fail the second one, so
      // a PATCH does not half-apply.
      const current = await catalogue.lookup(productId, d.config.commands.timeoutMs);
      if (current && current.price.currency !== price.currency) {
        return sendProblem(res, {
          type: 'urn:orderstream:problem:currency_mismatch',
          title: 'currency mismatch',
          status: 422,
          detail: `the product is priced in ${current.price.currency}, not ${price.currency}`,
          code: 'currency_mismatch',
          errors: [{ field: 'price.currency', message: `expected ${current.price.currency}` }],
        });
      }
    }
    const prepared = prepare(req, res, body);
    if (!prepared) return;
    const steps: ProductCommand[] = [];
    if (hasDetails) steps.push({ type: 'UpdateProductDetails', productId, ...details });
    if (price) steps.push({ type: 'ChangePrice', productId, price });
    const events = [];
    let last: Awaited<ReturnType<typeof dispatch>>;
    for (const [i, command] of steps.entries()) {
      const step = {
        ...prepared,
        commandId: i === 0 ? prepared.commandId : `${prepared.commandId}.price`,
      };
      try {
        last = await dispatch(d, topic, productId, command, step);
      } catch (err) {
        return sendNotSent(res, err);
      }
      if (!last) return sendPending(res, step.commandId);
      if (last.outcome.status === 'rejected') return sendOutcome(res, last, 200);
      events.push(...last.outcome.events);
    }
    if (!last) return;
    sendOutcome(
      res,
      { ...last, commandId: prepared.commandId, outcome: { status: 'accepted', events } },
      200,
    );
  });

  router.post('/products/:id/restock', admin, async (req, res) => {
    const body = parseBody(restockBody, req, res);
    if (!body) return;
    await run(req, res, body, req.params.id as string, (productId) => ({
      type: 'RestockProduct',
      productId,
      ...body,
    }));
  });

  router.delete('/products/:id', admin, async (req, res) => {
    await run(req, res, {}, req.params.id as string, (productId) => ({
      type: 'DiscontinueProduct',
      productId,
    }));
  });

  router.post('/products/:id/reservations', service, async (req, res) => {
    const body = parseBody(reserveStockBody, req, res);
    if (!body) return;
    await run(req, res, body, req.params.id as string, (productId) => ({
      type: 'ReserveStock',
      productId,
      ...body,
    }));
  });

  router.post('/products/:id/reservations/:orderId/release', service, async (req, res) => {
    await run(req, res, {}, req.params.id as string, (productId) => ({
      type: 'ReleaseReservation',
      productId,
      orderId: req.params.orderId as string,
    }));
  });

  router.post('/products/:id/reservations/:orderId/commit', service, async (req, res) => {
    await run(req, res, {}, req.params.id as string, (productId) => ({
      type: 'CommitReservation',
      productId,
      orderId: req.params.orderId as string,
    }));
  });

  return router;
}
