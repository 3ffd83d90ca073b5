/**
 * Stops calling a dependency that keeps failing (DESIGN §6): after `threshold` transient
 * failures in a row it opens for `cooldownMs`; then one trial call is let through (half-open),
 * and its success closes it again. While open, callers wait instead of burning attempts.
 */
export class CircuitBreaker {
  private failures = 0;
  private openUntil = 0;
  private trialInFlight = false;

  constructor(
    private readonly threshold: number,
    private readonly cooldownMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether a call may go out now; when it may not, how long until it may. */
  permit(): { allowed: true } | { allowed: false; retryInMs: number } {
    const now = this.now();
    if (this.failures < this.threshold) return { allowed: true };
    if (now < this.openUntil) return { allowed: false, retryInMs: this.openUntil - now };
    if (this.trialInFlight) return { allowed: false, retryInMs: Math.min(this.cooldownMs, 1000) };
    this.trialInFlight = true;
    return { allowed: true };
  }

  /** How long until a call may be tried (0 when closed or half-open); asks without claiming the trial. */
  blockedForMs(): number {
    return this.failures < this.threshold ? 0 : Math.max(0, this.openUntil - this.now());
  }

  succeeded(): void {
    this.failures = 0;
    this.trialInFlight = false;
  }

  failed(): void {
    this.failures += 1;
    this.trialInFlight = false;
    if (this.failures >= this.threshold) this.openUntil = this.now() + this.cooldownMs;
  }

  get state(): 'closed' | 'open' | 'half-open' {
    if (this.failures < this.threshold) return 'closed';
    return this.now() < this.openUntil ? 'open' : 'half-open';
  }
}
