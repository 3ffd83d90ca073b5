import { type Request, Router } from 'express';
import { type OrderCommand, orderTotal } from '../../domain';
import { requireRole } from '../../lib/http/auth';
import { refuseControlCharactersInParams } from '../../lib/http/input-guard';
import { sendProblem } from '../../lib/http/problem';
import { parseBody } from '../../lib/http/validation';
import { topicNames } from '../../lib/topics';
import type { ProductCatalogue } from '../product-catalogue';
import { commandRunner, type Dispatcher } from './dispatch';
import { placeOrderBody, reasonBody, shipBody } from './request-schemas';

/** Order commands: customers place and cancel (or return) their own orders; admins ship and deliver. */
export function orderRoutes(d: Dispatcher, catalogue: ProductCatalogue): Router {
  const router = Router();
  refuseControlCharactersInParams(router, 'id');
  const customer = requireRole(d.config.jwt, 'customer');
  const customerOrStaff = requireRole(d.config.jwt, 'customer', 'admin', 'service');
  const staff = requireRole(d.config.jwt, 'admin', 'service');
  const topic = topicNames(d.config.topics).orderCommands;
  /** Sends one command for an aggregate (or a new one) and answers with its outcome. */
  const run = commandRunner<OrderCommand>(d, topic, '/orders');

  /** A customer acts on its own orders only: the owner refuses another customer's as not found. */
  const onBehalfOf = (req: Request) =>
    req.principal?.role === 'customer' ? req.principal.subject : undefined;

  router.post('/orders', customer, async (req, res) => {
    const body = parseBody(placeOrderBody, req, res);
    if (!body) return;
    await run(
      req,
      res,
      body,
      undefined,
      async (orderId) => {
        // Prices come from the catalogue at placing time, never from the client.
        const lines = [];
        const errors = [];
        for (const [i, item] of body.items.entries()) {
          const product = await catalogue.lookup(item.productId, d.config.commands.timeoutMs);
          if (!product || product.discontinued) {
            errors.push({
              field: `items[${i}].productId`,
              message: product ? 'this product is discontinued' : 'no such product',
            });
          } else {
            lines.push({
              productId: item.productId,
              quantity: item.quantity,
              unitPrice: product.price,
            });
          }
        }
        if (errors.length > 0) {
          sendProblem(res, {
            type: 'urn:orderstream:problem:unknown_product',
            title: 'unknown product',
            status: 422,
            detail: errors.map((e) => `${e.field}: ${e.message}`).join('; '),
            code: 'unknown_product',
            errors,
          });
          return undefined;
        }
        // The owner would refuse it too; refused here, the customer learns which item at once.
        const total = orderTotal(lines);
        if (!total.ok) {
          const field = total.line === undefined ? 'items' : `items[${total.line}]`;
          sendProblem(res, {
            type: 'urn:orderstream:problem:amount_too_large',
            title: 'amount too large',
            status: 422,
            detail: `${field}: ${total.reason}`,
            code: 'amount_too_large',
            errors: [{ field, message: total.reason }],
          });
          return undefined;
        }
        return { type: 'PlaceOrder', orderId, customerId: req.principal?.subject ?? '', lines };
      },
      true,
    );
  });

  router.post('/orders/:id/cancel', customerOrStaff, async (req, res) => {
    const body = parseBody(reasonBody, req, res);
    if (!body) return;
    await run(req, res, body, req.params.id as string, (orderId) => ({
      type: 'CancelOrder',
      orderId,
      reason: body.reason ?? `cancelled by ${req.principal?.role}`,
      customerId: onBehalfOf(req) ?? null,
    }));
  });

  router.post('/orders/:id/return', customerOrStaff, async (req, res) => {
    const body = parseBody(reasonBody, req, res);
    if (!body) return;
    await run(req, res, body, req.params.id as string, (orderId) => ({
      type: 'ReturnOrder',
      orderId,
      reason: body.reason ?? 'returned',
      customerId: onBehalfOf(req) ?? null,
    }));
  });

  router.post('/orders/:id/ship', staff, async (req, res) => {
    const body = parseBody(shipBody, req, res);
    if (!body) return;
    await run(req, res, body, req.params.id as string, (orderId) => ({
      type: 'ShipOrder',
      orderId,
      trackingNumber: body.trackingNumber ?? null,
    }));
  });

  router.post('/orders/:id/deliver', staff, async (req, res) => {
    await run(req, res, {}, req.params.id as string, (orderId) => ({
      type: 'DeliverOrder',
      orderId,
    }));
  });

  return router;
}
