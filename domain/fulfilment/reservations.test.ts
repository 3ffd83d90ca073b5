import type { StockReserved } from '../product/messages';
import { deepFreeze } from '../test-kit';
import {
  type OrderCommandAction,
  parseReserveCommandId,
  releaseCommandId,
  reserveCommandId,
  stockOutcomeCommandId,
} from './actions';
import { type CommandRefusal, recordStockRejected, recordStockReserved } from './reservations';

const orderId = 'o-1';
const productId = 'p-1';
const sagaReserve = reserveCommandId(orderId, productId);

const reservedEvent = (overrides: Partial<StockReserved> = {}): StockReserved =>
  deepFreeze({
    type: 'StockReserved',
    productId,
    orderId,
    quantity: 2,
    available: 8,
    ...overrides,
  });

const refusal = (overrides: Partial<CommandRefusal> = {}): CommandRefusal =>
  deepFreeze({
    commandId: sagaReserve,
    commandType: 'ReserveStock',
    reason: 'only 1 units available, 2 requested',
    ...overrides,
  });

const recordReserved: OrderCommandAction = {
  kind: 'command',
  aggregate: 'order',
  command: { type: 'RecordStockReserved', orderId, productId },
  commandId: 'saga:o-1:stock:p-1',
};
const recordRejected: OrderCommandAction = {
  kind: 'command',
  aggregate: 'order',
  command: {
    type: 'RecordStockRejected',
    orderId,
    productId,
    reason: 'only 1 units available, 2 requested',
  },
  commandId: 'saga:o-1:stock:p-1',
};

/** `given(fact).then(command)`: what the product side's fact becomes for the order. */
function given(translated: OrderCommandAction | null) {
  return {
    // biome-ignore lint/suspicious/noThenProperty: the given/when/then vocabulary; never awaited
    then(expected: OrderCommandAction | null): void {
      expect(translated).toStrictEqual(expected);
      expect(JSON.parse(JSON.stringify(translated))).toStrictEqual(translated);
    },
  };
}

describe('the product side’s answers to the saga, as order commands', () => {
  it('a StockReserved of the saga’s ReserveStock → RecordStockReserved for the order and line', () => {
    given(recordStockReserved(reservedEvent(), sagaReserve)).then(recordReserved);
  });

  it('a refused ReserveStock of the saga → RecordStockRejected with the product’s reason', () => {
    given(recordStockRejected(refusal())).then(recordRejected);
  });

  it('one command id for both words on a line, so its owner records only the first', () => {
    const reserved = recordStockReserved(reservedEvent(), sagaReserve);
    const rejected = recordStockRejected(refusal());
    expect(reserved?.commandId).toBe(rejected?.commandId);
    expect(reserved?.commandId).toBe(stockOutcomeCommandId(orderId, productId));
    // Another line of the order, another order: ids of their own.
    expect(stockOutcomeCommandId(orderId, 'p-2')).not.toBe(reserved?.commandId);
    expect(stockOutcomeCommandId('o-2', productId)).not.toBe(reserved?.commandId);
  });

  it('nothing for a reservation the saga did not ask for (made by hand)', () => {
    given(recordStockReserved(reservedEvent(), 'idem-key-from-a-person')).then(null);
    given(recordStockRejected(refusal({ commandId: 'idem-key-from-a-person' }))).then(null);
  });

  it('nothing when the event and the command id disagree on the order or the product', () => {
    given(recordStockReserved(reservedEvent({ orderId: 'o-2' }), sagaReserve)).then(null);
    given(recordStockReserved(reservedEvent({ productId: 'p-2' }), sagaReserve)).then(null);
  });

  it('nothing for the refusal of another command', () => {
    given(
      recordStockRejected(
        refusal({ commandType: 'ReleaseReservation', commandId: releaseCommandId(orderId, 'p-1') }),
      ),
    ).then(null);
    // A saga reserve id on another command type is not a reservation's answer either.
    given(recordStockRejected(refusal({ commandType: 'ReleaseReservation' }))).then(null);
  });

  it('ids with separators and escapes inside come back as they were', () => {
    const tricky = [
      ['a:reserve:b', 'c'],
      ['a', 'b:reserve:c'],
      ['a%3A', 'b%25'],
      ['%', ':'],
    ] as const;
    for (const [o, p] of tricky) {
      expect(parseReserveCommandId(reserveCommandId(o, p))).toStrictEqual({
        orderId: o,
        productId: p,
      });
      given(
        recordStockReserved(reservedEvent({ orderId: o, productId: p }), reserveCommandId(o, p)),
      ).then({
        ...recordReserved,
        command: { type: 'RecordStockReserved', orderId: o, productId: p },
        commandId: stockOutcomeCommandId(o, p),
      });
    }
  });

  it.each([
    '',
    'saga:o-1:reserve',
    'saga:o-1:release:p-1',
    'saga:o-1:stock:p-1',
    'saga:o:1:reserve:p-1',
    'saga::reserve:p-1',
    'saga:o-1:reserve:',
    'saga:o%3:reserve:p-1',
    'saga:o%3a:reserve:p-1',
    'other:o-1:reserve:p-1',
  ])('parseReserveCommandId(%p) is null: not an id reserveCommandId makes', (id) => {
    expect(parseReserveCommandId(id)).toBeNull();
  });
});
