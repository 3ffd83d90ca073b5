/**
 * What one HTTP request came to: a status code, no answer within its time, or a failure
 * with its code (`error:ECONNRESET`).
 */
export type Outcome = number | 'timeout' | `error:${string}`;

/** The request failed (no connection, connection closed) rather than being answered. */
export const isFailure = (o: Outcome): o is `error:${string}` =>
  typeof o === 'string' && o.startsWith('error:');

/** Counts of outcomes, by status code (`"201"`, `"503"`, …), `timeout` and `error:<code>`. */
export type OutcomeCounts = Record<string, number>;

/** Tallies outcomes; `count(201)` is how many were acknowledged. */
export class OutcomeTally {
  private readonly counts = new Map<string, number>();
  total = 0;

  add(outcome: Outcome): void {
    const key = String(outcome);
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    this.total += 1;
  }

  count(outcome: Outcome): number {
    return this.counts.get(String(outcome)) ?? 0;
  }

  /** Every outcome seen, status codes ascending, then `timeout`, then failures by code. */
  toJSON(): OutcomeCounts {
    const order = (key: string) =>
      /^\d+$/.test(key) ? Number(key) : key === 'timeout' ? 1e4 : 1e5;
    return Object.fromEntries(
      [...this.counts].sort(([a], [b]) => order(a) - order(b) || a.localeCompare(b)),
    );
  }
}

/** `201: 5 · 202: 3 · timeout: 1` (what the table prints). */
export function describeCounts(counts: OutcomeCounts): string {
  const parts = Object.entries(counts).map(([key, n]) => `${key}: ${n}`);
  return parts.length > 0 ? parts.join(' · ') : 'none';
}
