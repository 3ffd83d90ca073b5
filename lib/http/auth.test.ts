import type { Request } from 'express';
import { loadConfig } from '../config';
import { authenticate, issueToken, principalOf } from './auth';

describe('the principal a token names', () => {
  const jwt = loadConfig({
    JWT_ROLE_CLAIM: 'realm_access.roles',
    JWT_CUSTOMER_CLAIM: 'customer_id',
    JWT_ROLE_MAP: 'shop-admin=admin,shop-customer=customer',
  }).jwt;

  it('maps the issuer’s role values and takes the customer id from its claim', () => {
    expect(
      principalOf(
        { sub: 'u-1', realm_access: { roles: ['offline', 'shop-customer'] }, customer_id: 'c-9' },
        jwt,
      ),
    ).toEqual({ role: 'customer', subject: 'c-9' });
  });

  it('prefers admin over service over customer, and names staff by sub', () => {
    expect(
      principalOf({ sub: 'u-2', realm_access: { roles: ['shop-customer', 'shop-admin'] } }, jwt),
    ).toEqual({ role: 'admin', subject: 'u-2' });
  });

  it('says why a token names no principal', () => {
    expect(principalOf({ sub: 'u-3', realm_access: { roles: ['x'] } }, jwt)).toBe(
      'the token has no known role in its realm_access.roles claim',
    );
    expect(principalOf({ sub: 'u-3', realm_access: { roles: 'shop-customer' } }, jwt)).toBe(
      'the token has no customer_id claim',
    );
  });

  it('signs local tokens with the configured claims', async () => {
    const token = await issueToken(jwt, 'c-5', 'customer');
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString());
    expect(principalOf(payload, jwt)).toEqual({ role: 'customer', subject: 'c-5' });
  });
});

describe('verified tokens remembered between requests', () => {
  const jwt = loadConfig({}).jwt;
  const request = (token: string) => ({ headers: { authorization: `Bearer ${token}` } }) as Request;

  it('still refuses a remembered token once it has expired', async () => {
    const token = await issueToken(jwt, 'c-7', 'customer', '2s');
    expect(await authenticate(request(token), jwt)).toEqual({
      kind: 'principal',
      principal: { role: 'customer', subject: 'c-7' },
    });
    // The same token again is answered from memory, as long as it has not expired.
    expect((await authenticate(request(token), jwt)).kind).toBe('principal');
    await new Promise((resolve) => setTimeout(resolve, 2100));
    expect(await authenticate(request(token), jwt)).toEqual({
      kind: 'refused',
      status: 401,
      detail: 'the token has expired',
    });
  });

  it('does not remember a forged token: a changed signature is refused every time', async () => {
    const token = await issueToken(jwt, 'c-8', 'customer');
    expect((await authenticate(request(token), jwt)).kind).toBe('principal');
    const forged = `${token.slice(0, -4)}AAAA`;
    for (let i = 0; i < 2; i++) {
      expect((await authenticate(request(forged), jwt)).kind).toBe('refused');
    }
  });
});
