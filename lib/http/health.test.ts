import { checkDependencies } from './health';

describe('checkDependencies', () => {
  it('is ready when every check resolves', async () => {
    const result = await checkDependencies(
      [
        { name: 'a', check: async () => 1 },
        { name: 'b', check: async () => undefined },
      ],
      100,
    );
    expect(result).toEqual({ ready: true, dependencies: { a: 'up', b: 'up' } });
  });

  it('names a dependency that fails, and one that does not answer in time', async () => {
    const result = await checkDependencies(
      [
        { name: 'ok', check: async () => undefined },
        { name: 'broken', check: () => Promise.reject(new Error('ECONNREFUSED')) },
        { name: 'slow', check: () => new Promise((resolve) => setTimeout(resolve, 1000)) },
      ],
      50,
    );
    expect(result).toEqual({
      ready: false,
      dependencies: {
        ok: 'up',
        broken: { down: 'ECONNREFUSED' },
        slow: { down: 'no answer within 50 ms' },
      },
    });
  });
});
