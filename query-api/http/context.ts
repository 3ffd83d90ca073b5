import type { Request } from 'express';
import type { Config } from '../../lib/config';
import { requireRole } from '../../lib/http/auth';
import type { ShardReader } from '../read-side/shard-reader';
import type { ViewsReader } from '../read-side/views-reader';

/** What the query API's routes read from. */
export interface QueryContext {
  config: Config;
  shards: ShardReader;
  views: ViewsReader;
  /** The topics both read stores consume (`<prefix>.product.events`, `<prefix>.order.events`). */
  topics: readonly string[];
}

/** Any signed-in caller: admin, customer or service. */
export const anyRole = (config: Config) => requireRole(config.jwt, 'admin', 'customer', 'service');

/** The customer a request is limited to (a customer reads only its own orders); staff: none. */
export function ownCustomer(req: Request): string | undefined {
  const principal = req.principal;
  if (!principal) throw new Error('route is missing its auth middleware');
  return principal.role === 'customer' ? principal.subject : undefined;
}
