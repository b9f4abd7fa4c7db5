import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyAudit } from '../../src/audit/audit-log.ts';
import { listDatasets } from '../../src/catalogue/catalogue.ts';
import { isNilReturn, listWorldFeeds } from '../../src/synth/world-feeds.ts';
import { openStore } from '../../src/store/open-store.ts';
import { runCli, SMALL_DEMO } from '../cli.ts';

describe('kernel demo', () => {
  it('builds a warehouse from the synthetic world through de-identification and loading, and again idempotently', async () => {
    const data = mkdtempSync(path.join(os.tmpdir(), 'kernel-demo-'));
    const argv = ['--data', data, ...SMALL_DEMO];
    const first = await runCli(argv);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/synthetic world: 300 people/);
    expect(first.stdout).toMatch(/governance: \d+ organisations, \d+ agreements, 5 use cases/);
    // The world's reference geography, before any feed (docs/geography.md).
    expect(first.stdout).toMatch(/reference geography: lsoa-2011-2021 .*, practice-pcn ePCN-2021-02/);
    const fed = /feeds: (\d+) loaded, 0 already loaded \(duplicate\), 0 refused/.exec(first.stdout);
    expect(Number(fed?.[1])).toBeGreaterThan(20);
    expect(first.stdout).toMatch(new RegExp(`datasets in the catalogue\\s+${listDatasets().length}\\b`));
    // Two trusts' maternity feeds come in layouts of their own, through their source mappings (issue 16).
    expect(first.stdout).toMatch(
      /source mappings: \d+ maternity feeds of RN7 and RPA mapped from their own layouts before de-identification/,
    );
    expect(first.stdout).toMatch(/Kent Integrated Dataset: version 1, [\d,]+ people on the spine/);
    // One month signed off and published, the latest waiting for the demo's BI lead (issue 16).
    expect(first.stdout).toMatch(
      /sign-off: RWF's [a-z-]+ for 2021-01 signed off and published; 2021-02 waits for provider\.rwf@kernel\.example \(kernel signoff list, \/signoff\); 2021-03 is late/,
    );

    // The induction chart rebased at the demo world's known change, and two targets (issue 17).
    expect(first.stdout).toMatch(
      /charts: the induction chart rebased at the demo world's change, 2 targets set/,
    );
    expect(readFileSync(path.join(data, 'demo', 'world', 'truth', 'changes.json'), 'utf8')).toContain(
      '"induction-of-labour"',
    );

    // Running it again reuses the world and keys; every feed is a duplicate and nothing changes.
    const again = await runCli(argv);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`feeds: 0 loaded, ${fed?.[1]} already loaded (duplicate), 0 refused`);
    expect(again.stdout).toContain('governance: already seeded');
    expect(again.stdout).toMatch(/Kent Integrated Dataset: version 1,/);

    const store = await openStore({ dataDir: data, store: 'duckdb' });
    try {
      const [loads] = await store.query<{ n: number }>(
        "SELECT count(*) AS n FROM loads WHERE status = 'loaded'",
      );
      expect(loads?.n).toBe(Number(fed?.[1]));
      // IC24, still being onboarded, sends its 111 and out-of-hours cases in the demo (issue 18)
      const [ooh] = await store.query<{ loads: number; cases: number }>(
        `SELECT (SELECT count(*) FROM loads WHERE org_code = 'IC24' AND dataset_id = 'ooh-cases' AND status = 'loaded') AS loads,
                (SELECT count(*) FROM ds_ooh_cases) AS cases`,
      );
      expect(Number(ooh?.loads)).toBe(2);
      expect(Number(ooh?.cases)).toBeGreaterThan(5);
      // GP practices send their registrations and medication issues beside their coded events (issue 18).
      const gp = await store.query<{ dataset_id: string }>(
        "SELECT DISTINCT dataset_id FROM loads WHERE status = 'loaded' AND dataset_id LIKE 'gp-%' ORDER BY dataset_id",
      );
      expect(gp.map((l) => l.dataset_id)).toEqual(['gp-events', 'gp-medications', 'gp-registrations']);
      // Every dataset the world wrote rows of was loaded: the district councils' housing and
      // benefits feeds as much as the trusts'.
      const written = new Set(
        listWorldFeeds(path.join(data, 'demo', 'world'))
          .filter((f) => !isNilReturn(f.file))
          .map((f) => f.dataset),
      );
      const loaded = await store.query<{ dataset_id: string }>(
        "SELECT DISTINCT dataset_id FROM loads WHERE status = 'loaded' ORDER BY dataset_id",
      );
      expect(loaded.map((l) => l.dataset_id)).toEqual([...written].sort());
      // RWF's story month signed off and published, its next month waiting; the rest of the
      // history published as the backlog, so the demo's published-only use cases read it
      const story = await store.query<{ period: string; state: string }>(
        "SELECT period, state FROM signoff_history WHERE org_code = 'RWF' AND state <> 'published' ORDER BY period, changed_at",
      );
      expect(story).toEqual([
        { period: '2021-01', state: 'checked' },
        { period: '2021-01', state: 'signed-off' },
      ]);
      const [counts] = await store.query<{ published: number; waiting: number }>(
        `SELECT (SELECT count(*) FROM signoffs WHERE state = 'published') AS published,
                (SELECT count(*) FROM loads l WHERE l.status = 'loaded' AND l.period IS NOT NULL AND NOT EXISTS
                   (SELECT 1 FROM signoffs s WHERE s.load_id = l.load_id)) AS waiting`,
      );
      expect(Number(counts?.waiting)).toBe(1);
      expect(Number(counts?.published)).toBeGreaterThan(20);
      const [useCases] = await store.query<{ n: number }>(
        "SELECT count(*) AS n FROM use_cases WHERE months = 'published'",
      );
      expect(Number(useCases?.n)).toBe(5);
      const charts = await store.query<{ chart: string; period: string }>(
        'SELECT chart, period FROM chart_rebases',
      );
      expect(charts).toEqual([{ chart: 'maternity/induction-of-labour', period: '2020-09' }]);
      expect(await verifyAudit(store)).toMatchObject({ ok: true });
    } finally {
      await store.close();
    }
  }, 240_000);
});
