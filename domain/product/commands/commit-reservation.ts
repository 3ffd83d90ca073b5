import { accept, reject } from '../../decider';
import { type CommandOf, type EventOf, message } from '../../message';
import { onProduct, productCommand, SAMPLE, withReservation } from '../rules';
import { without } from '../state';

const command = message(
  'CommitReservation',
  { productId: 'string', orderId: 'string' },
  { version: 1, fingerprint: '8c0c387219f24c54230f9d23ad54777c9a340ea90df9ffa61729c271f441c821' },
);

/** The reserved units leave with the shipment; `available` is unchanged. */
const event = message(
  'ReservationCommitted',
  {
    productId: 'string',
    orderId: 'string',
    quantity: 'int',
  },
  { version: 1, fingerprint: '789d73b74fda953a7aaf5e349753d7ce037d7507508625b2695f9d83e9db3915' },
);

export const commitReservation = productCommand(command, event, {
  // Allowed when discontinued: orders placed before it still ship.
  decide: (command, state) =>
    withReservation(command, state, (product, held) => {
      if (held === undefined) {
        return reject(
          'conflict',
          'reservation_not_found',
          `order ${command.orderId} holds no reservation of product ${product.productId}`,
        );
      }
      return accept({
        type: 'ReservationCommitted',
        productId: product.productId,
        orderId: command.orderId,
        quantity: held,
      });
    }),
  evolve: onProduct((product, event) => ({
    ...product,
    reservations: without(product.reservations, event.orderId),
  })),
  samples: {
    commands: [{ type: 'CommitReservation', productId: SAMPLE.productId, orderId: SAMPLE.orderId }],
    events: [
      {
        type: 'ReservationCommitted',
        productId: SAMPLE.productId,
        orderId: SAMPLE.orderId,
        quantity: 2,
      },
    ],
  },
});

export type CommitReservation = CommandOf<typeof command>;
export type ReservationCommitted = EventOf<typeof event>;
