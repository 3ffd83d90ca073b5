import { isSettledProgress, ORDER_PROGRESS, orderProgress } from './progress';
import { ORDER_STATUSES } from './state';

describe('order progress', () => {
  it('splits a pending order by whether every line is reserved', () => {
    expect(orderProgress('pending', false)).toBe('pending_stock');
    expect(orderProgress('pending', true)).toBe('pending_payment');
  });

  it('is the status itself once the order left pending, whatever the lines say', () => {
    for (const status of ORDER_STATUSES.filter((s) => s !== 'pending')) {
      expect(orderProgress(status, false)).toBe(status);
      expect(orderProgress(status, true)).toBe(status);
    }
  });

  it('is settled for everything but the two pending steps', () => {
    const settled = ORDER_PROGRESS.filter(isSettledProgress);
    expect(settled).toEqual(['confirmed', 'cancelled', 'shipped', 'delivered', 'returned']);
  });
});
