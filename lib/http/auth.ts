import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { errors, jwtVerify, SignJWT } from 'jose';
import type { Config } from '../config';
import { sendProblem } from './problem';

export type Role = 'admin' | 'customer' | 'service';
export const ROLES: readonly Role[] = ['admin', 'customer', 'service'];

/** Who is calling, from a verified bearer token. */
export interface Principal {
  subject: string;
  role: Role;
}

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

const key = (secret: string) => new TextEncoder().encode(secret);

/** Signs an HS256 token for `subject` with `role` (used by `orderstream token` and tests). */
export async function issueToken(
  jwt: Config['jwt'],
  subject: string,
  role: Role,
  expiresIn: string | number = '12h',
): Promise<string> {
  return new SignJWT({ role })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(subject)
    .setIssuer(jwt.issuer)
    .setAudience(jwt.audience)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(key(jwt.secret));
}

function unauthorized(res: Response, detail: string): void {
  res.setHeader('WWW-Authenticate', 'Bearer');
  sendProblem(res, { title: 'Unauthorized', status: 401, detail });
}

/** Requires a valid bearer token whose role is one of `roles`: 401 without one, 403 for another role. */
export function requireRole(jwt: Config['jwt'], ...roles: Role[]): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1]) {
      unauthorized(res, 'a bearer token is required (Authorization: Bearer <token>)');
      return;
    }
    let principal: Principal;
    try {
      const { payload } = await jwtVerify(match[1], key(jwt.secret), {
        issuer: jwt.issuer,
        audience: jwt.audience,
        algorithms: ['HS256'],
      });
      const role = payload.role;
      if (typeof payload.sub !== 'string' || !ROLES.includes(role as Role)) {
        unauthorized(res, 'the token has no subject or no known role');
        return;
      }
      principal = { subject: payload.sub, role: role as Role };
    } catch (err) {
      unauthorized(
        res,
        err instanceof errors.JWTExpired ? 'the token has expired' : 'the token is not valid',
      );
      return;
    }
    if (!roles.includes(principal.role)) {
      sendProblem(res, {
        title: 'Forbidden',
        status: 403,
        detail: `this needs the role ${roles.join(' or ')}; the token has ${principal.role}`,
      });
      return;
    }
    req.principal = principal;
    next();
  };
}
