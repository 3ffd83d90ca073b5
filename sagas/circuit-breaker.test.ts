import { CircuitBreaker } from './circuit-breaker';

describe('CircuitBreaker', () => {
  let clock = 0;
  const breaker = () => new CircuitBreaker(3, 1000, () => clock);

  beforeEach(() => {
    clock = 0;
  });

  it('stays closed below the threshold and resets on success', () => {
    const b = breaker();
    b.failed();
    b.failed();
    b.succeeded();
    b.failed();
    b.failed();
    expect(b.state).toBe('closed');
    expect(b.permit()).toEqual({ allowed: true });
  });

  it('opens after the threshold, refuses calls until the cooldown ends, then lets one trial through', () => {
    const b = breaker();
    for (let i = 0; i < 3; i += 1) b.failed();
    expect(b.state).toBe('open');
    expect(b.permit()).toEqual({ allowed: false, retryInMs: 1000 });
    expect(b.blockedForMs()).toBe(1000);
    clock = 400;
    expect(b.permit()).toEqual({ allowed: false, retryInMs: 600 });
    clock = 1000;
    expect(b.state).toBe('half-open');
    expect(b.permit()).toEqual({ allowed: true });
    expect(b.permit().allowed).toBe(false); // only one trial at a time
  });

  it('closes when the trial succeeds, reopens when it fails', () => {
    const b = breaker();
    for (let i = 0; i < 3; i += 1) b.failed();
    clock = 1000;
    b.permit();
    b.failed();
    expect(b.state).toBe('open');
    clock = 2000;
    b.permit();
    b.succeeded();
    expect(b.state).toBe('closed');
  });
});
