import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small OpenID Connect provider on loopback for the tests: discovery (OpenID Connect
 * Discovery 1.0), the authorization endpoint (code flow, PKCE S256 required), the token
 * endpoint (client_secret_basic, the code once, the verifier checked per RFC 7636 §4.6) and
 * the JWKS, signing ID tokens with RS256. Who signs in at the provider is set by the test
 * (`person`), as though they had typed their password there.
 */
export interface TestPerson {
  sub: string;
  email: string;
  email_verified?: boolean;
  groups?: string[];
  amr?: string[];
}

export interface TestProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  person: TestPerson | undefined;
  /** what the token endpoint was sent, for the test to check PKCE was used */
  tokenRequests: URLSearchParams[];
  /** signs the next ID tokens with another key, as an impostor would */
  forgeNext: boolean;
  /** sets the next ID token's nonce to this, as a replayed token would carry */
  nonceOverride: string | undefined;
  close(): Promise<void>;
}

export async function startTestProvider(redirectUri: () => string): Promise<TestProvider> {
  const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const impostor = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = 'test-key-1';
  const codes = new Map<
    string,
    { person: TestPerson; nonce: string; challenge: string; redirectUri: string }
  >();
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider: TestProvider = {
    issuer,
    clientId: 'kernel-test',
    clientSecret: randomBytes(16).toString('hex'),
    person: undefined,
    tokenRequests: [],
    forgeNext: false,
    nonceOverride: undefined,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };

  const idToken = (person: TestPerson, nonce: string, key: KeyObject): string => {
    const now = Math.floor(Date.now() / 1000);
    const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const body = `${part({ alg: 'RS256', typ: 'JWT', kid })}.${part({
      iss: issuer,
      aud: provider.clientId,
      iat: now,
      exp: now + 300,
      nonce,
      ...person,
    })}`;
    return `${body}.${sign('sha256', Buffer.from(body), key).toString('base64url')}`;
  };

  server.on('request', (req, res) => {
    const url = new URL(req.url ?? '/', issuer);
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end(JSON.stringify(value));
    };
    if (url.pathname === '/.well-known/openid-configuration') {
      json(200, {
        issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        jwks_uri: `${issuer}/jwks`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
        code_challenge_methods_supported: ['S256'],
        token_endpoint_auth_methods_supported: ['client_secret_basic'],
      });
      return;
    }
    if (url.pathname === '/jwks') {
      json(200, { keys: [{ ...keys.publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' }] });
      return;
    }
    if (url.pathname === '/authorize') {
      const q = url.searchParams;
      const ok =
        q.get('response_type') === 'code' &&
        q.get('client_id') === provider.clientId &&
        q.get('redirect_uri') === redirectUri() &&
        q.get('code_challenge_method') === 'S256' &&
        (q.get('code_challenge') ?? '').length === 43 &&
        (q.get('scope') ?? '').split(' ').includes('openid') &&
        Boolean(q.get('state')) &&
        Boolean(q.get('nonce'));
      const back = new URL(q.get('redirect_uri') ?? redirectUri());
      back.searchParams.set('state', q.get('state') ?? '');
      if (!ok || !provider.person) {
        back.searchParams.set('error', ok ? 'access_denied' : 'invalid_request');
      } else {
        const code = randomBytes(16).toString('hex');
        codes.set(code, {
          person: provider.person,
          nonce: q.get('nonce') as string,
          challenge: q.get('code_challenge') as string,
          redirectUri: q.get('redirect_uri') as string,
        });
        back.searchParams.set('code', code);
      }
      res.writeHead(302, { Location: back.toString() });
      res.end();
      return;
    }
    if (url.pathname === '/token' && req.method === 'POST') {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        const form = new URLSearchParams(body);
        provider.tokenRequests.push(form);
        const basic = Buffer.from(
          (req.headers.authorization ?? '').replace(/^Basic /, ''),
          'base64',
        ).toString();
        const grant = codes.get(form.get('code') ?? '');
        codes.delete(form.get('code') ?? ''); // a code is used once (RFC 6749 §4.1.2)
        const verifier = form.get('code_verifier') ?? '';
        const challenge = createHash('sha256').update(verifier).digest('base64url');
        if (basic !== `${provider.clientId}:${provider.clientSecret}`)
          return json(401, { error: 'invalid_client' });
        if (
          !grant ||
          form.get('grant_type') !== 'authorization_code' ||
          form.get('redirect_uri') !== grant.redirectUri ||
          challenge !== grant.challenge
        ) {
          return json(400, { error: 'invalid_grant' });
        }
        const key = provider.forgeNext ? impostor.privateKey : keys.privateKey;
        const nonce = provider.nonceOverride ?? grant.nonce;
        provider.forgeNext = false;
        provider.nonceOverride = undefined;
        return json(200, {
          access_token: randomBytes(16).toString('hex'),
          token_type: 'Bearer',
          expires_in: 300,
          id_token: idToken(grant.person, nonce, key),
        });
      });
      return;
    }
    json(404, { error: 'not_found' });
  });
  return provider;
}
