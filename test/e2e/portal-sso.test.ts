/**
 * Issue 19: single sign-on by OpenID Connect (authorization code with PKCE) against a real
 * provider on loopback (`oidc-test-provider.ts`), through the app, on both engines.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit, verifyAudit } from '../../src/audit/audit-log.ts';
import { seedOrganisations } from '../../src/governance/organisations.ts';
import { enrolAuthenticator } from '../../src/server/auth/second-factor.ts';
import { addSsoRule, configureSso } from '../../src/server/auth/single-sign-on.ts';
import { newTotpSecret, totpCode } from '../../src/server/auth/totp.ts';
import { disableUser, findUserByEmail } from '../../src/server/auth/user-accounts.ts';
import type { Store } from '../../src/store/store.ts';
import { testStores } from '../stores.ts';
import { startTestProvider, type TestProvider } from './oidc-test-provider.ts';
import { portalApp } from './portal-helpers.ts';

const REDIRECT = 'http://127.0.0.1:8080/sign-in/sso/callback';

describe.each(testStores())('single sign-on by OpenID Connect on $engine (issue 19)', (engine) => {
  let store: Store;
  let provider: TestProvider;
  let portal: ReturnType<typeof portalApp>;

  beforeAll(async () => {
    store = await engine.open();
    await seedOrganisations(store, 'test');
    provider = await startTestProvider(() => REDIRECT);
    portal = portalApp(store);
    await configureSso(
      store,
      {
        issuer: provider.issuer,
        clientId: provider.clientId,
        clientSecret: provider.clientSecret,
        redirectUri: REDIRECT,
      },
      'cli:admin',
    );
    await addSsoRule(
      store,
      { claim: 'groups', value: 'kernel-viewers', role: 'viewer', org: null },
      'cli:admin',
    );
    await addSsoRule(store, { claim: 'groups', value: 'rwf-bi', role: 'provider', org: 'RWF' }, 'cli:admin');
  });
  afterAll(async () => {
    await provider?.close();
    await store?.close();
  });

  /**
   * Starts at Kernel, follows the provider's redirect for real over HTTP, and comes back to
   * the callback with the browser's cookie; answers the callback's response and cookies.
   */
  async function ssoSignIn(options: { tamperState?: boolean; dropCookie?: boolean } = {}) {
    const start = await portal.app.request('/sign-in/sso?next=%2Fcatalogue');
    expect(start.status).toBe(302);
    const cookie = /kernel_sso=[^;]+/.exec(start.headers.getSetCookie().join('\n'))?.[0] ?? '';
    const authorize = new URL(start.headers.get('Location') ?? '');
    expect(authorize.origin).toBe(provider.issuer);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    const atProvider = await fetch(authorize, { redirect: 'manual' });
    expect(atProvider.status).toBe(302);
    const back = new URL(atProvider.headers.get('Location') ?? '');
    if (options.tamperState) back.searchParams.set('state', 'x'.repeat(43));
    const callback = await portal.app.request(`${back.pathname}${back.search}`, {
      headers: { Cookie: options.dropCookie ? '' : cookie },
    });
    const cookies = callback.headers.getSetCookie().join('\n');
    return { callback, cookies, session: /kernel_session=([^;]+)/.exec(cookies)?.[1] };
  }

  it('signs a person in through the provider with PKCE, making their account by the rule their claims meet', async () => {
    provider.person = { sub: 'p-1', email: 'Viv@Example.NHS.uk', groups: ['staff', 'kernel-viewers'] };
    const { callback, session } = await ssoSignIn();
    expect(callback.status).toBe(303);
    expect(callback.headers.get('Location')).toBe('/catalogue');
    expect(session).toBeDefined();
    const home = await portal.app.request('/', { headers: { Cookie: `kernel_session=${session}` } });
    expect(home.status).toBe(200);
    expect(await home.text()).toContain('viv@example.nhs.uk');
    const user = await findUserByEmail(store, 'viv@example.nhs.uk');
    expect(user).toMatchObject({ role: 'viewer', mustChangePassword: false });
    // PKCE: the verifier went to the token endpoint (the provider checked it against the challenge).
    expect(provider.tokenRequests.at(-1)?.get('code_verifier')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const [event] = await listAudit(store, { action: 'auth.sso-signed-in', limit: 1 });
    expect(event?.target).toBe(`user:${user?.id}`);
  });

  it('sends a role that needs a second factor on to Kernel’s own, unless the provider says it checked more than a password', async () => {
    provider.person = { sub: 'p-2', email: 'bi@rwf.nhs.uk', groups: ['rwf-bi'], amr: ['pwd'] };
    const first = await ssoSignIn();
    expect(first.callback.status).toBe(303);
    expect(first.callback.headers.get('Location')).toBe('/sign-in/two-factor?next=%2Fcatalogue');
    expect(first.session).toBeUndefined();
    const user = await findUserByEmail(store, 'bi@rwf.nhs.uk');
    expect(user).toMatchObject({ role: 'provider', org: 'RWF' });
    const secret = newTotpSecret();
    const now = new Date();
    await enrolAuthenticator(store, user?.id as string, secret, totpCode(secret, now), 'test', now);

    // RFC 8176: `mfa` (or two methods) from the provider is the second factor.
    provider.person = { ...provider.person, amr: ['pwd', 'otp'] };
    const second = await ssoSignIn();
    expect(second.callback.headers.get('Location')).toBe('/catalogue');
    expect(second.session).toBeDefined();
  });

  it('refuses a forged token, a replayed nonce, another browser’s state, no matching rule, and a disabled account', async () => {
    provider.person = { sub: 'p-1', email: 'viv@example.nhs.uk', groups: ['kernel-viewers'] };
    provider.forgeNext = true;
    const forged = await ssoSignIn();
    expect(forged.callback.status).toBe(403);
    expect(await forged.callback.text()).toContain('a token Kernel cannot trust');
    expect(forged.session).toBeUndefined();

    provider.nonceOverride = 'a-nonce-from-another-sign-in-xxxxxxxxxxxxxx';
    const replayed = await ssoSignIn();
    expect(replayed.callback.status).toBe(403);
    expect(replayed.session).toBeUndefined();

    for (const options of [{ tamperState: true }, { dropCookie: true }]) {
      const crossed = await ssoSignIn(options);
      expect(crossed.callback.status).toBe(403);
      expect(await crossed.callback.text()).toContain('did not start in this browser');
    }

    provider.person = { sub: 'p-9', email: 'stranger@example.nhs.uk', groups: ['other'] };
    const stranger = await ssoSignIn();
    expect(stranger.callback.status).toBe(403);
    expect(await stranger.callback.text()).toContain('does not give you access to Kernel');
    expect(await findUserByEmail(store, 'stranger@example.nhs.uk')).toBeUndefined();

    provider.person = {
      sub: 'p-8',
      email: 'unverified@example.nhs.uk',
      email_verified: false,
      groups: ['kernel-viewers'],
    };
    expect((await ssoSignIn()).callback.status).toBe(403);

    await disableUser(store, 'viv@example.nhs.uk', 'cli:admin');
    provider.person = { sub: 'p-1', email: 'viv@example.nhs.uk', groups: ['kernel-viewers'] };
    const disabled = await ssoSignIn();
    expect(disabled.callback.status).toBe(403);
    expect(disabled.session).toBeUndefined();

    const reasons = (await listAudit(store, { action: 'auth.failed', limit: 50 })).map(
      (e) => (JSON.parse(e.details) as { reason: string }).reason,
    );
    expect(reasons).toEqual(
      expect.arrayContaining(['sso-token', 'sso-state', 'sso-no-rule', 'sso-email', 'sso-disabled']),
    );
    const audit = JSON.stringify(await listAudit(store, { limit: 500 }));
    expect(audit).not.toContain(provider.clientSecret);
    expect((await verifyAudit(store)).ok).toBe(true);
  });

  it('shows the single sign-on button on the sign-in page once a provider is set', async () => {
    const html = await (await portal.app.request('/sign-in')).text();
    expect(html).toContain('href="/sign-in/sso?next=%2F"');
  });
});
