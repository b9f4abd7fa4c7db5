/**
 * Issue 22, item 2: the load history never stops silently. The API, the portal and the CLI
 * page through it with a limit and a cursor, say the total, and the CLI filters by state and
 * month as the portal does.
 */
import { describe, expect, it } from 'vitest';
import { seedOrganisations } from '../../src/governance/organisations.ts';
import { openStore } from '../../src/store/open-store.ts';
import { runCli } from '../cli.ts';
import { testStores } from '../stores.ts';
import { accountsForEveryRole, insertLoad, portalApp, sessionFor } from './portal-helpers.ts';

describe.each(testStores())('pages of loads on $engine (issue 22, item 2)', (engine) => {
  it('pages the API, the portal and the CLI with the total, and filters the CLI by state and month', async () => {
    const target = await engine.fresh();
    const store = await openStore(target);
    try {
      await seedOrganisations(store, 'test');
      const accounts = await accountsForEveryRole(store);
      const months = ['2025-01', '2025-02', '2025-03', '2025-04', '2025-05', '2025-06', '2025-07'];
      for (const [i, month] of months.entries()) {
        await insertLoad(store, `ld-p${i}`, 'RWF', 'apc', month, i === 2 ? 'refused' : 'loaded');
      }
      const portal = portalApp(store, target.dataDir);
      const headers = { Authorization: `Bearer ${accounts.admin.token}` };

      // The API: three pages of three, newest first, every load once.
      const seen: string[] = [];
      let next: string | null = null;
      let pages = 0;
      do {
        const query: string = next ? `&before=${next}` : '';
        const body = (await (
          await portal.app.request(`/api/v1/loads?limit=3${query}`, { headers })
        ).json()) as {
          loads: { loadId: string }[];
          total: number;
          next: string | null;
        };
        expect(body.total).toBe(7);
        seen.push(...body.loads.map((l) => l.loadId));
        next = body.next;
        pages += 1;
      } while (next && pages < 10);
      expect(pages).toBe(3);
      expect(seen).toEqual(['ld-p6', 'ld-p5', 'ld-p4', 'ld-p3', 'ld-p2', 'ld-p1', 'ld-p0']);
      expect((await portal.app.request('/api/v1/loads?limit=0', { headers })).status).toBe(400);
      expect((await portal.app.request('/api/v1/loads?before=nonsense', { headers })).status).toBe(400);

      // The portal: says how many of how many, and links to the older page.
      const { cookie } = await sessionFor(store, accounts.admin.userId);
      const html = await (await portal.app.request('/loads?limit=5', { headers: { Cookie: cookie } })).text();
      expect(html).toContain('5 of 7 loads, newest first');
      const older = /href="(\/loads\?[^"]*before=[^"]+)"/.exec(html)?.[1]?.replaceAll('&amp;', '&');
      expect(older).toBeDefined();
      const second = await (
        await portal.app.request(older as string, { headers: { Cookie: cookie } })
      ).text();
      expect(second).toContain('ld-p0');
      expect(second).not.toContain('ld-p6');
      expect(second).toContain('Newest loads');
    } finally {
      await store.close();
    }

    // The CLI: the same pages, and the filters the portal has.
    const k = (...args: string[]) => runCli(['--data', target.dataDir, '--store', target.store, ...args]);
    const first = await k('loads', '--limit', '4');
    expect(first.code, first.stderr).toBe(0);
    const cursor = /4 of 7 loads\. Older: add --before (\S+)/.exec(first.stdout)?.[1];
    expect(cursor).toBeDefined();
    const rest = await k('loads', '--limit', '4', '--before', cursor as string, '--json');
    expect(JSON.parse(rest.stdout)).toMatchObject({ total: 7, next: null });
    const refused = JSON.parse((await k('loads', '--status', 'refused', '--json')).stdout) as {
      loads: { loadId: string }[];
      total: number;
    };
    expect([refused.total, refused.loads.map((l) => l.loadId)]).toEqual([1, ['ld-p2']]);
    const march = await k('loads', '--period', '2025-03');
    expect(march.stdout).toContain('ld-p2');
    expect(march.stdout).toContain('1 load.');
    const bad = await k('loads', '--status', 'lost');
    expect([bad.code, bad.stderr.trim()]).toEqual([
      64,
      'kernel: "lost" is not a load state (field status). Use one of running, loaded, superseded, refused, failed',
    ]);
  }, 60_000);
});
