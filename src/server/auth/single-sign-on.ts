import { createHash, createPublicKey, verify, type JsonWebKey } from 'node:crypto';
import { appendAudit } from '../../audit/audit-log.ts';
import { KernelError } from '../../errors.ts';
import type { Store } from '../../store/store.ts';
import { isRole, ORGANISATION_ROLES, ROLES } from '../routes.ts';
import { randomId, randomSecret, sameSecret, sha256 } from './secrets.ts';
import { addUser, findUserByEmail, normaliseEmail, type UserAccount } from './user-accounts.ts';

/**
 * Single sign-on by OpenID Connect (issue 19): the authorization code flow (OpenID Connect
 * Core 1.0 §3.1) with PKCE (RFC 7636, S256), so an NHS organisation's identity provider can
 * sign its people in. The provider's claims map to a Kernel role by rules an administrator
 * sets; the account is found, or made, by the verified email claim.
 */

export interface SsoProvider {
  issuer: string;
  clientId: string;
  /** absent for a public client, which PKCE alone protects */
  clientSecret: string | null;
  /** this warehouse's callback, as registered with the provider: https://…/sign-in/sso/callback */
  redirectUri: string;
}

export interface SsoRule {
  id: string;
  claim: string;
  value: string;
  role: string;
  org: string | null;
}

const REQUEST_MINUTES = 10;
/** Clock skew allowed on `exp` and `iat` (OpenID Connect Core §3.1.3.7 leaves it to us). */
const SKEW_SECONDS = 60;

function base64url(bytes: Buffer): string {
  return bytes.toString('base64url');
}

/** Sets the one provider this warehouse trusts (`sso.configured`; the secret is not audited). */
export async function configureSso(store: Store, provider: SsoProvider, actor: string): Promise<void> {
  for (const [field, value] of [
    ['issuer', provider.issuer],
    ['redirect-uri', provider.redirectUri],
  ] as const) {
    let url: URL | undefined;
    try {
      url = new URL(value);
    } catch {
      url = undefined;
    }
    const loopback = url && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
    if (!url || (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback))) {
      throw new KernelError('usage', `The ${field} "${value}" is not an https:// URL`, {
        where: { field },
        hint: 'OpenID Connect needs TLS; plain http is allowed on loopback only, for testing',
      });
    }
  }
  await store.transaction(async (tx) => {
    await tx.run('DELETE FROM sso_provider', []);
    await tx.run(
      `INSERT INTO sso_provider (provider_key, issuer, client_id, client_secret, redirect_uri, updated_at)
       VALUES ('oidc', $1, $2, $3, $4, $5)`,
      [
        provider.issuer.replace(/\/$/, ''),
        provider.clientId,
        provider.clientSecret,
        provider.redirectUri,
        new Date().toISOString(),
      ],
    );
    await appendAudit(tx, {
      actor,
      action: 'sso.configured',
      target: 'sso:oidc',
      details: { confidentialClient: provider.clientSecret !== null },
    });
  });
}

export async function ssoProvider(store: Store): Promise<SsoProvider | undefined> {
  const [row] = await store.query<{
    issuer: string;
    client_id: string;
    client_secret: string | null;
    redirect_uri: string;
  }>('SELECT issuer, client_id, client_secret, redirect_uri FROM sso_provider');
  return row
    ? {
        issuer: row.issuer,
        clientId: row.client_id,
        clientSecret: row.client_secret,
        redirectUri: row.redirect_uri,
      }
    : undefined;
}

/** Adds a rule after the others (`sso.rule-added`). */
export async function addSsoRule(store: Store, rule: Omit<SsoRule, 'id'>, actor: string): Promise<SsoRule> {
  if (!isRole(rule.role)) {
    throw new KernelError('usage', `"${rule.role}" is not a role`, {
      where: { field: 'role' },
      hint: `Use one of: ${ROLES.join(', ')}`,
    });
  }
  if (!rule.claim.trim() || !rule.value.trim()) {
    throw new KernelError('usage', 'A rule needs a claim and a value', {
      hint: 'e.g. --claim groups --value kernel-analysts',
    });
  }
  const org = rule.org?.trim().toUpperCase() || null;
  if (ORGANISATION_ROLES.includes(rule.role) && org === null) {
    throw new KernelError('usage', `A rule giving the ${rule.role} role must name its organisation`, {
      where: { field: 'org' },
      hint: 'Add --org with its ODS code',
    });
  }
  const id = randomId('sso');
  await store.transaction(async (tx) => {
    const [last] = await tx.query<{ n: number | null }>('SELECT max(position) AS n FROM sso_rules');
    await tx.run(
      `INSERT INTO sso_rules (rule_id, position, claim, claim_value, role, org_code, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [
        id,
        Number(last?.n ?? 0) + 1,
        rule.claim.trim(),
        rule.value.trim(),
        rule.role,
        org,
        new Date().toISOString(),
      ],
    );
    await appendAudit(tx, {
      actor,
      action: 'sso.rule-added',
      target: `sso-rule:${id}`,
      details: { role: rule.role, org },
    });
  });
  return { id, claim: rule.claim.trim(), value: rule.value.trim(), role: rule.role, org };
}

export async function listSsoRules(store: Store): Promise<SsoRule[]> {
  const rows = await store.query<{
    id: string;
    claim: string;
    value: string;
    role: string;
    org: string | null;
  }>(
    `SELECT rule_id AS id, claim, claim_value AS value, role, org_code AS org FROM sso_rules ORDER BY position`,
  );
  return rows.map((r) => ({ id: r.id, claim: r.claim, value: r.value, role: r.role, org: r.org }));
}

export async function removeSsoRule(store: Store, id: string, actor: string): Promise<void> {
  await store.transaction(async (tx) => {
    const removed = await tx.run('DELETE FROM sso_rules WHERE rule_id = $1', [id]);
    if (removed === 0)
      throw new KernelError('not-found', `No rule ${id}`, { hint: 'kernel sso rules lists them' });
    await appendAudit(tx, { actor, action: 'sso.rule-removed', target: `sso-rule:${id}` });
  });
}

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
}

async function getJson(url: string, init?: RequestInit): Promise<Record<string, unknown>> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  } catch {
    throw new KernelError('busy', 'The identity provider did not answer', {
      hint: 'Try again later, or sign in with your Kernel password',
    });
  }
  const body = (await response.json().catch(() => undefined)) as unknown;
  if (!response.ok || typeof body !== 'object' || body === null) {
    throw new KernelError('busy', `The identity provider refused the request (HTTP ${response.status})`, {
      hint: 'Ask your Kernel administrator to check the single sign-on settings',
    });
  }
  return body as Record<string, unknown>;
}

/** OpenID Connect Discovery 1.0 §4: the issuer must be exactly the one configured (§4.3). */
async function discover(issuer: string): Promise<Discovery> {
  const doc = await getJson(`${issuer}/.well-known/openid-configuration`);
  const fields = ['issuer', 'authorization_endpoint', 'token_endpoint', 'jwks_uri'] as const;
  if (fields.some((f) => typeof doc[f] !== 'string') || doc.issuer !== issuer) {
    throw new KernelError('config', 'The identity provider’s discovery document does not match its issuer', {
      hint: 'Ask your Kernel administrator to check the issuer URL',
    });
  }
  return doc as unknown as Discovery;
}

/**
 * Starts a sign-in at the provider: a fresh state (bound to this browser by a cookie), nonce
 * and PKCE verifier, kept here; answers the provider's authorization URL and the state.
 */
export async function beginSsoSignIn(
  store: Store,
  next: string,
  now: Date = new Date(),
): Promise<{ url: string; state: string }> {
  const provider = await ssoProvider(store);
  if (!provider) {
    throw new KernelError('not-found', 'Single sign-on is not set up on this warehouse', {
      hint: 'Sign in with your email and password',
    });
  }
  const discovery = await discover(provider.issuer);
  const state = randomSecret();
  const nonce = randomSecret();
  const verifier = randomSecret(); // 43 base64url characters: RFC 7636 §4.1 asks for 43 to 128
  await store.run(
    `INSERT INTO sso_requests (state_hash, nonce, code_verifier, next_path, expires_at) VALUES ($1, $2, $3, $4, $5)`,
    [sha256(state), nonce, verifier, next, new Date(now.getTime() + REQUEST_MINUTES * 60_000).toISOString()],
  );
  const url = new URL(discovery.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: provider.clientId,
    redirect_uri: provider.redirectUri,
    scope: 'openid email profile',
    state,
    nonce,
    code_challenge: base64url(createHash('sha256').update(verifier).digest()),
    code_challenge_method: 'S256',
  }).toString();
  return { url: url.toString(), state };
}

export type SsoOutcome =
  { ok: true; user: UserAccount; multiFactor: boolean; next: string } | { ok: false; message: string };

/** Verifies a compact JWS (RFC 7515) with the provider's keys: RS256 or ES256 only, never `none`. */
async function verifiedClaims(
  idToken: string,
  jwksUri: string,
): Promise<Record<string, unknown> | undefined> {
  const parts = idToken.split('.');
  if (parts.length !== 3) return undefined;
  const [head, body, signature] = parts as [string, string, string];
  let header: { alg?: string; kid?: string };
  let claims: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(head, 'base64url').toString('utf8')) as typeof header;
    claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const algorithms: Record<string, { hash: string; kty: string }> = {
    RS256: { hash: 'sha256', kty: 'RSA' },
    ES256: { hash: 'sha256', kty: 'EC' },
  };
  const algorithm = header.alg ? algorithms[header.alg] : undefined;
  if (!algorithm) return undefined;
  const jwks = await getJson(jwksUri);
  const keys = (Array.isArray(jwks.keys) ? jwks.keys : []) as (JsonWebKey & { kid?: string; use?: string })[];
  const key = keys.find(
    (k) => k.kty === algorithm.kty && (header.kid === undefined || k.kid === header.kid) && k.use !== 'enc',
  );
  if (!key) return undefined;
  const ok = verify(
    algorithm.hash,
    Buffer.from(`${head}.${body}`),
    { key: createPublicKey({ key, format: 'jwk' }), dsaEncoding: 'ieee-p1363' },
    Buffer.from(signature, 'base64url'),
  );
  return ok ? claims : undefined;
}

/**
 * RFC 8176 authentication method references that show more than a password was used: `mfa`
 * itself, or two or more methods.
 */
function multiFactor(amr: unknown): boolean {
  if (!Array.isArray(amr)) return false;
  return amr.includes('mfa') || new Set(amr.filter((m) => typeof m === 'string')).size >= 2;
}

function claimHolds(claims: Record<string, unknown>, claim: string, value: string): boolean {
  const held = claims[claim];
  return Array.isArray(held) ? held.includes(value) : held === value;
}

/**
 * Finishes a sign-in back from the provider: the state must match this browser's and a live
 * request (each used once); the code is exchanged with the PKCE verifier; the ID token's
 * signature, issuer, audience, expiry and nonce are checked (OpenID Connect Core §3.1.3.7);
 * the first rule the claims satisfy gives the role, and the account is found or made by the
 * verified email. Audited: `auth.sso-signed-in`, or `auth.failed` with the reason.
 */
export async function finishSsoSignIn(
  store: Store,
  input: { state: string; code: string; browserState: string; error?: string | undefined },
  now: Date = new Date(),
): Promise<SsoOutcome> {
  const refuse = async (reason: string, message: string, target = 'user:unknown'): Promise<SsoOutcome> => {
    await store.transaction((tx) =>
      appendAudit(tx, { actor: 'anonymous', action: 'auth.failed', target, details: { reason } }),
    );
    return { ok: false, message };
  };
  if (!input.state || !input.browserState || !sameSecret(input.state, input.browserState)) {
    return refuse('sso-state', 'This sign-in did not start in this browser. Sign in again');
  }
  const [request] = await store.query<{
    nonce: string;
    code_verifier: string;
    next_path: string;
    expires_at: string;
  }>('SELECT nonce, code_verifier, next_path, expires_at FROM sso_requests WHERE state_hash = $1', [
    sha256(input.state),
  ]);
  await store.run('DELETE FROM sso_requests WHERE state_hash = $1 OR expires_at <= $2', [
    sha256(input.state),
    now.toISOString(),
  ]);
  if (!request || request.expires_at <= now.toISOString()) {
    return refuse('sso-state', 'Your sign-in has expired. Sign in again');
  }
  if (input.error || !input.code) {
    return refuse('sso-provider-refused', 'Your organisation’s sign-in did not let you in');
  }
  const provider = await ssoProvider(store);
  if (!provider) return refuse('sso-off', 'Single sign-on is not set up on this warehouse');
  const discovery = await discover(provider.issuer);
  const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded' };
  const form = new URLSearchParams({
    grant_type: 'authorization_code',
    code: input.code,
    redirect_uri: provider.redirectUri,
    code_verifier: request.code_verifier,
    client_id: provider.clientId,
  });
  if (provider.clientSecret !== null) {
    // RFC 6749 §2.3.1: client_secret_basic, each part form-encoded first.
    const basic = `${encodeURIComponent(provider.clientId)}:${encodeURIComponent(provider.clientSecret)}`;
    headers.Authorization = `Basic ${Buffer.from(basic).toString('base64')}`;
  }
  const tokens = await getJson(discovery.token_endpoint, { method: 'POST', headers, body: form.toString() });
  const claims =
    typeof tokens.id_token === 'string'
      ? await verifiedClaims(tokens.id_token, discovery.jwks_uri)
      : undefined;
  if (!claims)
    return refuse('sso-token', 'Your organisation’s sign-in answered with a token Kernel cannot trust');
  const seconds = now.getTime() / 1000;
  const audience = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  const valid =
    claims.iss === provider.issuer &&
    audience.includes(provider.clientId) &&
    (audience.length === 1 || claims.azp === provider.clientId) &&
    typeof claims.exp === 'number' &&
    claims.exp + SKEW_SECONDS > seconds &&
    typeof claims.iat === 'number' &&
    claims.iat - SKEW_SECONDS <= seconds &&
    typeof claims.nonce === 'string' &&
    sameSecret(claims.nonce, request.nonce);
  if (!valid)
    return refuse('sso-token', 'Your organisation’s sign-in answered with a token Kernel cannot trust');
  if (typeof claims.email !== 'string' || claims.email_verified === false) {
    return refuse('sso-email', 'Your organisation’s sign-in did not give a verified email address');
  }
  const email = normaliseEmail(claims.email);
  const rule = (await listSsoRules(store)).find((r) => claimHolds(claims, r.claim, r.value));
  if (!rule) return refuse('sso-no-rule', 'Your organisation’s account does not give you access to Kernel');
  const user = await accountFor(store, email, rule);
  if (!user) return refuse('sso-disabled', 'Your Kernel account is disabled');
  const mfa = multiFactor(claims.amr);
  await store.transaction((tx) =>
    appendAudit(tx, {
      actor: `user:${user.email}`,
      action: 'auth.sso-signed-in',
      target: `user:${user.id}`,
      details: { rule: rule.id, multiFactor: mfa },
    }),
  );
  return { ok: true, user, multiFactor: mfa, next: request.next_path };
}

/**
 * The account for a verified email under a rule: made on first sign-in (with a random password
 * nobody is told, so it signs in only through the provider), and given the rule's role and
 * organisation whenever they differ (`user.role-changed`). Undefined when it is disabled.
 */
async function accountFor(store: Store, email: string, rule: SsoRule): Promise<UserAccount | undefined> {
  const [row] = await store.query<{
    id: string;
    role: string;
    org_code: string | null;
    disabled_at: string | null;
  }>('SELECT id, role, org_code, disabled_at FROM users WHERE email = $1', [email]);
  if (!row) {
    const { user } = await addUser(
      store,
      { email, role: rule.role, org: rule.org ?? undefined },
      `sso-rule:${rule.id}`,
    );
    await store.run('UPDATE users SET must_change_password = $2 WHERE id = $1', [user.id, false]);
    return { ...user, mustChangePassword: false };
  }
  if (row.disabled_at !== null) return undefined;
  if (row.role !== rule.role || row.org_code !== rule.org) {
    await store.transaction(async (tx) => {
      await tx.run('UPDATE users SET role = $2, org_code = $3 WHERE id = $1', [row.id, rule.role, rule.org]);
      await appendAudit(tx, {
        actor: `sso-rule:${rule.id}`,
        action: 'user.role-changed',
        target: `user:${row.id}`,
        details: { from: row.role, to: rule.role, org: rule.org },
      });
    });
  }
  return findUserByEmail(store, email);
}
