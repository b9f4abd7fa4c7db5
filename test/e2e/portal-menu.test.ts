import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changePassword, findUserByEmail } from '../../src/server/auth/user-accounts.ts';
import { createDemoUsers, type DemoAccount } from '../../src/server/demo-users.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { runCli, SMALL_DEMO } from '../cli.ts';
import { testStores } from '../stores.ts';
import { PASSWORD, portalApp, sessionFor } from './portal-helpers.ts';

/** The hrefs of the portal's menu (the header's navigation) in a page. */
function menuLinks(html: string): string[] {
  const nav = /<nav[^>]*class="nhsuk-header__navigation"[\s\S]*?<\/nav>/.exec(html)?.[0] ?? '';
  return [...nav.matchAll(/<a\s[^>]*href="([^"]+)"/g)].map((m) => (m[1] as string).replace(/&amp;/g, '&'));
}

/**
 * The menu offers only pages the signed-in person may open: on the demo's warehouse (its
 * governance, use cases and accounts, a small world), every link in every demo account's
 * menu answers 200. A link that answered 403 — the population health dashboard for RWF's
 * BI lead, on no use case whose controllers give RWF the model's sources — was the bug.
 */
describe.each(testStores())('the menu of every demo account on $engine', (engine) => {
  let store: Store;
  let portal: ReturnType<typeof portalApp>;
  let demoAccounts: DemoAccount[];

  beforeAll(async () => {
    const where = await engine.fresh();
    const demo = await runCli(['--data', where.dataDir, '--store', where.store, ...SMALL_DEMO]);
    expect(demo.code, demo.stderr).toBe(0);
    store = await openStore(where);
    // What `kernel demo` does next when it serves: one account per role.
    demoAccounts = await createDemoUsers(store, 'test');
    portal = portalApp(store, where.dataDir);
  }, 240_000);
  afterAll(async () => {
    await store?.close();
  });

  /** Audit events of reads of warehouse data, allowed or refused. */
  const readEvents = async (): Promise<number> => {
    const [row] = await store.query<{ n: number }>(
      "SELECT count(*) AS n FROM audit_events WHERE action IN ('data.read', 'data.read-denied')",
    );
    return Number(row?.n);
  };

  it('links only to pages that open (200) for every role', async () => {
    const failures: string[] = [];
    const offered = new Map<string, string[]>();
    for (const account of demoAccounts) {
      // The demo's accounts start with a one-time password; the menu is the one after it is changed.
      const user = await findUserByEmail(store, account.email);
      if (!user) throw new Error(`no demo account ${account.email}`);
      await changePassword(store, user.id, account.oneTimePassword, PASSWORD, 'test');
      const { cookie } = await sessionFor(store, user.id);
      const reads = await readEvents();
      const home = await portal.app.request('/', { headers: { Cookie: cookie } });
      expect(home.status, account.email).toBe(200);
      // Deciding what the menu offers is not a read of warehouse data: nothing is audited as one.
      expect(await readEvents(), account.email).toBe(reads);
      const links = menuLinks(await home.text());
      expect(links, account.email).toContain('/');
      offered.set(account.email, links);
      for (const link of links) {
        const response = await portal.app.request(link, { headers: { Cookie: cookie }, redirect: 'manual' });
        if (response.status !== 200) {
          // The error page's message says why it refused.
          const why = /<h1>[^<]*<\/h1>\s*<p>([^<]*)<\/p>/.exec(await response.text())?.[1] ?? '';
          failures.push(`${link} as ${account.email} (${account.role}): ${response.status} ${why}`);
        }
      }
    }
    expect(failures).toEqual([]);
    // The dashboard is offered to those it opens for, and not to RWF's BI lead: the demo's
    // frailty use case gives RWF no rows of pmi or gp-events.
    expect(offered.get('analyst@kernel.example')).toContain('/kid/population-health');
    expect(offered.get('provider.rwf@kernel.example')).not.toContain('/kid/population-health');
  }, 240_000);
});
