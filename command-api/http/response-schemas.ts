import { z } from 'zod';
import { appendedEventSchema } from '../processor/reply';

/** The command API's answers (command-api/http/outcome.ts builds them; the OpenAPI document shows them). */

export const acceptedSchema = z.object({
  commandId: z.string(),
  status: z.literal('accepted'),
  aggregateId: z.string(),
  events: z.array(appendedEventSchema),
  consistencyToken: z
    .string()
    .describe('Also in X-Consistency-Token: send it to the query API to read your own write'),
});

export const pendingSchema = z.object({
  commandId: z.string(),
  status: z.literal('pending'),
});
