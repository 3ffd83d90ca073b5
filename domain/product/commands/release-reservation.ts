import { accept } from '../../decider';
import { type CommandOf, type EventOf, message } from '../../message';
import { onProduct, productCommand, SAMPLE, withReservation } from '../rules';
import { without } from '../state';

const command = message(
  'ReleaseReservation',
  { productId: 'string', orderId: 'string' },
  { version: 1, fingerprint: '7a6c8b8631b8c04b158280a5076be2a830aa4f13de6c9f3f3d1fa2cfa4e84d54' },
);

const event = message(
  'ReservationReleased',
  {
    productId: 'string',
    orderId: 'string',
    quantity: 'int',
    /** Units available after the release. */
    available: 'int',
  },
  { version: 1, fingerprint: '7cb32513fc52f192378f60738c44bbee6dbeb14c50780f40ff19f30b4b15db8e' },
);

export const releaseReservation = productCommand(command, event, {
  // Allowed when discontinued: compensation must always work.
  decide: (command, state) =>
    withReservation(command, state, (product, held) =>
      held === undefined
        ? accept()
        : accept({
            type: 'ReservationReleased',
            productId: product.productId,
            orderId: command.orderId,
            quantity: held,
            available: product.available + held,
          }),
    ),
  evolve: onProduct((product, event) => ({
    ...product,
    available: product.available + event.quantity,
    reservations: without(product.reservations, event.orderId),
  })),
  samples: {
    commands: [
      { type: 'ReleaseReservation', productId: SAMPLE.productId, orderId: SAMPLE.orderId },
    ],
    events: [
      {
        type: 'ReservationReleased',
        productId: SAMPLE.productId,
        orderId: SAMPLE.orderId,
        quantity: 2,
        available: 50,
      },
    ],
  },
});

export type ReleaseReservation = CommandOf<typeof command>;
export type ReservationReleased = EventOf<typeof event>;
