import { z } from 'zod';
import type { Config } from '../../lib/config';

/** How the simulated gateway behaves; set from the environment, changed by `PUT /admin/behaviour`. */
export interface Behaviour {
  /** Added to every payment call before it is answered. */
  latencyMs: number;
  /** Share (0..1) of payment calls answered 503, not remembered: a retry may succeed. */
  failureRate: number;
  /** Share (0..1) of payment calls that hang for `timeoutHangMs`, then answer 504. */
  timeoutRate: number;
  timeoutHangMs: number;
  /**
   * false: a timed-out call did nothing (like a 503). true: it was recorded first and only its
   * answer was lost, so a retry with the same key gets it (the case idempotency keys exist for).
   */
  timeoutAfterCharge: boolean;
  /** Authorizations above this amount (minor units) are declined; null = never. */
  declineOverAmount: number | null;
  /** Customers whose authorizations are always declined. */
  declineCustomers: string[];
  /** Every payment call answers 503 (health, admin and the payments list still answer). */
  down: boolean;
}

const rate = z.number().min(0).max(1);
const ms = z.number().int().min(0).max(600_000);

/** `PUT /admin/behaviour`: any subset of the fields; the others keep their current value. */
export const behaviourPatchSchema = z.strictObject({
  latencyMs: ms.optional(),
  failureRate: rate.optional(),
  timeoutRate: rate.optional(),
  timeoutHangMs: ms.optional(),
  timeoutAfterCharge: z.boolean().optional(),
  declineOverAmount: z.number().int().min(0).nullable().optional(),
  declineCustomers: z.array(z.string().min(1)).max(10_000).optional(),
  down: z.boolean().optional(),
});

export type BehaviourPatch = z.infer<typeof behaviourPatchSchema>;

export function behaviourFromConfig(config: Config['paymentGateway']): Behaviour {
  return {
    latencyMs: config.latencyMs,
    failureRate: config.failureRate,
    timeoutRate: config.timeoutRate,
    timeoutHangMs: config.timeoutHangMs,
    timeoutAfterCharge: false,
    declineOverAmount: config.declineOverAmount ?? null,
    declineCustomers: [...config.declineCustomers],
    down: false,
  };
}

export function applyPatch(current: Behaviour, patch: BehaviourPatch): Behaviour {
  const next: Behaviour = { ...current, ...patch };
  return { ...next, declineCustomers: [...next.declineCustomers] };
}
