import { MAX_MINOR_UNITS } from '../money';
import { fold, scenario } from '../test-kit';
import { MAX_COUNT } from '../validation';
import { aggregateId, productDecider } from './decider';
import {
  type CreateProduct,
  PRODUCT_COMMAND_TYPES,
  PRODUCT_COMMANDS,
  PRODUCT_EVENT_TYPES,
  type ProductCommand,
  type ProductCommandType,
  type ProductCreated,
  type ProductEvent,
  type ProductEventType,
  type StockReserved,
} from './messages';
import { type ProductState, productStateJson } from './state';

const { given } = scenario(productDecider);

/** A state as a snapshot holds it: plain JSON, reservations an object of orderId → units. */
const inJson = (state: ProductState) => JSON.parse(JSON.stringify(productStateJson.toJson(state)));

const productId = 'p-1';
const eur = (amount: number) => ({ amount, currency: 'EUR' });

const create: CreateProduct = {
  type: 'CreateProduct',
  productId,
  sku: 'SKU-1',
  name: 'Mug',
  description: 'Holds coffee',
  category: 'kitchen',
  price: eur(1299),
  initialStock: 10,
};
const created: ProductCreated = { ...create, type: 'ProductCreated' };
const discontinued: ProductEvent = { type: 'ProductDiscontinued', productId };
const reserved = (orderId: string, quantity: number, available: number): StockReserved => ({
  type: 'StockReserved',
  productId,
  orderId,
  quantity,
  available,
});

/** A valid command of the types this file tests. */
const sample = {
  CreateProduct: create,
  UpdateProductDetails: { type: 'UpdateProductDetails', productId, name: 'Big mug' },
  ChangePrice: { type: 'ChangePrice', productId, price: eur(1499) },
  RestockProduct: { type: 'RestockProduct', productId, quantity: 5 },
  ReserveStock: { type: 'ReserveStock', productId, orderId: 'o-1', quantity: 2 },
  ReleaseReservation: { type: 'ReleaseReservation', productId, orderId: 'o-1' },
  CommitReservation: { type: 'CommitReservation', productId, orderId: 'o-1' },
  DiscontinueProduct: { type: 'DiscontinueProduct', productId },
} satisfies { [K in ProductCommandType]?: Extract<ProductCommand, { type: K }> };

/** Every command type's sample (from its module), on this file's product: for checks that
 *  apply to all of them, so a new command needs no line here. */
const everyCommand: ProductCommand[] = PRODUCT_COMMANDS.flatMap((m) =>
  m.samples.commands.slice(0, 1).map((command): ProductCommand => ({ ...command, productId })),
);

type Equal<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

describe('product catalogue', () => {
  it('lists exactly the command and event types of the unions', () => {
    const commandsMatch: Equal<ProductCommandType, ProductCommand['type']> = true;
    const eventsMatch: Equal<ProductEventType, ProductEvent['type']> = true;
    expect([commandsMatch, eventsMatch]).toEqual([true, true]);
    expect(everyCommand.map((c) => c.type)).toEqual([...PRODUCT_COMMAND_TYPES]);
    expect(new Set(PRODUCT_EVENT_TYPES).size).toBe(PRODUCT_COMMANDS.length);
  });

  it('names the aggregate of every command and event', () => {
    for (const command of everyCommand) expect(aggregateId(command)).toBe(productId);
    expect(aggregateId(reserved('o-1', 1, 9))).toBe(productId);
  });
});

describe('CreateProduct', () => {
  it('creates a product', () => {
    const state = given([]).when(create).then([created]);
    expect(inJson(state)).toMatchObject({ exists: true, available: 10 });
    expect(inJson(state).reservations).toStrictEqual({});
  });

  it('allows an empty description and zero stock', () => {
    given([])
      .when({ ...create, description: '', initialStock: 0 })
      .then([{ ...created, description: '', initialStock: 0 }]);
  });

  it('copies only the declared money fields into the event', () => {
    const price = { amount: 5, currency: 'EUR', note: 'stray' };
    given([])
      .when({ ...create, price })
      .then([{ ...created, price: eur(5) }]);
  });

  it('rejects a product that already exists', () => {
    given([created]).when(create).thenReject('product_exists', 'conflict');
  });

  it.each([
    ['empty name', { name: '  ' }, 'name must not be empty'],
    ['empty sku', { sku: '' }, 'sku must not be empty'],
    ['empty category', { category: '' }, 'category must not be empty'],
    ['empty productId', { productId: '' }, 'productId must not be empty'],
    ['negative price', { price: eur(-1) }, 'price amount'],
    ['fractional price', { price: eur(1.5) }, 'price amount'],
    ['bad currency', { price: { amount: 1, currency: 'eur' } }, 'price currency'],
    ['missing price', { price: null }, 'price must be an object'],
    ['negative stock', { initialStock: -1 }, 'got -1'],
    ['fractional stock', { initialStock: 2.5 }, 'got 2.5'],
    ['stock beyond an Avro int', { initialStock: MAX_COUNT + 1 }, 'initialStock'],
    ['non-string description', { description: 7 }, 'description must be a string'],
  ])('rejects %s as invalid_product', (_label, patch, reason) => {
    const command = { ...create, ...patch } as unknown as ProductCommand;
    const rejection = given([]).when(command).thenReject('invalid_product', 'invalid');
    expect(rejection.reason).toContain(reason);
  });
});

describe('prices stay within MAX_MINOR_UNITS', () => {
  it('accepts the largest price, created and changed to', () => {
    given([])
      .when({ ...create, price: eur(MAX_MINOR_UNITS) })
      .then([{ ...created, price: eur(MAX_MINOR_UNITS) }]);
    given([created])
      .when({ type: 'ChangePrice', productId, price: eur(MAX_MINOR_UNITS) })
      .then([
        {
          type: 'ProductPriceChanged',
          productId,
          price: eur(MAX_MINOR_UNITS),
          previousPrice: eur(1299),
        },
      ]);
  });

  it.each([
    ['one minor unit above', MAX_MINOR_UNITS + 1],
    ['9007199254740990 (the issue)', 9_007_199_254_740_990],
    ['2^53 - 1', Number.MAX_SAFE_INTEGER],
    ['2^60', 2 ** 60],
  ])('refuses a price %s as amount_too_large', (_label, amount) => {
    const refusal = given([])
      .when({ ...create, price: eur(amount) })
      .thenReject('amount_too_large', 'invalid');
    expect(refusal.reason).toContain(`the largest amount, ${MAX_MINOR_UNITS}`);
    given([created])
      .when({ type: 'ChangePrice', productId, price: eur(amount) })
      .thenReject('amount_too_large', 'invalid');
  });
});

describe('UpdateProductDetails', () => {
  it('emits all three details, changed and unchanged', () => {
    const state = given([created])
      .when({ type: 'UpdateProductDetails', productId, category: 'home', description: null })
      .then([
        {
          type: 'ProductDetailsUpdated',
          productId,
          name: 'Mug',
          description: 'Holds coffee',
          category: 'home',
        },
      ]);
    expect(state).toMatchObject({ name: 'Mug', category: 'home' });
  });

  it('may clear the description', () => {
    given([created])
      .when({ type: 'UpdateProductDetails', productId, description: '' })
      .then([
        {
          type: 'ProductDetailsUpdated',
          productId,
          name: 'Mug',
          description: '',
          category: 'kitchen',
        },
      ]);
  });

  it.each([
    ['no fields', {}],
    ['only nulls', { name: null, description: null, category: null }],
    ['an empty name', { name: '' }],
    ['an empty category', { category: ' ' }],
    ['a non-string description', { description: 3 }],
  ])('rejects %s as invalid_product', (_label, patch) => {
    const command = { type: 'UpdateProductDetails', productId, ...patch } as ProductCommand;
    given([created]).when(command).thenReject('invalid_product', 'invalid');
  });

  it('rejects an unknown or discontinued product', () => {
    given([]).when(sample.UpdateProductDetails).thenReject('product_not_found', 'not_found');
    given([created, discontinued])
      .when(sample.UpdateProductDetails)
      .thenReject('product_discontinued', 'conflict');
  });
});

describe('ChangePrice', () => {
  it('records the new and the previous price', () => {
    const state = given([created])
      .when(sample.ChangePrice)
      .then([
        { type: 'ProductPriceChanged', productId, price: eur(1499), previousPrice: eur(1299) },
      ]);
    expect(state).toMatchObject({ price: eur(1499) });
  });

  it('rejects another currency than the product is priced in', () => {
    const rejection = given([created])
      .when({ type: 'ChangePrice', productId, price: { amount: 1499, currency: 'USD' } })
      .thenReject('currency_mismatch', 'invalid');
    expect(rejection.reason).toContain('USD');
    expect(rejection.reason).toContain('EUR');
  });

  it('rejects bad money, an unknown product and a discontinued one', () => {
    given([created])
      .when({ type: 'ChangePrice', productId, price: eur(-5) })
      .thenReject('invalid_product', 'invalid');
    given([]).when(sample.ChangePrice).thenReject('product_not_found', 'not_found');
    given([created, discontinued])
      .when(sample.ChangePrice)
      .thenReject('product_discontinued', 'conflict');
  });
});

describe('RestockProduct', () => {
  it('adds units and reports the new availability', () => {
    const state = given([created, reserved('o-1', 4, 6)])
      .when(sample.RestockProduct)
      .then([{ type: 'ProductRestocked', productId, quantity: 5, available: 11 }]);
    expect(inJson(state)).toMatchObject({ available: 11 });
    expect(inJson(state).reservations).toStrictEqual({ 'o-1': 4 });
  });

  it.each([0, -3, 1.5, Number.NaN, '5'])('rejects quantity %p as invalid_quantity', (quantity) => {
    const command = { ...sample.RestockProduct, quantity } as ProductCommand;
    given([created]).when(command).thenReject('invalid_quantity', 'invalid');
  });

  it('rejects a restock that would exceed an Avro int', () => {
    given([{ ...created, initialStock: MAX_COUNT }])
      .when(sample.RestockProduct)
      .thenReject('invalid_quantity', 'invalid');
  });

  it('rejects an unknown or discontinued product', () => {
    given([]).when(sample.RestockProduct).thenReject('product_not_found', 'not_found');
    given([created, discontinued])
      .when(sample.RestockProduct)
      .thenReject('product_discontinued', 'conflict');
  });
});

describe('ReserveStock', () => {
  it('holds units for an order', () => {
    const state = given([created])
      .when(sample.ReserveStock)
      .then([reserved('o-1', 2, 8)]);
    expect(inJson(state)).toMatchObject({ available: 8 });
    expect(inJson(state).reservations).toStrictEqual({ 'o-1': 2 });
  });

  it('may take every available unit', () => {
    given([created])
      .when({ ...sample.ReserveStock, quantity: 10 })
      .then([reserved('o-1', 10, 0)]);
  });

  it('is applied once: the same quantity again is accepted with no events', () => {
    given([created, reserved('o-1', 2, 8)])
      .when(sample.ReserveStock)
      .then([]);
    // Even after discontinuation the repeat still succeeds: it changes nothing.
    given([created, reserved('o-1', 2, 8), discontinued])
      .when(sample.ReserveStock)
      .then([]);
  });

  it('rejects a different quantity for an order that already holds some', () => {
    const rejection = given([created, reserved('o-1', 2, 8)])
      .when({ ...sample.ReserveStock, quantity: 3 })
      .thenReject('reservation_exists', 'conflict');
    expect(rejection.reason).toBe('order o-1 already holds 2 units, 3 requested');
  });

  it('never lets stock go below zero', () => {
    const rejection = given([created, reserved('o-9', 7, 3)])
      .when({ ...sample.ReserveStock, quantity: 5 })
      .thenReject('insufficient_stock', 'conflict');
    expect(rejection.reason).toBe('only 3 units available, 5 requested');
  });

  it('rejects bad input, an unknown product and a discontinued one', () => {
    given([created])
      .when({ ...sample.ReserveStock, quantity: 0 })
      .thenReject('invalid_quantity', 'invalid');
    given([created])
      .when({ ...sample.ReserveStock, orderId: '' })
      .thenReject('invalid_product', 'invalid');
    given([]).when(sample.ReserveStock).thenReject('product_not_found', 'not_found');
    given([created, discontinued])
      .when(sample.ReserveStock)
      .thenReject('product_discontinued', 'conflict');
  });

  it('keeps order ids that collide with Object.prototype names as ordinary keys', () => {
    for (const orderId of ['__proto__', 'constructor', 'toString']) {
      const state = given([created])
        .when({ ...sample.ReserveStock, orderId })
        .then([reserved(orderId, 2, 8)]);
      expect(state.exists && state.reservations.get(orderId)).toBe(2);
      const restored = productStateJson.fromJson(inJson(state));
      expect(restored.exists && restored.reservations.get(orderId)).toBe(2);
      given([created]).when({ type: 'ReleaseReservation', productId, orderId }).then([]);
    }
  });
});

describe('a product state in JSON (snapshots)', () => {
  it('reads back as the state it was: the reservations decide as before', () => {
    const history = [created, reserved('o-1', 2, 8), reserved('o-2', 3, 5)];
    const state = fold(productDecider, history);
    const restored = productStateJson.fromJson(inJson(state));
    expect(inJson(restored)).toStrictEqual(inJson(state));
    const release = { type: 'ReleaseReservation', productId, orderId: 'o-2' } as const;
    expect(productDecider.decide(release, restored)).toStrictEqual(
      productDecider.decide(release, state),
    );
    expect(productDecider.decide(release, restored)).toMatchObject({
      ok: true,
      events: [{ type: 'ReservationReleased', orderId: 'o-2', quantity: 3, available: 8 }],
    });
  });
});

describe('ReleaseReservation', () => {
  it('returns the held units', () => {
    const state = given([created, reserved('o-1', 2, 8)])
      .when(sample.ReleaseReservation)
      .then([
        { type: 'ReservationReleased', productId, orderId: 'o-1', quantity: 2, available: 10 },
      ]);
    expect(inJson(state)).toMatchObject({ available: 10 });
    expect(inJson(state).reservations).toStrictEqual({});
  });

  it('accepts releasing an unknown reservation with no events', () => {
    given([created]).when(sample.ReleaseReservation).then([]);
  });

  it('works on a discontinued product (compensation)', () => {
    given([created, reserved('o-1', 2, 8), discontinued])
      .when(sample.ReleaseReservation)
      .then([
        { type: 'ReservationReleased', productId, orderId: 'o-1', quantity: 2, available: 10 },
      ]);
  });

  it('rejects an unknown product and an empty orderId', () => {
    given([]).when(sample.ReleaseReservation).thenReject('product_not_found', 'not_found');
    given([created])
      .when({ ...sample.ReleaseReservation, orderId: ' ' })
      .thenReject('invalid_product', 'invalid');
  });
});

describe('CommitReservation', () => {
  it('lets the reserved units leave; availability is unchanged', () => {
    const state = given([created, reserved('o-1', 2, 8)])
      .when(sample.CommitReservation)
      .then([{ type: 'ReservationCommitted', productId, orderId: 'o-1', quantity: 2 }]);
    expect(inJson(state)).toMatchObject({ available: 8 });
    expect(inJson(state).reservations).toStrictEqual({});
  });

  it('works on a discontinued product', () => {
    given([created, reserved('o-1', 2, 8), discontinued])
      .when(sample.CommitReservation)
      .then([{ type: 'ReservationCommitted', productId, orderId: 'o-1', quantity: 2 }]);
  });

  it('rejects a missing reservation, twice-committed included', () => {
    given([created]).when(sample.CommitReservation).thenReject('reservation_not_found', 'conflict');
    given([
      created,
      reserved('o-1', 2, 8),
      { type: 'ReservationCommitted', productId, orderId: 'o-1', quantity: 2 },
    ])
      .when(sample.CommitReservation)
      .thenReject('reservation_not_found', 'conflict');
  });

  it('rejects an unknown product and an empty orderId', () => {
    given([]).when(sample.CommitReservation).thenReject('product_not_found', 'not_found');
    given([created])
      .when({ ...sample.CommitReservation, orderId: '' })
      .thenReject('invalid_product', 'invalid');
  });
});

describe('DiscontinueProduct', () => {
  it('discontinues once', () => {
    const state = given([created]).when(sample.DiscontinueProduct).then([discontinued]);
    expect(state).toMatchObject({ discontinued: true });
    given([created, discontinued])
      .when(sample.DiscontinueProduct)
      .thenReject('product_discontinued', 'conflict');
  });

  it('rejects an unknown product', () => {
    given([]).when(sample.DiscontinueProduct).thenReject('product_not_found', 'not_found');
  });
});

describe('every command', () => {
  const others = everyCommand
    .filter((c) => c.type !== 'CreateProduct')
    .map((c) => [c.type, c] as const);

  it.each(others)('%s on a product that does not exist is product_not_found', (_, command) => {
    const rejection = given([]).when(command).thenReject('product_not_found', 'not_found');
    expect(rejection.reason).toBe('product p-1 does not exist');
  });

  it.each(others)('%s with an empty productId is invalid_product', (_, command) => {
    given([created])
      .when({ ...command, productId: '' })
      .thenReject('invalid_product', 'invalid');
  });

  it('rejects, never throws, on malformed input', () => {
    const junk: unknown[] = [
      null,
      42,
      {},
      { type: 'Explode', productId },
      { type: 'ReserveStock' },
    ];
    for (const command of junk) {
      const decision = productDecider.decide(
        command as ProductCommand,
        fold(productDecider, [created]),
      );
      expect(decision).toMatchObject({ ok: false, rejection: { kind: 'invalid' } });
    }
  });
});

describe('evolve', () => {
  it('never mutates the state it is given', () => {
    const history: ProductEvent[] = [
      created,
      reserved('o-1', 2, 8),
      { type: 'ProductRestocked', productId, quantity: 5, available: 13 },
      { type: 'ReservationReleased', productId, orderId: 'o-1', quantity: 2, available: 15 },
      reserved('o-2', 1, 14),
      { type: 'ReservationCommitted', productId, orderId: 'o-2', quantity: 1 },
      { type: 'ProductPriceChanged', productId, price: eur(1), previousPrice: eur(1299) },
      { type: 'ProductDetailsUpdated', productId, name: 'n', description: 'd', category: 'c' },
      discontinued,
    ];
    let state: ProductState = productDecider.initialState;
    for (const event of history) {
      const before = inJson(state);
      const next = productDecider.evolve(state, event);
      expect(inJson(state)).toStrictEqual(before);
      expect(next).not.toBe(state);
      state = next;
    }
    expect(inJson(productStateJson.fromJson(inJson(state)))).toStrictEqual(inJson(state));
  });

  it('ignores events before ProductCreated', () => {
    expect(productDecider.evolve(productDecider.initialState, discontinued)).toEqual({
      exists: false,
    });
  });
});

/** A small seeded generator, so a failing sequence can be replayed. */
function random(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
}

describe('stock invariant (property style)', () => {
  it('random reserve/release/commit/restock sequences never take available below zero', () => {
    const orders = ['o-1', 'o-2', 'o-3', '__proto__', 'constructor'];
    for (let seed = 1; seed <= 200; seed++) {
      const next = random(seed);
      const initialStock = next(6);
      let state = fold(productDecider, [{ ...created, initialStock }]);
      let restocked = 0;
      let committed = 0;
      for (let step = 0; step < 60; step++) {
        const orderId = orders[next(orders.length)] ?? 'o-1';
        const commands: ProductCommand[] = [
          { type: 'ReserveStock', productId, orderId, quantity: 1 + next(8) },
          { type: 'ReleaseReservation', productId, orderId },
          { type: 'CommitReservation', productId, orderId },
          { type: 'RestockProduct', productId, quantity: 1 + next(3) },
        ];
        const command = commands[next(commands.length)] ?? commands[0];
        if (!command) continue;
        const decision = productDecider.decide(command, state);
        if (!decision.ok) continue;
        for (const event of decision.events) {
          state = productDecider.evolve(state, event);
          if (!state.exists) throw new Error('product vanished');
          if ('available' in event) expect(event.available).toBe(state.available);
          if (event.type === 'ProductRestocked') restocked += event.quantity;
          if (event.type === 'ReservationCommitted') committed += event.quantity;
        }
        if (!state.exists) throw new Error('product vanished');
        expect(state.available).toBeGreaterThanOrEqual(0);
        // Units are conserved: free + held + shipped = initial + restocked.
        const held = state.reservations.reduce((a, b) => a + b, 0);
        expect(state.available + held + committed).toBe(initialStock + restocked);
      }
    }
  });
});
