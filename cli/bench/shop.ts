import type { Config } from '../../lib/config';
import { issueToken } from '../../lib/http/auth';
import type { Answer, HttpTarget } from './http-client';
import { isFailure } from './outcome';

/** The bench's customers, catalogue and orders, through the command API like any client. */

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Bearer-token headers for customers `<prefix><n>`, n = 0…count-1, signed like `orderstream token`. */
export async function customerHeaders(
  config: Config,
  prefix: string,
  count: number,
): Promise<Record<string, string>[]> {
  const tokens = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      issueToken(config.jwt, `${prefix}${i}`, 'customer', '2h'),
    ),
  );
  return tokens.map(bearer);
}

export async function adminHeaders(config: Config): Promise<Record<string, string>> {
  return bearer(await issueToken(config.jwt, 'bench-admin', 'admin', '2h'));
}

/** The body of an order of one line: one unit of `productId`. */
export const oneLineOrder = (productId: string): string =>
  JSON.stringify({ items: [{ productId, quantity: 1 }] });

/**
 * Creates `count` products with `stock` units each and returns their ids. Each is retried with
 * the same Idempotency-Key until its 201 (a repeat answers the first outcome, creating nothing).
 */
export async function createProducts(
  api: HttpTarget,
  admin: Record<string, string>,
  runId: string,
  count: number,
  stock: number,
  label: string,
): Promise<string[]> {
  const create = async (i: number): Promise<string> => {
    const body = JSON.stringify({
      sku: `BENCH-${label}-${i}`,
      name: `Bench ${label} ${i}`,
      category: 'bench',
      price: { amount: 1000 + i, currency: 'EUR' },
      initialStock: stock,
    });
    const headers = { ...admin, 'idempotency-key': `bench-${runId}-${label}-${i}` };
    for (let attempt = 1; attempt <= 10; attempt += 1) {
      const answer = await api.post('/products', body, headers, 20_000, true);
      if (answer.outcome === 201 && answer.body)
        return (JSON.parse(answer.body) as { aggregateId: string }).aggregateId;
      await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
    }
    throw new Error(`product ${label} ${i} was not created after 10 attempts`);
  };
  const ids: string[] = [];
  // A few at a time: the catalogue is set up, not measured.
  await forEachConcurrently(count, 8, async (i) => {
    ids[i] = await create(i);
  });
  return ids;
}

export interface Placement {
  /** The last answer (after retries). */
  outcome: Answer['outcome'];
  attempts: number;
  /** The order's id, when it was answered 201. */
  orderId?: string;
}

const retried = (o: Answer['outcome']) =>
  o === 'timeout' || isFailure(o) || (typeof o === 'number' && o >= 500);

/**
 * Places one order, retrying a transient failure (5xx, no answer) with the same
 * Idempotency-Key, so a retry can never place a second order. A 202 is final: the order is
 * taken and will be decided.
 */
export async function placeOrder(
  api: HttpTarget,
  headers: Record<string, string>,
  body: string,
  idempotencyKey: string,
  timeoutMs: number,
  maxAttempts: number,
): Promise<Placement> {
  let answer: Answer = { outcome: 'timeout' };
  let attempts = 0;
  while (attempts < maxAttempts) {
    attempts += 1;
    answer = await api.post(
      '/orders',
      body,
      { ...headers, 'idempotency-key': idempotencyKey },
      timeoutMs,
      true,
    );
    if (!retried(answer.outcome)) break;
    await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 100 * 2 ** attempts)));
  }
  const orderId =
    answer.outcome === 201 && answer.body
      ? (JSON.parse(answer.body) as { aggregateId?: string }).aggregateId
      : undefined;
  return { outcome: answer.outcome, attempts, orderId };
}

/** Runs `work(i)` for i = 0…count-1, `concurrency` at a time. */
export async function forEachConcurrently(
  count: number,
  concurrency: number,
  work: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await work(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}
