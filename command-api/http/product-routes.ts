import { type Request, Router } from 'express';
import { currencyMismatch, type ProductCommand } from '../../domain';
import { requireRole } from '../../lib/http/auth';
import { refuseControlCharactersInParams } from '../../lib/http/input-guard';
import { sendProblem } from '../../lib/http/problem';
import { parseBody } from '../../lib/http/validation';
import { topicNames } from '../../lib/topics';
import { newProductId } from '../ids';
import { IDEMPOTENCY_KEY_REUSED } from '../processor/reply';
import type { CatalogueEntry, ProductCatalogue } from '../product-catalogue';
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
import { productCommandRoutes } from './product-commands';
import { createProductBody, updateProductBody } from './request-schemas';

/** Catalogue and stock commands: admins manage products; services (the saga) reserve stock. */
export function productRoutes(d: Dispatcher, catalogue: ProductCatalogue): Router {
  const router = Router();
  refuseControlCharactersInParams(router, 'id', 'orderId');
  const admin = requireRole(d.config.jwt, 'admin');
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
      // The decider's rule (domain/money.ts), asked before the first command is sent.
      let current: CatalogueEntry | undefined;
      try {
        current = await catalogue.lookup(productId, d.config.commands.timeoutMs);
      } catch (err) {
        return sendNotSent(res, err);
      }
      const mismatch = current && currencyMismatch(price, current.price, `product ${productId}`);
      if (current && mismatch) {
        return sendProblem(res, {
          type: 'urn:orderstream:problem:currency_mismatch',
          title: 'currency mismatch',
          status: 422,
          detail: mismatch,
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

  // One request on one product each: the table's routes (product-commands.ts).
  for (const r of productCommandRoutes) {
    const path = r.path.replace(/\{(\w+)\}/g, ':$1');
    router[r.method](path, requireRole(d.config.jwt, ...r.roles), async (req, res) => {
      const body = r.body ? parseBody(r.body.schema, req, res) : {};
      if (body === undefined) return;
      const orderId = (req.params.orderId as string | undefined) ?? '';
      await run(req, res, body, req.params.id as string, (productId) =>
        r.command(productId, body, orderId),
      );
    });
  }

  return router;
}
