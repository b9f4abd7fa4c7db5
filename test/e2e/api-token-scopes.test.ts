/**
 * Issue 19: API tokens expire and carry a scope (full, read-only, feeds-only); the guard
 * refuses what the scope does not allow, on both engines. And `kernel tokens new` and
 * `kernel users reset-mfa` at the command line.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { listAudit } from '../../src/audit/audit-log.ts';
import { createApiToken, principalForToken } from '../../src/server/auth/api-tokens.ts';
import type { Role } from '../../src/server/routes.ts';
import type { Store } from '../../src/store/store.ts';
import { runCli } from '../cli.ts';
import { testStores } from '../stores.ts';
import { type TestAccount, openPortalForSuite, type PortalSuite } from './portal-helpers.ts';

describe.each(testStores())('API token scopes and expiry on $engine (issue 19)', (engine) => {
  let store: Store;
  let accounts: Record<Role, TestAccount>;
  let portal: PortalSuite['portal'];

  openPortalForSuite(engine, (suite) => void ({ store, accounts, portal } = suite));

  const call = (token: string, method: string, url: string) =>
    portal.app.request(url, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      ...(method === 'GET' ? {} : { body: '{}' }),
    });

  it('lets a read-only token read and refuses it anything that changes something', async () => {
    const { token } = await createApiToken(store, accounts.admin.email, 'test', new Date(), {
      scope: 'read-only',
    });
    expect((await call(token, 'GET', '/api/v1/loads')).status).toBe(200);
    expect((await call(token, 'GET', '/api/v1/me')).status).toBe(200);
    for (const url of ['/api/v1/loads', '/api/v1/feeds']) {
      const refused = await call(token, 'POST', url);
      expect(refused.status, url).toBe(403);
      expect(((await refused.json()) as { error: { message: string } }).error.message).toBe(
        'This API token is read-only: it may not change anything',
      );
    }
    // The same account's full token is let through to the handler (which finds the body wanting).
    expect([400, 413, 422]).toContain((await call(accounts.admin.token, 'POST', '/api/v1/loads')).status);
  });

  it('lets a feeds-only token send feeds and nothing else, not even a read', async () => {
    const { token } = await createApiToken(store, accounts.provider.email, 'test', new Date(), {
      scope: 'feeds-only',
    });
    for (const url of ['/api/v1/loads', '/api/v1/me', '/api/v1/audit', '/api/v1/coverage']) {
      const refused = await call(token, 'GET', url);
      expect(refused.status, url).toBe(403);
      expect(((await refused.json()) as { error: { message: string } }).error.message).toContain(
        'may only send feeds',
      );
    }
    for (const url of ['/api/v1/loads', '/api/v1/feeds']) {
      const status = (await call(token, 'POST', url)).status;
      expect(status, url).not.toBe(401);
      expect(status, url).not.toBe(403);
    }
  });

  it('refuses an expired token like a revoked one, and the CLI refuses a scoped token', async () => {
    const made = new Date(Date.now() - 31 * 86_400_000);
    const expired = await createApiToken(store, accounts.analyst.email, 'test', made, { days: 30 });
    const live = await createApiToken(store, accounts.analyst.email, 'test', made, { days: 32 });
    const refused = await call(expired.token, 'GET', '/api/v1/loads');
    expect(refused.status).toBe(401);
    expect(refused.headers.get('WWW-Authenticate')).toBe('Bearer error="invalid_token"');
    expect((await call(live.token, 'GET', '/api/v1/loads')).status).toBe(200);
    const readOnly = await createApiToken(store, accounts.analyst.email, 'test', new Date(), {
      scope: 'read-only',
    });
    expect(await principalForToken(store, readOnly.token)).toBeUndefined();
    expect((await principalForToken(store, live.token))?.email).toBe(accounts.analyst.email);
    // Tokens expire by default, after 90 days.
    expect(Date.parse((await createApiToken(store, accounts.analyst.email, 'test')).expiresAt)).toBeCloseTo(
      Date.now() + 90 * 86_400_000,
      -5,
    );
    const events = await listAudit(store, { action: 'token.created', limit: 100 });
    const audit = JSON.stringify(events);
    for (const t of [expired.token, live.token, readOnly.token]) expect(audit).not.toContain(t);
    expect(events.map((e) => JSON.parse(e.details) as { scope: string })).toContainEqual(
      expect.objectContaining({ scope: 'read-only', days: 90 }),
    );
  });
});

describe('kernel tokens new --expires --scope, and kernel users reset-mfa', () => {
  const data = ['--data', mkdtempSync(path.join(os.tmpdir(), 'kernel-tokens-'))];

  it('issues scoped, expiring tokens, lists them, and resets an authenticator', async () => {
    expect((await runCli(['init', ...data])).code).toBe(0);
    expect((await runCli(['orgs', 'seed', ...data])).code).toBe(0);
    expect((await runCli(['users', 'add', '--email', 'bo@nhs.net', '--role', 'analyst', ...data])).code).toBe(
      0,
    );
    const issued = await runCli([
      'tokens',
      'new',
      '--email',
      'bo@nhs.net',
      '--expires',
      '30d',
      '--scope',
      'read-only',
      '--json',
      ...data,
    ]);
    expect(issued.code, issued.stderr).toBe(0);
    const { id, token, scope, expiresAt } = JSON.parse(issued.stdout) as Record<string, string>;
    expect(scope).toBe('read-only');
    expect(Date.parse(expiresAt as string)).toBeCloseTo(Date.now() + 30 * 86_400_000, -5);
    const list = await runCli(['tokens', 'list', ...data]);
    expect(list.stdout).toMatch(new RegExp(`${id}\\s+bo@nhs.net\\s+read-only`));
    expect(list.stdout).not.toContain(token);
    // The CLI cannot keep a scoped token to its limits, so it refuses one, saying why.
    process.env.KERNEL_TOKEN = token;
    try {
      const scoped = await runCli(['orgs', 'list', ...data]);
      expect(scoped.code).toBe(77);
      expect(scoped.stderr).toContain(
        'KERNEL_TOKEN is a read-only API token, and the CLI takes full tokens only',
      );
      expect(scoped.stderr).not.toContain(token);
    } finally {
      delete process.env.KERNEL_TOKEN;
    }

    const bad = await runCli(['tokens', 'new', '--email', 'bo@nhs.net', '--scope', 'admin', ...data]);
    expect(bad.code).toBe(64);
    expect(bad.stderr).toContain('"admin" is not a token scope');
    const long = await runCli(['tokens', 'new', '--email', 'bo@nhs.net', '--expires', '400d', ...data]);
    expect(long.code).toBe(64);
    expect(long.stderr).toContain('"400d" is not a token lifetime');

    // The list says who has yet to set up the authenticator their role needs.
    expect((await runCli(['users', 'list', ...data])).stdout).toMatch(/bo@nhs\.net\s+analyst.*not yet/);
    const listed = JSON.parse((await runCli(['users', 'list', '--json', ...data])).stdout) as unknown[];
    expect(listed).toEqual([expect.objectContaining({ email: 'bo@nhs.net', authenticator: false })]);
    const reset = await runCli(['users', 'reset-mfa', 'bo@nhs.net', ...data]);
    expect(reset.code, reset.stderr).toBe(0);
    expect(reset.stdout).toContain('Reset the authenticator of bo@nhs.net');
    const audit = await runCli(['audit', 'tail', '--action', 'auth.mfa', '--json', ...data]);
    expect(audit.stdout).toContain('auth.mfa-reset');
    const nobody = await runCli(['users', 'reset-mfa', '--email', 'nobody@nhs.net', ...data]);
    expect(nobody.code).not.toBe(0);
  });
});
