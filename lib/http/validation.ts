import type { Request, Response } from 'express';
import type { z } from 'zod';
import { sendProblem } from './problem';

export interface FieldError {
  field: string;
  message: string;
}

/** `items[0].quantity` from zod's path ['items', 0, 'quantity']. */
export function fieldPath(path: readonly PropertyKey[]): string {
  return path
    .map((part, i) =>
      typeof part === 'number' ? `[${part}]` : i === 0 ? String(part) : `.${String(part)}`,
    )
    .join('');
}

/** 400 problem+json naming every field (or header, or query parameter) at fault. */
export function sendInvalidRequest(res: Response, errors: FieldError[]): void {
  sendProblem(res, {
    type: 'urn:orderstream:problem:invalid-request',
    title: 'Invalid request',
    status: 400,
    detail: errors.map((e) => `${e.field}: ${e.message}`).join('; '),
    errors,
  });
}

/**
 * `input` parsed by `schema`, or undefined after answering 400. Unknown keys are named one by
 * one; an error about the input as a whole is named `whole` (e.g. "(body)").
 */
export function parseInput<T extends z.ZodType>(
  schema: T,
  input: unknown,
  res: Response,
  names: { whole: string; unknownKey: string },
): z.infer<T> | undefined {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  sendInvalidRequest(
    res,
    parsed.error.issues.flatMap((issue) => {
      const at = fieldPath(issue.path);
      return issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => ({ field: at ? `${at}.${key}` : key, message: names.unknownKey }))
        : [{ field: at || names.whole, message: issue.message }];
    }),
  );
  return undefined;
}

/** The request body parsed by `schema`, or undefined after answering 400 naming the fields at fault. */
export function parseBody<T extends z.ZodType>(
  schema: T,
  req: Request,
  res: Response,
): z.infer<T> | undefined {
  return parseInput(schema, req.body ?? {}, res, { whole: '(body)', unknownKey: 'unknown field' });
}
