import { accept, reject } from '../../decider';
import { type CommandOf, type EventOf, message } from '../../message';
import { isPositiveCount } from '../../validation';
import {
  discontinued,
  invalidQuantity,
  onProduct,
  productCommand,
  SAMPLE,
  withReservation,
} from '../rules';
import { holding } from '../state';

const command = message(
  'ReserveStock',
  {
    productId: 'string',
    orderId: 'string',
    quantity: 'int',
  },
  { version: 1, fingerprint: '15bdd7dd3106d6b4b189f804194aaa76298661f4fa0d3f37bc62194745dee572' },
);

const event = message(
  'StockReserved',
  {
    productId: 'string',
    orderId: 'string',
    quantity: 'int',
    /** Units available after the reservation. */
    available: 'int',
  },
  { version: 1, fingerprint: '6f6945db0893cf40ecf929265fdf41766b09b4d1acc09756642bd04c2287d700' },
);

export const reserveStock = productCommand(command, event, {
  decide: (command, state) =>
    withReservation(
      command,
      state,
      (product, held) => {
        // Applied once: a repeat is a success with nothing new, even after discontinuation.
        if (held === command.quantity) return accept();
        if (product.discontinued) return discontinued(product);
        if (held !== undefined) {
          return reject(
            'conflict',
            'reservation_exists',
            `order ${command.orderId} already holds ${held} units, ${command.quantity} requested`,
          );
        }
        // Kept apart from stock: a limit refuses even when the units are there.
        if (product.purchaseLimit !== null && command.quantity > product.purchaseLimit) {
          return reject(
            'conflict',
            'purchase_limit_exceeded',
            `at most ${product.purchaseLimit} units per order, ${command.quantity} requested`,
          );
        }
        if (command.quantity > product.available) {
          return reject(
            'conflict',
            'insufficient_stock',
            `only ${product.available} units available, ${command.quantity} requested`,
          );
        }
        return accept({
          type: 'StockReserved',
          productId: product.productId,
          orderId: command.orderId,
          quantity: command.quantity,
          available: product.available - command.quantity,
        });
      },
      isPositiveCount(command.quantity) ? undefined : invalidQuantity(command.quantity),
    ),
  evolve: onProduct((product, event) => {
    // decide never replaces a reservation, but if a stream did, the old units come back.
    const previous = product.reservations.get(event.orderId) ?? 0;
    return {
      ...product,
      available: product.available + previous - event.quantity,
      reservations: holding(product.reservations, event.orderId, event.quantity),
    };
  }),
  samples: {
    commands: [
      { type: 'ReserveStock', productId: SAMPLE.productId, orderId: SAMPLE.orderId, quantity: 2 },
    ],
    events: [
      {
        type: 'StockReserved',
        productId: SAMPLE.productId,
        orderId: SAMPLE.orderId,
        quantity: 2,
        available: 48,
      },
    ],
  },
});

export type ReserveStock = CommandOf<typeof command>;
export type StockReserved = EventOf<typeof event>;
