import { loadConfig } from '../lib/config';
import { OperatorError } from '../lib/errors';
import { issueToken } from '../lib/http/auth';

/**
 * `orderstream seed`: a demo catalogue and a few customers' orders, sent to the command API like
 * any client would (HTTP, local dev tokens), so a new user sees a living system in one command.
 * Every command carries a fixed Idempotency-Key: a re-run gets the first answers back and the
 * owners append nothing, and the product ids (derived from the key) stay the same.
 */

interface SeedProduct {
  sku: string;
  name: string;
  category: 'electronics' | 'books' | 'clothing' | 'home';
  price: number;
  stock: number;
}

export const SEED_CATEGORIES = ['electronics', 'books', 'clothing', 'home'] as const;

export const SEED_PRODUCTS: readonly SeedProduct[] = [
  {
    sku: 'SEED-EL-HEADPHONES',
    name: 'Wireless headphones',
    category: 'electronics',
    price: 8999,
    stock: 40,
  },
  {
    sku: 'SEED-EL-KEYBOARD',
    name: 'Mechanical keyboard',
    category: 'electronics',
    price: 12950,
    stock: 25,
  },
  {
    sku: 'SEED-EL-CHARGER',
    name: 'USB-C charger 65 W',
    category: 'electronics',
    price: 3499,
    stock: 120,
  },
  {
    sku: 'SEED-BK-DDIA',
    name: 'Designing Data-Intensive Applications',
    category: 'books',
    price: 4599,
    stock: 60,
  },
  {
    sku: 'SEED-BK-KAFKA',
    name: 'Kafka: The Definitive Guide',
    category: 'books',
    price: 3999,
    stock: 45,
  },
  {
    sku: 'SEED-BK-TSPL',
    name: 'Programming TypeScript',
    category: 'books',
    price: 3299,
    stock: 30,
  },
  {
    sku: 'SEED-CL-HOODIE',
    name: 'Organic cotton hoodie',
    category: 'clothing',
    price: 5900,
    stock: 80,
  },
  {
    sku: 'SEED-CL-SOCKS',
    name: 'Wool socks, 3 pairs',
    category: 'clothing',
    price: 1800,
    stock: 200,
  },
  { sku: 'SEED-CL-JACKET', name: 'Rain jacket', category: 'clothing', price: 11900, stock: 20 },
  { sku: 'SEED-HM-MUG', name: 'Stoneware mug', category: 'home', price: 1299, stock: 150 },
  { sku: 'SEED-HM-LAMP', name: 'Desk lamp', category: 'home', price: 4950, stock: 35 },
  { sku: 'SEED-HM-KETTLE', name: 'Electric kettle', category: 'home', price: 3990, stock: 50 },
];

/** Each customer's orders, as [sku, quantity] lines. */
export const SEED_ORDERS: Readonly<Record<string, readonly (readonly [string, number])[][]>> = {
  'seed-ada': [
    [
      ['SEED-EL-KEYBOARD', 1],
      ['SEED-BK-DDIA', 1],
    ],
    [['SEED-HM-MUG', 4]],
  ],
  'seed-grace': [
    [
      ['SEED-EL-HEADPHONES', 1],
      ['SEED-CL-SOCKS', 2],
    ],
    [['SEED-BK-KAFKA', 1]],
  ],
  'seed-linus': [
    [
      ['SEED-CL-HOODIE', 1],
      ['SEED-HM-LAMP', 1],
      ['SEED-EL-CHARGER', 2],
    ],
  ],
};

export interface SeedOptions {
  url?: string;
}

interface Answer {
  status: number;
  body: { aggregateId?: string; code?: string; detail?: string };
}

export async function seed(options: SeedOptions): Promise<void> {
  const config = loadConfig();
  const api = (options.url ?? `http://127.0.0.1:${config.http.commandApiPort}`).replace(/\/$/, '');
  const send = async (
    path: string,
    subject: string,
    role: 'admin' | 'customer',
    key: string,
    body: unknown,
  ) => created(api, path, await issueToken(config.jwt, subject, role, '10m'), key, body);

  // Concurrent: each command is its own aggregate's, so their order does not matter.
  const productIds = new Map(
    await Promise.all(
      SEED_PRODUCTS.map(async (p) => {
        const id = await send('/products', 'seed-admin', 'admin', `seed-product-${p.sku}`, {
          sku: p.sku,
          name: p.name,
          category: p.category,
          price: { amount: p.price, currency: 'EUR' },
          initialStock: p.stock,
        });
        return [p.sku, id] as const;
      }),
    ),
  );
  const orders = Object.entries(SEED_ORDERS).flatMap(([customer, customerOrders]) =>
    customerOrders.map((lines, n) => ({ customer, n, lines })),
  );
  await Promise.all(
    orders.map(({ customer, n, lines }) => {
      const items = lines.map(([sku, quantity]) => ({ productId: productIds.get(sku), quantity }));
      return send('/orders', customer, 'customer', `seed-order-${customer}-${n}`, { items });
    }),
  );
  process.stdout.write(
    `seed: ${SEED_PRODUCTS.length} products in ${SEED_CATEGORIES.join(', ')}; ` +
      `${orders.length} orders from ${Object.keys(SEED_ORDERS).join(', ')} (again: nothing new is appended)\n`,
  );
}

/**
 * POSTs one command and returns the id of its aggregate. A 202 (not decided in time) is asked
 * again with the same key until decided; a refusal ends the seed with the API's reason.
 */
async function created(
  api: string,
  path: string,
  token: string,
  key: string,
  body: unknown,
): Promise<string> {
  for (let attempt = 1; attempt <= 20; attempt += 1) {
    const answer = await post(api, path, token, key, body);
    if ((answer.status === 201 || answer.status === 200) && answer.body.aggregateId) {
      return answer.body.aggregateId;
    }
    if (answer.status !== 202 && answer.status !== 503) {
      throw new OperatorError(
        `seed: POST ${path} (Idempotency-Key ${key}) answered ${answer.status} ${answer.body.code ?? ''}: ${answer.body.detail ?? ''}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
  }
  throw new OperatorError(
    `seed: POST ${path} (Idempotency-Key ${key}) was not decided after 20 attempts`,
  );
}

async function post(
  api: string,
  path: string,
  token: string,
  key: string,
  body: unknown,
): Promise<Answer> {
  let response: Response;
  try {
    response = await fetch(`${api}${path}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'idempotency-key': key,
      },
      body: JSON.stringify(body),
    });
  } catch (err) {
    const cause =
      err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err);
    throw new OperatorError(
      `command API not reachable at ${api} (${cause}): start it (\`npm start\`), or pass --url / set COMMAND_API_PORT`,
    );
  }
  const text = await response.text();
  let parsed: Answer['body'] = {};
  try {
    parsed = JSON.parse(text) as Answer['body'];
  } catch {
    parsed = { detail: text.slice(0, 200) };
  }
  return { status: response.status, body: parsed };
}
