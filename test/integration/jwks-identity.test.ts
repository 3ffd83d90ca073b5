import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { listen, type RunningServer } from '../../lib/http/serve';
import { createQueryApi, type QueryApi } from '../../query-api/app';
import { call } from '../support/command-api';
import { freePort, runConfig, silentLogger } from '../support/test-env';

/**
 * Identity from an external issuer (JWT_JWKS_URL): a local JWKS server publishes an RS256 and
 * an ES256 public key; the query API verifies tokens they sign, maps the issuer's role and
 * customer claims by config, and refuses a token signed by a key the issuer does not publish.
 */

const ISSUER = 'https://issuer.example.test/realms/shop';
const AUDIENCE = 'orderstream-api';

type Alg = 'RS256' | 'ES256';
type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;

describe('bearer tokens from an external issuer (JWKS)', () => {
  let jwksServer: Server;
  let api: QueryApi;
  let server: RunningServer;
  let jwksRequests = 0;
  const keys = new Map<Alg, KeyPair>();
  let stranger: KeyPair;

  beforeAll(async () => {
    for (const alg of ['RS256', 'ES256'] as const) keys.set(alg, await generateKeyPair(alg));
    stranger = await generateKeyPair('RS256');
    const published: JWK[] = [];
    for (const [alg, pair] of keys) {
      published.push({ ...(await exportJWK(pair.publicKey)), kid: `${alg}-1`, alg, use: 'sig' });
    }
    jwksServer = createServer((_req, res) => {
      jwksRequests++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: published }));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    const { port } = jwksServer.address() as AddressInfo;
    const config = runConfig({
      // Views of its own: nothing there, so a read answers [].
      REDIS_KEY_PREFIX: `${process.env.REDIS_KEY_PREFIX}jwks-${randomBytes(3).toString('hex')}:`,
      JWT_JWKS_URL: `http://127.0.0.1:${port}/protocol/openid-connect/certs`,
      JWT_ISSUER: ISSUER,
      JWT_AUDIENCE: AUDIENCE,
      JWT_ROLE_CLAIM: 'realm_access.roles',
      JWT_CUSTOMER_CLAIM: 'customer_id',
      JWT_ROLE_MAP: 'shop-admin=admin,shop-customer=customer',
    });
    api = createQueryApi(config, silentLogger());
    server = await listen(api.app, '127.0.0.1', 0);
  });

  afterAll(async () => {
    await server?.close();
    await api?.close();
    await new Promise((resolve) => jwksServer?.close(resolve));
  });

  const sign = (
    key: KeyPair['privateKey'],
    alg: Alg,
    kid: string,
    claims: Record<string, unknown>,
  ) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg, kid })
      .setSubject('user-7f3a')
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(key);

  const privateKey = (alg: Alg) => {
    const pair = keys.get(alg);
    if (!pair) throw new Error(`no ${alg} key`);
    return pair.privateKey;
  };

  it.each(['RS256', 'ES256'] as const)(
    'accepts an %s token of the issuer, its role mapped',
    async (alg) => {
      const token = await sign(privateKey(alg), alg, `${alg}-1`, {
        realm_access: { roles: ['offline_access', 'shop-admin'] },
      });
      const res = await call(server.url, 'GET', '/categories', { token });
      expect(res.status).toBe(200);
      expect(res.body).toEqual([]);
      expect(jwksRequests).toBeGreaterThanOrEqual(1);
    },
  );

  it('takes the customer id from the configured claim', async () => {
    const token = await sign(privateKey('ES256'), 'ES256', 'ES256-1', {
      realm_access: { roles: ['shop-customer'] },
      customer_id: 'c-42',
    });
    // Another customer's orders: refused before any read, by the id the claim names.
    const other = await call(server.url, 'GET', '/customers/c-41/orders', { token });
    expect(other.status).toBe(403);
    expect(other.body).toMatchObject({ detail: 'a customer reads only its own orders' });
  });

  it('refuses a token signed by a key the issuer does not publish: 401 problem+json', async () => {
    const token = await sign(stranger.privateKey, 'RS256', 'RS256-1', {
      realm_access: { roles: ['shop-admin'] },
    });
    const res = await call(server.url, 'GET', '/categories', { token });
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    expect(res.body).toMatchObject({ title: 'Unauthorized', detail: 'the token is not valid' });
  });

  it('refuses a local HS256 token once an issuer is configured', async () => {
    const hs = await new SignJWT({ realm_access: { roles: ['shop-admin'] } })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('user-7f3a')
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode('x'.repeat(40)));
    const res = await call(server.url, 'GET', '/categories', { token: hs });
    expect(res.status).toBe(401);
  });

  it('refuses a token of the issuer whose role claim holds no known role', async () => {
    const token = await sign(privateKey('RS256'), 'RS256', 'RS256-1', {
      realm_access: { roles: ['offline_access'] },
    });
    const res = await call(server.url, 'GET', '/categories', { token });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({
      detail: 'the token has no known role in its realm_access.roles claim',
    });
  });
});

describe('an issuer whose keys cannot be fetched', () => {
  let api: QueryApi;
  let server: RunningServer;

  beforeAll(async () => {
    api = createQueryApi(
      runConfig({
        JWT_JWKS_URL: `http://127.0.0.1:${await freePort()}/certs`,
        JWT_ISSUER: ISSUER,
        JWT_AUDIENCE: AUDIENCE,
      }),
      silentLogger(),
    );
    server = await listen(api.app, '127.0.0.1', 0);
  });

  afterAll(async () => {
    await server?.close();
    await api?.close();
  });

  it('answers 503 with Retry-After: the token could not be checked, not found bad', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const token = await new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setSubject('u-1')
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('5m')
      .sign(privateKey);
    const res = await call(server.url, 'GET', '/categories', { token });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });
});
