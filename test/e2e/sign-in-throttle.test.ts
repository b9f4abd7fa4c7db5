/**
 * Issue 23, M7: sign-in throttling that neither tells a guesser which accounts exist nor lets
 * a stranger keep a person locked out. Client addresses come from X-Forwarded-For, as behind
 * the reverse proxy the docs require, with the in-process peer ('local') as the trusted proxy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit, verifyAudit } from '../../src/audit/audit-log.ts';
import { addUser, LOCKOUT_THRESHOLD } from '../../src/server/auth/user-accounts.ts';
import type { Store } from '../../src/store/store.ts';
import { testStores } from '../stores.ts';
import { PASSWORD, portalApp } from './portal-helpers.ts';

type App = ReturnType<typeof portalApp>['app'];

/** Signs in through the form from `address`; answers the status and the error it shows. */
async function signIn(app: App, email: string, password: string, address: string) {
  const page = await app.request('/sign-in');
  const csrf = /name="csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';
  const presession = (page.headers.get('Set-Cookie') ?? '').split(';')[0] ?? '';
  const started = performance.now();
  const response = await app.request('/sign-in', {
    method: 'POST',
    headers: {
      Cookie: presession,
      'Content-Type': 'application/x-www-form-urlencoded',
      'X-Forwarded-For': `203.0.113.250, ${address}`,
    },
    body: new URLSearchParams({ csrf, email, password, next: '/' }).toString(),
  });
  const html = await response.text();
  return {
    status: response.status,
    ms: performance.now() - started,
    error: /nhsuk-error-summary__list[\s\S]*?<a[^>]*>([^<]+)<\/a>/.exec(html)?.[1]?.trim() ?? null,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

describe.each(testStores())('sign-in throttling on $engine (issue 23, M7)', (engine) => {
  let store: Store;
  let portal: ReturnType<typeof portalApp>;

  beforeAll(async () => {
    store = await engine.open();
    for (const email of ['ana@throttle.test', 'bo@throttle.test', 'cy@throttle.test']) {
      await addUser(store, { email, role: 'viewer', password: PASSWORD }, 'test');
    }
    portal = portalApp(store);
    portal.deps.config.trustedProxies = ['local'];
  });
  afterAll(async () => {
    await store.close();
  });

  it('answers a wrong password, an unknown email and a locked account alike, in words, status and time', async () => {
    await store.run(
      "UPDATE users SET locked_until = '2999-01-01T00:00:00.000Z' WHERE email = 'cy@throttle.test'",
    );
    const answers = { wrong: [] as number[], unknown: [] as number[], locked: [] as number[] };
    for (let i = 0; i < 3; i++) {
      const wrong = await signIn(portal.app, 'ana@throttle.test', `guess ${i}`, `198.51.100.${i}`);
      const unknown = await signIn(portal.app, 'nobody@throttle.test', `guess ${i}`, `198.51.100.${i}`);
      const locked = await signIn(portal.app, 'cy@throttle.test', PASSWORD, `198.51.100.${i}`);
      for (const answer of [wrong, unknown, locked]) {
        expect([answer.status, answer.error]).toEqual([401, 'Enter a correct email address and password']);
      }
      answers.wrong.push(wrong.ms);
      answers.unknown.push(unknown.ms);
      answers.locked.push(locked.ms);
    }
    // Every answer checks one Argon2id hash: none is several times faster than another.
    const medians = Object.values(answers).map(median);
    expect(Math.max(...medians) / Math.min(...medians)).toBeLessThan(3);
    await store.run("UPDATE users SET locked_until = NULL WHERE email = 'cy@throttle.test'");
  });

  it('stops an address after five tries at an account, and only that address', async () => {
    for (let i = 0; i < 5; i++) {
      expect((await signIn(portal.app, 'bo@throttle.test', `guess ${i}`, '192.0.2.66')).status).toBe(401);
    }
    // The attacker's address may not try bo again, even with the right password: same answer.
    const blocked = await signIn(portal.app, 'bo@throttle.test', PASSWORD, '192.0.2.66');
    expect([blocked.status, blocked.error]).toEqual([401, 'Enter a correct email address and password']);
    // And the same for an email no account has, so the throttle reveals nothing either.
    for (let i = 0; i < 6; i++) await signIn(portal.app, 'ghost@throttle.test', `guess ${i}`, '192.0.2.67');
    const ghost = await signIn(portal.app, 'ghost@throttle.test', 'guess 7', '192.0.2.67');
    expect([ghost.status, ghost.error]).toEqual([401, 'Enter a correct email address and password']);
    // Bo, from their own address, signs in: the stranger did not lock them out.
    expect((await signIn(portal.app, 'bo@throttle.test', PASSWORD, '192.0.2.10')).status).toBe(303);
    const throttled = await listAudit(store, { action: 'auth.failed', limit: 500 });
    expect(throttled.some((e) => e.details.includes('throttled'))).toBe(true);
  });

  it('locks an account against guessing spread over many addresses, as a backstop', async () => {
    let address = 0;
    for (let i = 0; i < LOCKOUT_THRESHOLD; i++) {
      if (i % 5 === 0) address += 1;
      await signIn(portal.app, 'ana@throttle.test', `spread guess ${i}`, `100.64.0.${address}`);
    }
    const events = await listAudit(store, { action: 'auth.locked', limit: 10 });
    expect(events).toHaveLength(1);
    const fresh = await signIn(portal.app, 'ana@throttle.test', PASSWORD, '100.64.9.9');
    expect([fresh.status, fresh.error]).toEqual([401, 'Enter a correct email address and password']);
    expect((await verifyAudit(store)).ok).toBe(true);
  });

  it('believes X-Forwarded-For only from a trusted proxy', async () => {
    const direct = portalApp(store); // no trusted proxies: the peer is the client
    const statuses: number[] = [];
    for (let i = 0; i < 22; i++) {
      statuses.push((await signIn(direct.app, `nobody${i}@throttle.test`, 'x', `10.9.0.${i}`)).status);
    }
    // Writing a new address into the header each time does not escape the per-address limit.
    expect(statuses.slice(20)).toEqual([429, 429]);
  });
});
