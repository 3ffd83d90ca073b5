/**
 * A value read from a store and kept for at most `ttlMs` (measured from when the read began),
 * with one read in flight at a time. Used for the generation pointers, so a blue-green switch
 * is followed within `ttlMs` without a round trip per request.
 */
export class CachedValue<T> {
  private cached: { value: T; readAt: number } | undefined;
  private inflight: Promise<T> | undefined;

  constructor(
    private readonly load: () => Promise<T>,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The value, read again when older than the TTL or when `fresh`. When a read fails and an
   * earlier value is known, that value is returned (a pointer that cannot be read right now has
   * most likely not moved); with nothing known the error propagates.
   */
  get(fresh = false): Promise<T> {
    const cached = this.cached;
    if (!fresh && cached && this.now() - cached.readAt < this.ttlMs) {
      return Promise.resolve(cached.value);
    }
    if (this.inflight) return this.inflight;
    const readAt = this.now();
    const reading = this.load().then(
      (value) => {
        this.cached = { value, readAt };
        return value;
      },
      (err: unknown) => {
        if (this.cached) return this.cached.value;
        throw err;
      },
    );
    this.inflight = reading.finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }
}
