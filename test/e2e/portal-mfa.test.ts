/**
 * Issue 19, strong sign-in: a second factor (TOTP, RFC 6238, with recovery codes) for every
 * role that reads record-level data or approves, through the real sign-in pages of the app.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit, verifyAudit } from '../../src/audit/audit-log.ts';
import { resetSecondFactor } from '../../src/server/auth/second-factor.ts';
import { totpCode } from '../../src/server/auth/totp.ts';
import { createApp } from '../../src/server/app.ts';
import { buildRouteTable } from '../../src/server/route-table.ts';
import type { Role, ServerDeps } from '../../src/server/routes.ts';
import type { Store } from '../../src/store/store.ts';
import { testStores } from '../stores.ts';
import { accountsForEveryRole, PASSWORD, portalApp, type TestAccount } from './portal-helpers.ts';

type App = ReturnType<typeof portalApp>['app'];

/** The portal as `portalApp` builds it, on a clock the test moves (TOTP codes follow time). */
function clockedPortal(store: Store, now: () => Date): ReturnType<typeof portalApp> {
  const { deps, lines } = portalApp(store);
  const clocked: ServerDeps = { ...deps, now };
  const routes = buildRouteTable(clocked);
  return { app: createApp(clocked, { routes }), routes, deps: clocked, lines };
}

/** A browser's cookies, as far as these pages need: name → value, updated from each answer. */
class Browser {
  readonly cookies = new Map<string, string>();
  constructor(readonly app: App) {}

  async request(path: string, init: { form?: Record<string, string> } = {}): Promise<Response> {
    const headers: Record<string, string> = {
      Cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
      'User-Agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36',
    };
    let body: string | undefined;
    if (init.form) {
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    const response = await this.app.request(path, { method: init.form ? 'POST' : 'GET', headers, body });
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const [name = '', value = ''] = pair.split('=');
      if (attributes.some((a) => /max-age=0\b/i.test(a.trim())) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }

  /** The CSRF token of the form on a page. */
  async csrf(path: string): Promise<string> {
    return /name="csrf" value="([^"]+)"/.exec(await (await this.request(path)).text())?.[1] ?? '';
  }

  async password(email: string, password = PASSWORD, next = '/loads'): Promise<Response> {
    const csrf = await this.csrf('/sign-in');
    return this.request('/sign-in', { form: { csrf, email, password, next } });
  }

  async code(code: string, next = '/loads'): Promise<Response> {
    const csrf = await this.csrf(`/sign-in/two-factor?next=${encodeURIComponent(next)}`);
    return this.request('/sign-in/two-factor', { form: { csrf, code, next } });
  }
}

describe.each(testStores())('two-factor sign-in on $engine (issue 19)', (engine) => {
  let store: Store;
  let accounts: Record<Role, TestAccount>;
  let portal: ReturnType<typeof portalApp>;
  let clock = new Date('2026-12-05T10:00:05Z');
  const secrets: string[] = [];

  beforeAll(async () => {
    store = await engine.open();
    accounts = await accountsForEveryRole(store);
    portal = clockedPortal(store, () => clock);
  });
  afterAll(async () => {
    await store.close();
  });

  /** Enrols the account through the pages; answers the secret and the recovery codes. */
  async function enrol(browser: Browser, email: string): Promise<{ secret: string; codes: string[] }> {
    const afterPassword = await browser.password(email);
    expect(afterPassword.status).toBe(303);
    expect(afterPassword.headers.get('Location')).toBe('/sign-in/two-factor?next=%2Floads');
    const page = await (await browser.request('/sign-in/two-factor?next=%2Floads')).text();
    expect(page).toContain('Set up your authenticator app');
    const secret = (/<code id="secret">([A-Z2-7 ]+)<\/code>/.exec(page)?.[1] ?? '').replace(/ /g, '');
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(page).toContain(`otpauth://totp/Kernel:${encodeURIComponent(email)}?secret=${secret}`);
    secrets.push(secret);
    const done = await browser.code(totpCode(secret, clock));
    expect(done.status).toBe(200);
    const html = await done.text();
    const codes = [...html.matchAll(/<li><code>([a-z2-7]{4}(?:-[a-z2-7]{4}){3})<\/code><\/li>/g)].map(
      (m) => m[1] as string,
    );
    expect(codes).toHaveLength(10);
    secrets.push(...codes);
    expect(html).toContain('href="/loads"');
    return { secret, codes };
  }

  it('asks an analyst who has no authenticator to set one up after the password, and only then signs in', async () => {
    const browser = new Browser(portal.app);
    const afterPassword = await browser.password(accounts.analyst.email);
    // The password alone gives no session, and the pending sign-in opens nothing.
    expect(browser.cookies.has('kernel_session')).toBe(false);
    expect(browser.cookies.has('kernel_signin')).toBe(true);
    expect(afterPassword.headers.getSetCookie().join('\n')).toMatch(
      /kernel_signin=[^;]+; Max-Age=600; Path=\/; HttpOnly; Secure; SameSite=Lax/,
    );
    expect((await browser.request('/loads')).status).toBe(302);
    expect((await browser.request('/api/v1/loads')).status).toBe(401);
    // A wrong first code does not enrol.
    const wrong = await browser.code('000000');
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toContain('Enter the code your authenticator app shows now');
    expect(browser.cookies.has('kernel_session')).toBe(false);

    clock = new Date(clock.getTime() + 60_000);
    const fresh = new Browser(portal.app);
    await enrol(fresh, accounts.analyst.email);
    expect(fresh.cookies.has('kernel_session')).toBe(true);
    expect(fresh.cookies.has('kernel_signin')).toBe(false);
    const home = await fresh.request('/');
    expect(home.status).toBe(200);
    expect(await home.text()).toContain(accounts.analyst.email);
  });

  it('signs an enrolled account in with a fresh code; a code already used, or two steps old, is refused', async () => {
    const browser = new Browser(portal.app);
    clock = new Date(clock.getTime() + 120_000);
    const { secret, codes } = await enrol(browser, accounts.provider.email);
    const usedAt = clock;

    const again = new Browser(portal.app);
    await again.password(accounts.provider.email);
    const page = await (await again.request('/sign-in/two-factor?next=%2Floads')).text();
    expect(page).toContain('Enter the code from your authenticator app');
    expect(page).not.toContain(secret);
    // The code that enrolled the app was used: within the same 30 seconds it is refused.
    expect((await again.code(totpCode(secret, usedAt))).status).toBe(401);
    // Two steps old: refused. The next step's code: accepted (one step of drift either way).
    expect((await again.code(totpCode(secret, new Date(usedAt.getTime() - 60_000)))).status).toBe(401);
    const ok = await again.code(totpCode(secret, new Date(usedAt.getTime() + 30_000)));
    expect(ok.status).toBe(303);
    expect(ok.headers.get('Location')).toBe('/loads');
    expect((await again.request('/loads')).status).toBe(200);

    // A recovery code signs in once, in any case and with spaces; never twice.
    const lost = new Browser(portal.app);
    await lost.password(accounts.provider.email);
    const recovery = ` ${(codes[3] as string).toUpperCase().replace(/-/g, ' ')} `;
    expect((await lost.code(recovery)).status).toBe(303);
    const twice = new Browser(portal.app);
    await twice.password(accounts.provider.email);
    expect((await twice.code(codes[3] as string)).status).toBe(401);
    const events = await listAudit(store, { action: 'auth.second-factor', limit: 20 });
    expect(events.map((e) => JSON.parse(e.details) as unknown)).toContainEqual({
      method: 'recovery-code',
      recoveryCodesLeft: 9,
    });
  });

  it('ends a pending sign-in after five wrong codes: the password must be given again', async () => {
    const browser = new Browser(portal.app);
    await browser.password(accounts['output-checker'].email);
    for (let i = 0; i < 4; i++) expect((await browser.code(`12345${i}`)).status).toBe(401);
    const last = await browser.code('123459');
    expect(last.status).toBe(401);
    expect(await last.text()).toContain('Your sign-in has expired. Sign in again');
    expect(browser.cookies.has('kernel_signin')).toBe(false);
    // Five more on a second pending sign-in, and the account takes no more codes for a while:
    // the right password is then answered as a wrong one (it says nothing of the codes).
    const second = new Browser(portal.app);
    await second.password(accounts['output-checker'].email);
    for (let i = 0; i < 5; i++) await second.code(`65432${i}`);
    const third = new Browser(portal.app);
    const refused = await third.password(accounts['output-checker'].email);
    expect(refused.status).toBe(401);
    expect(await refused.text()).toContain('Enter a correct email address and password');
    expect(third.cookies.has('kernel_signin')).toBe(false);
    // Ten minutes on, those pending sign-ins have expired and their failures with them.
    clock = new Date(clock.getTime() + 10 * 60_000 + 1_000);
    const later = await new Browser(portal.app).password(accounts['output-checker'].email);
    expect(later.headers.get('Location')).toMatch(/^\/sign-in\/two-factor/);
    const failures = await listAudit(store, { action: 'auth.failed', limit: 50 });
    expect(
      failures.filter((e) => (JSON.parse(e.details) as { reason?: string }).reason === 'second-factor')
        .length,
    ).toBeGreaterThanOrEqual(10);
  });

  it('asks every role that reads records or approves, and not a viewer or the programme team', async () => {
    for (const role of ['admin', 'ig-lead', 'output-checker', 'analyst', 'provider'] as Role[]) {
      const browser = new Browser(portal.app);
      const response = await browser.password(accounts[role].email);
      expect(response.headers.get('Location'), role).toMatch(/^\/sign-in\/two-factor/);
      expect(browser.cookies.has('kernel_session'), role).toBe(false);
    }
    for (const role of ['viewer', 'programme'] as Role[]) {
      const browser = new Browser(portal.app);
      const response = await browser.password(accounts[role].email);
      expect(response.headers.get('Location'), role).toBe('/loads');
      expect(browser.cookies.has('kernel_session'), role).toBe(true);
    }
  });

  it('resets a lost authenticator (audited): sessions end and the next sign-in enrols a new one', async () => {
    clock = new Date(clock.getTime() + 120_000);
    const browser = new Browser(portal.app);
    const { codes } = await enrol(browser, accounts['ig-lead'].email);
    expect((await browser.request('/')).status).toBe(200);
    await resetSecondFactor(store, accounts['ig-lead'].email, 'cli:operator');
    expect((await browser.request('/')).status).toBe(302);
    const [event] = await listAudit(store, { action: 'auth.mfa-reset', limit: 1 });
    expect(event?.actor).toBe('cli:operator');
    expect(event?.target).toBe(`user:${accounts['ig-lead'].userId}`);
    expect(JSON.parse(event?.details ?? '{}')).toEqual({
      authenticators: 1,
      recoveryCodes: 10,
      sessionsEnded: 1,
    });
    // The old recovery codes are gone with the authenticator; the next sign-in enrols afresh.
    clock = new Date(clock.getTime() + 60_000);
    const next = new Browser(portal.app);
    await next.password(accounts['ig-lead'].email);
    expect(await (await next.request('/sign-in/two-factor')).text()).toContain(
      'Set up your authenticator app',
    );
    expect((await next.code(codes[0] as string)).status).toBe(401);
  });

  it('never writes a secret, a code or a recovery code into the audit log or the request log', async () => {
    expect(secrets.length).toBeGreaterThan(20);
    const audit = JSON.stringify(await listAudit(store, { limit: 1000 }));
    const log = portal.lines.join('\n');
    for (const secret of secrets) {
      expect(audit).not.toContain(secret);
      expect(audit).not.toContain(secret.replace(/-/g, ''));
      expect(log).not.toContain(secret);
    }
    expect((await verifyAudit(store)).ok).toBe(true);
  });
});
