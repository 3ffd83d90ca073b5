import { Router } from 'express';
import type { Config } from '../../lib/config';
import { requireRole } from '../../lib/http/auth';
import { refuseControlCharactersInParams } from '../../lib/http/input-guard';
import { sendProblem } from '../../lib/http/problem';
import type { CommandBus } from '../command-bus';
import { actorOf } from './dispatch';
import { sendOutcome, sendPending } from './outcome';

/** `GET /commands/{id}`: the outcome of an earlier command (its sender, or staff, may ask). */
export function commandStatusRoutes(config: Config, bus: CommandBus): Router {
  const router = Router();
  refuseControlCharactersInParams(router, 'id');
  router.get(
    '/commands/:id',
    requireRole(config.jwt, 'customer', 'admin', 'service'),
    (req, res) => {
      const commandId = req.params.id as string;
      const known = bus.status(commandId);
      const owner = known?.status === 'decided' ? known.reply.actor : known?.actor;
      const staff = req.principal?.role !== 'customer';
      if (!known || (!staff && owner !== actorOf(req))) {
        return sendProblem(res, {
          title: 'Not Found',
          status: 404,
          detail: `no command ${commandId} is known here (outcomes are kept while this instance runs)`,
        });
      }
      if (known.status === 'pending') return sendPending(res, commandId);
      sendOutcome(res, known.reply, 200);
    },
  );
  return router;
}
