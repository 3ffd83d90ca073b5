import { decodeConsistencyToken, encodeConsistencyToken } from './consistency-token';

describe('consistency token', () => {
  it('keeps the highest offset per partition and round-trips', () => {
    const token = encodeConsistencyToken([
      { topic: 'o.order.events', partition: 1, offset: '5' },
      { topic: 'o.order.events', partition: 1, offset: '7' },
      { topic: 'o.product.events', partition: 0, offset: '2' },
    ]);
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeConsistencyToken(token)).toEqual([
      { topic: 'o.order.events', partition: 1, offset: '7' },
      { topic: 'o.product.events', partition: 0, offset: '2' },
    ]);
  });

  it.each([
    '',
    'not-base64!',
    Buffer.from('{"a":1}').toString('base64url'),
    Buffer.from('[["t",-1,"1"]]').toString('base64url'),
  ])('rejects %p', (token) => {
    expect(decodeConsistencyToken(token)).toBeUndefined();
  });
});
