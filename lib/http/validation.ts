import type { Request, Response } from 'express';
import type { z } from 'zod';
import { sendProblem } from './problem';

/** `items[0].quantity` from zod's path ['items', 0, 'quantity']. */
export function fieldPath(path: readonly PropertyKey[]): string {
  return path
    .map((part, i) =>
      typeof part === 'number' ? `[${part}]` : i === 0 ? String(part) : `.${String(part)}`,
    )
    .join('');
}

/**
 * The request body parsed by `schema`, or undefined after answering 400 with a problem that
 * names every field at fault.
 */
export function parseBody<T extends z.ZodType>(
  schema: T,
  req: Request,
  res: Response,
): z.infer<T> | undefined {
  const parsed = schema.safeParse(req.body ?? {});
  if (parsed.success) return parsed.data;
  const errors = parsed.error.issues.map((issue) => ({
    field: fieldPath(issue.path) || '(body)',
    message: issue.message,
  }));
  sendProblem(res, {
    type: 'urn:orderstream:problem:invalid-request',
    title: 'Invalid request',
    status: 400,
    detail: errors.map((e) => `${e.field}: ${e.message}`).join('; '),
    errors,
  });
  return undefined;
}
