import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { createRemoteJWKSet, errors, type JWTPayload, jwtVerify, SignJWT } from 'jose';
import type { Config } from '../config';
import { sendProblem } from './problem';

export type Role = 'admin' | 'customer' | 'service';
export const ROLES: readonly Role[] = ['admin', 'customer', 'service'];
/** When a token's role claim holds several roles, the first of these it holds wins. */
const ROLE_PRECEDENCE: readonly Role[] = ['admin', 'service', 'customer'];

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

type JwtConfig = Config['jwt'];

/** What a request's bearer token says: who calls, or why it is refused (absent: no token). */
export type Authentication =
  | { kind: 'none' }
  | { kind: 'principal'; principal: Principal }
  | { kind: 'refused'; status: 401 | 503; detail: string };

const key = (secret: string) => new TextEncoder().encode(secret);

/** The value at a dotted claim path (`realm_access.roles`), or undefined. */
function claimAt(payload: JWTPayload, path: string): unknown {
  let at: unknown = payload;
  for (const part of path.split('.')) {
    if (typeof at !== 'object' || at === null) return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}

/** `{a: {b: value}}` for the path `a.b`. */
function claimFor(path: string, value: unknown): Record<string, unknown> {
  return path
    .split('.')
    .reduceRight<Record<string, unknown>>((inner, part) => ({ [part]: inner }), value as never);
}

/** The role a role claim (a string or an array of them) maps to here, or undefined. */
function roleOf(claim: unknown, roleMap: JwtConfig['roleMap']): Role | undefined {
  const values = (Array.isArray(claim) ? claim : [claim]).filter(
    (v): v is string => typeof v === 'string',
  );
  const roles = new Set(values.map((v) => roleMap[v] ?? v));
  return ROLE_PRECEDENCE.find((role) => roles.has(role));
}

/** The principal a verified token's claims name, or why there is none. */
export function principalOf(payload: JWTPayload, jwt: JwtConfig): Principal | string {
  const role = roleOf(claimAt(payload, jwt.roleClaim), jwt.roleMap);
  if (!role) return `the token has no known role in its ${jwt.roleClaim} claim`;
  const named = claimAt(payload, jwt.customerClaim);
  // Staff tokens of an issuer need not carry a customer claim: their `sub` names them.
  const subject = typeof named === 'string' ? named : role === 'customer' ? undefined : payload.sub;
  if (typeof subject !== 'string' || subject === '') {
    return `the token has no ${role === 'customer' ? jwt.customerClaim : 'sub'} claim`;
  }
  return { subject, role };
}

/** Signs an HS256 token for `subject` with `role` (used by `orderstream token` and tests). */
export async function issueToken(
  jwt: JwtConfig,
  subject: string,
  role: Role,
  expiresIn: string | number = '12h',
): Promise<string> {
  const claims = { ...claimFor(jwt.roleClaim, role) };
  if (jwt.customerClaim !== 'sub') Object.assign(claims, claimFor(jwt.customerClaim, subject));
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(subject)
    .setIssuer(jwt.issuer)
    .setAudience(jwt.audience)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(key(jwt.secret));
}

type VerifyToken = (token: string) => Promise<JWTPayload>;

const verifiers = new WeakMap<JwtConfig, VerifyToken>();

/**
 * Verifies tokens as `jwt` says: against the external issuer's JWKS when JWT_JWKS_URL is set
 * (RS256/ES256; jose caches the keys and fetches them again for a key id it does not know, so a
 * rotated key is picked up), else with the local HS256 secret. One verifier per config, so
 * every route shares the JWKS cache.
 */
function verifierFor(jwt: JwtConfig): VerifyToken {
  const known = verifiers.get(jwt);
  if (known) return known;
  const claims = { issuer: jwt.issuer, audience: jwt.audience };
  let verify: VerifyToken;
  if (jwt.jwksUrl) {
    const jwks = createRemoteJWKSet(new URL(jwt.jwksUrl), { cooldownDuration: 30_000 });
    verify = async (token) =>
      (await jwtVerify(token, jwks, { ...claims, algorithms: ['RS256', 'ES256'] })).payload;
  } else {
    const secret = key(jwt.secret);
    verify = async (token) =>
      (await jwtVerify(token, secret, { ...claims, algorithms: ['HS256'] })).payload;
  }
  const cached = rememberVerified(verify);
  verifiers.set(jwt, cached);
  return cached;
}

/** Verified tokens kept at most: a client sends the same token with request after request. */
const VERIFIED_TOKENS = 10_000;
/** Longest a verified token is trusted without checking its signature again (a rotated-out key). */
const VERIFIED_FOR_MS = 60_000;

/**
 * Verification with a memory of the tokens it passed: the signature check (HMAC or RSA/ECDSA)
 * and claim checks were most of the query API's CPU per read. A token is trusted again until
 * it expires, for at most VERIFIED_FOR_MS; failures are never remembered. Oldest first out.
 */
function rememberVerified(verify: VerifyToken): VerifyToken {
  const passed = new Map<string, { payload: JWTPayload; until: number }>();
  return async (token) => {
    const now = Date.now();
    const known = passed.get(token);
    if (known && known.until > now) return known.payload;
    if (known) passed.delete(token);
    const payload = await verify(token);
    const expires = typeof payload.exp === 'number' ? payload.exp * 1000 : now;
    if (passed.size >= VERIFIED_TOKENS) {
      const oldest = passed.keys().next().value;
      if (oldest !== undefined) passed.delete(oldest);
    }
    passed.set(token, { payload, until: Math.min(expires, now + VERIFIED_FOR_MS) });
    return payload;
  };
}

/** Why a token failed verification: the issuer's keys out of reach is not the caller's fault. */
function refusal(err: unknown): Authentication {
  if (err instanceof errors.JWTExpired) {
    return { kind: 'refused', status: 401, detail: 'the token has expired' };
  }
  if (err instanceof errors.JWKSTimeout || !(err instanceof errors.JOSEError)) {
    return {
      kind: 'refused',
      status: 503,
      detail: 'the token issuer’s keys (JWT_JWKS_URL) could not be fetched; try again',
    };
  }
  return { kind: 'refused', status: 401, detail: 'the token is not valid' };
}

async function verifyRequest(req: Request, jwt: JwtConfig): Promise<Authentication> {
  const header = req.headers.authorization;
  if (header === undefined) return { kind: 'none' };
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match?.[1]) {
    return {
      kind: 'refused',
      status: 401,
      detail: 'a bearer token is required (Authorization: Bearer <token>)',
    };
  }
  let payload: JWTPayload;
  try {
    payload = await verifierFor(jwt)(match[1]);
  } catch (err) {
    return refusal(err);
  }
  const principal = principalOf(payload, jwt);
  return typeof principal === 'string'
    ? { kind: 'refused', status: 401, detail: principal }
    : { kind: 'principal', principal };
}

const authentications = new WeakMap<Request, Promise<Authentication>>();

/**
 * What the request's bearer token says, verified once per request however many middlewares
 * ask (the rate limiter keys by it, the route checks its role).
 */
export function authenticate(req: Request, jwt: JwtConfig): Promise<Authentication> {
  let known = authentications.get(req);
  if (!known) {
    known = verifyRequest(req, jwt);
    authentications.set(req, known);
  }
  return known;
}

function refuse(res: Response, status: 401 | 503, detail: string): void {
  if (status === 401) res.setHeader('WWW-Authenticate', 'Bearer');
  else res.setHeader('Retry-After', '1');
  sendProblem(res, {
    title: status === 401 ? 'Unauthorized' : 'Service Unavailable',
    status,
    detail,
  });
}

/** Requires a valid bearer token whose role is one of `roles`: 401 without one, 403 for another role. */
export function requireRole(jwt: JwtConfig, ...roles: Role[]): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const auth = await authenticate(req, jwt);
    if (auth.kind === 'none') {
      return refuse(res, 401, 'a bearer token is required (Authorization: Bearer <token>)');
    }
    if (auth.kind === 'refused') return refuse(res, auth.status, auth.detail);
    const { principal } = auth;
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
