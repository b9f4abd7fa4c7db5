/**
 * The maternity measures against hand-counted values, on both engines: the small world of
 * test/maternity-world.ts, read through the real access policy under a real use case.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDataset } from '../catalogue/catalogue.ts';
import { deidPlan } from '../privacy/deid-plan.ts';
import type { Store } from '../store/store.ts';
import { addBaby, baby, buildWorld, EXPECTED, recordLoad, WINDOW } from '../../test/maternity-world.ts';
import { testStores } from '../../test/stores.ts';
import { closeUseCase } from '../governance/use-cases.ts';
import { clearMaternityCache, maternityDashboard, type MaternityDashboard } from './maternity-dashboard.ts';
import { MSDS_COLUMNS, MSDS_DATASETS } from './maternity-tables.ts';
import { MATERNITY_MEASURES } from './maternity-measures.ts';
import { NO_DISCLOSURE_CONTROL } from './disclosure-control.ts';

function pairs(result: MaternityDashboard, measure: string, org: string | null): [unknown, unknown][] {
  const m = result.measures.find((x) => x.id === measure);
  const series =
    org === null || result.scope.org === org ? m?.series : m?.providers.find((p) => p.org === org);
  return (series?.points ?? []).map((p) => [p.numerator, p.denominator]);
}

describe.each(testStores())('maternity measures on $engine', (engine) => {
  let store: Store;
  let useCaseId: string;
  const provider = { user: { id: 'u-rwf', role: 'provider', org: 'RWF' } };
  const analyst = { user: { id: 'u-analyst', role: 'analyst', org: null } };
  const viewer = { user: { id: 'u-viewer', role: 'viewer', org: null } };

  beforeAll(async () => {
    clearMaternityCache();
    store = await engine.open();
    useCaseId = await buildWorld(store);
  });
  afterAll(async () => {
    await store?.close();
  });

  it('matches the hand counts for a provider viewing its own figures, unrounded', async () => {
    const result = await maternityDashboard(store, provider, { ...WINDOW, org: 'RWF' });
    expect(result.scope.org).toBe('RWF');
    expect(result.disclosure.policy).toBe('none');
    expect(result.months).toEqual(['2021-01', '2021-02', '2021-03']);
    for (const [measure, byOrg] of Object.entries(EXPECTED)) {
      expect([measure, pairs(result, measure, 'RWF')]).toEqual([measure, byOrg.RWF]);
    }
    const booked = result.measures.find((m) => m.id === 'booking-by-10-weeks');
    expect(booked?.series.points[0]?.value).toBe(66.7);
    const pph = result.measures.find((m) => m.id === 'pph-1500');
    expect(pph?.series.points[2]?.value).toBe(500); // 1 of 2 per 1,000 in March alone (no rolling window)
    expect(pph?.windowMonths).toBe(1);
    expect(result.measures.find((m) => m.id === 'births')?.series.points[1]?.value).toBe(4);
  });

  it('matches the hand counts for every provider and the whole system, for record-level and aggregate-only roles', async () => {
    for (const who of [analyst, viewer]) {
      const result = await maternityDashboard(store, who, WINDOW, { disclosure: NO_DISCLOSURE_CONTROL });
      expect(result.controllers).toEqual(['RVV', 'RWF']);
      for (const [measure, byOrg] of Object.entries(EXPECTED)) {
        expect([who.user.role, measure, 'ALL', pairs(result, measure, null)]).toEqual([
          who.user.role,
          measure,
          'ALL',
          byOrg.ALL,
        ]);
        for (const org of ['RWF', 'RVV']) {
          expect([who.user.role, measure, org, pairs(result, measure, org)]).toEqual([
            who.user.role,
            measure,
            org,
            byOrg[org],
          ]);
        }
      }
    }
  });

  it('leaves months with no submission as gaps: no zero, no value, no flag', async () => {
    // RVV submitted nothing for March 2021, nor for the six months before the window
    const result = await maternityDashboard(store, analyst, { from: '2020-07', to: '2021-03' });
    for (const m of result.measures) {
      const rvv = m.providers.find((p) => p.org === 'RVV');
      for (const series of [m.series, ...(rvv ? [rvv] : [])]) {
        for (const p of series.points.slice(0, 6)) {
          expect([m.id, series.label, p]).toEqual([
            m.id,
            series.label,
            { month: p.month, value: null, numerator: null, denominator: null, rules: [], meaning: null },
          ]);
        }
      }
      expect(rvv?.points[6]?.denominator).not.toBeNull();
      expect([m.id, rvv?.points[8]?.value, rvv?.points[8]?.numerator, rvv?.points[8]?.rules]).toEqual([
        m.id,
        null,
        null,
        [],
      ]);
      // the whole system submitted from January to March: zeros there are real zeros
      expect(m.series.points.slice(6).every((p) => p.numerator !== null)).toBe(true);
    }
  });

  it('computes SPC on true counts but shows only controlled figures', async () => {
    const own = await maternityDashboard(store, provider, { ...WINDOW, org: 'RWF' });
    const seen = await maternityDashboard(store, analyst, { ...WINDOW, org: 'RWF' });
    for (const m of seen.measures) {
      // a rare event is compared on its funnel: no XmR limits or flags on its months
      if (m.chart === 'funnel') {
        expect([m.id, m.series.spc.icon, m.series.points.flatMap((p) => p.rules)]).toEqual([
          m.id,
          'none',
          [],
        ]);
      }
      const ownMean = own.measures.find((o) => o.id === m.id)?.series.spc.mean ?? null;
      // limits from the true values even where every shown point is suppressed; rounded
      if (ownMean === null) expect(m.series.spc.mean).toBeNull();
      else if (m.unit === 'count')
        expect(Math.abs((m.series.spc.mean ?? NaN) - ownMean)).toBeLessThanOrEqual(2.55);
      else expect(Math.abs((m.series.spc.mean ?? NaN) - ownMean)).toBeLessThanOrEqual(0.55);
      expect(Number.isInteger(m.series.spc.mean ?? 0)).toBe(true);
      for (const p of m.series.points) if (p.value === '*') expect([p.rules, p.meaning]).toEqual([[], null]);
      // the icon speaks only of the latest month shown as a number
      const latest = [...m.series.points].reverse().find((p) => typeof p.value === 'number');
      if (latest === undefined) expect(m.series.spc.icon).toBe('none');
      else if (latest.meaning === null) expect(m.series.spc.icon).toBe('common-cause');
      else expect(m.series.spc.icon.startsWith(latest.meaning)).toBe(true);
    }
    const booked = seen.measures.find((m) => m.id === 'booking-by-10-weeks');
    expect(booked?.series.points.some((p) => p.value === '*')).toBe(true);
    expect(booked?.series.spc.mean).toBe(67); // 2 of 3 in January, the only month with bookings
  });

  it('never shows a count of 1–7, nor lets one be worked back across org, from and to', async () => {
    const whole = await maternityDashboard(store, viewer, WINDOW);
    const byWindow = [
      whole,
      await maternityDashboard(store, viewer, { from: '2021-02', to: '2021-03' }),
      await maternityDashboard(store, viewer, { from: '2021-03', to: '2021-03' }),
    ];
    const shown = (n: unknown): void => {
      if (typeof n === 'number') expect(n === 0 || n > 7).toBe(true);
    };
    // the possible true counts behind a shown count (rounded to 5, or 1–7 when suppressed)
    const range = (n: unknown): [number, number] =>
      n === '*' ? [1, 7] : n === 0 ? [0, 0] : typeof n === 'number' ? [n - 2, n + 2] : [0, 0];
    for (const result of byWindow) {
      for (const m of result.measures) {
        for (const series of [m.series, ...m.providers]) {
          for (const p of series.points) {
            shown(p.numerator);
            shown(p.denominator);
          }
        }
        // system minus the other providers: a suppressed cell stays at least two values wide
        for (const [i, p] of m.series.points.entries()) {
          for (const field of ['numerator', 'denominator'] as const) {
            const system = range(p[field]);
            for (const target of m.providers) {
              if (target.points[i]?.[field] !== '*') continue;
              const others = m.providers.filter((o) => o !== target).map((o) => range(o.points[i]?.[field]));
              const low = Math.max(1, system[0] - others.reduce((a, r) => a + r[1], 0));
              const high = Math.min(7, system[1] - others.reduce((a, r) => a + r[0], 0));
              expect([m.id, target.label, i, field, high - low >= 1]).toEqual([
                m.id,
                target.label,
                i,
                field,
                true,
              ]);
            }
          }
        }
        // a rare event's funnel: each provider's window totals, under the same control
        if (m.funnel) {
          for (const f of m.funnel.providers) {
            shown(f.numerator);
            shown(f.denominator);
            // a provider whose count is hidden is not placed on the plot
            if (f.value === '*') expect(f.band).toBeNull();
            // its total minus its own shown months: a hidden month stays at least two values wide
            const months = m.providers.find((p) => p.org === f.org)?.points ?? [];
            for (const field of ['numerator', 'denominator'] as const) {
              const total = range(f[field]);
              for (const [j, hidden] of months.entries()) {
                if (hidden[field] !== '*' || f[field] === '*') continue;
                const others = months.filter((_, i) => i !== j).map((o) => range(o[field]));
                const low = Math.max(1, total[0] - others.reduce((a, r) => a + r[1], 0));
                const high = Math.min(7, total[1] - others.reduce((a, r) => a + r[0], 0));
                expect([m.id, f.org, j, field, 'funnel', high - low >= 1]).toEqual([
                  m.id,
                  f.org,
                  j,
                  field,
                  'funnel',
                  true,
                ]);
              }
            }
          }
          // the pooled rate is shown to one decimal place, as limits and means are rounded
          if (m.funnel.target !== null) expect(Math.round(m.funnel.target * 10)).toBe(m.funnel.target * 10);
        }
        // one window minus another: each month is counted on its own, so the same month
        // shows the same figures in every window and a difference reveals nothing
        const inWhole = whole.measures.find((w) => w.id === m.id);
        for (const p of m.series.points) {
          const same = inWhole?.series.points.find((w) => w.month === p.month);
          expect([p.numerator, p.denominator]).toEqual([same?.numerator, same?.denominator]);
        }
      }
    }
  });

  it('suppresses small counts for everyone else (HES 2018: 0 shown, 1–7 as *)', async () => {
    const result = await maternityDashboard(store, analyst, WINDOW);
    expect(result.disclosure.policy).toBe('hes2018');
    expect(result.disclosure.text).toMatch(/1 to 7 are shown as \*/);
    expect(pairs(result, 'births', null)).toEqual([
      ['*', '*'],
      ['*', '*'],
      ['*', '*'],
    ]);
    // a zero is shown as 0: January has no vaginal birth to count tears in
    expect(pairs(result, 'third-fourth-degree-tears', null)[0]).toEqual([0, 0]);
    const stillbirths = result.measures.find((m) => m.id === 'stillbirth-rate');
    expect(stillbirths?.series.points.map((p) => p.value)).toEqual(['*', '*', '*']);
    // A provider sees other providers' figures, and the whole system's, controlled too.
    const own = await maternityDashboard(store, provider, { ...WINDOW, org: 'RWF' });
    expect(own.measures[0]?.series.controlled).toBe(false);
  });

  it('refuses a provider another organisation’s figures and a malformed window, with a clear error', async () => {
    await expect(maternityDashboard(store, provider, { ...WINDOW, org: 'RVV' })).rejects.toThrow(
      /does not include RVV/,
    );
    await expect(
      maternityDashboard(store, analyst, { from: '2021-13', to: '2021-03' }),
    ).rejects.toMatchObject({ code: 'usage', where: { field: 'from' } });
    await expect(maternityDashboard(store, analyst, { from: '2021-04', to: '2021-03' })).rejects.toThrow(
      /starts .* after it ends/,
    );
    await expect(
      maternityDashboard(store, { user: { id: 'u-ig', role: 'ig-lead', org: null } }, WINDOW),
    ).rejects.toMatchObject({ code: 'forbidden' });
  });

  it('audits every request: governed reads when the warehouse is read, a recorded view when cached', async () => {
    clearMaternityCache();
    const count = async (action: string): Promise<number> => {
      const [row] = await store.query<{ n: number }>(
        `SELECT COUNT(*) AS n FROM audit_events WHERE action = $1 AND purpose = $2`,
        [action, useCaseId],
      );
      return Number(row?.n ?? 0);
    };
    const access = async (): Promise<number> => {
      const [row] = await store.query<{ n: number }>(
        `SELECT COUNT(*) AS n FROM data_access_log WHERE use_case_id = $1`,
        [useCaseId],
      );
      return Number(row?.n ?? 0);
    };
    const [reads, views, logged] = [
      await count('data.read'),
      await count('dashboard.viewed'),
      await access(),
    ];
    await maternityDashboard(store, analyst, WINDOW);
    expect(await count('data.read')).toBe(reads + MSDS_DATASETS.length);
    await maternityDashboard(store, analyst, WINDOW);
    await maternityDashboard(store, analyst, { ...WINDOW, org: 'RVV' });
    expect(await count('data.read')).toBe(reads + MSDS_DATASETS.length);
    expect(await count('dashboard.viewed')).toBe(views + 2);
    // one row per controller and dataset, for each of the three requests
    expect(await access()).toBe(logged + 3 * 2 * MSDS_DATASETS.length);
    // Concurrent views are committed together, and every one of them is recorded.
    await maternityDashboard(store, viewer, WINDOW);
    await Promise.all(Array.from({ length: 10 }, () => maternityDashboard(store, viewer, WINDOW)));
    expect(await count('dashboard.viewed')).toBe(views + 2 + 10);
  });

  it('serves repeated requests from the cache and recomputes after a new load', async () => {
    clearMaternityCache();
    const first = await maternityDashboard(store, analyst, WINDOW, { disclosure: NO_DISCLOSURE_CONTROL });
    const second = await maternityDashboard(store, analyst, WINDOW, { disclosure: NO_DISCLOSURE_CONTROL });
    expect([first.cached, second.cached]).toEqual([false, true]);
    expect(second.measures).toEqual(first.measures);

    // A new March baby arrives in a new load.
    const [, fields] = baby('RVV', 'b9', 'm9', '2021-03-01', {
      outcome: '01',
      gest: 281,
      method: '0',
      apgar: 9,
      feed: '01',
      weight: 3300,
    });
    await addBaby(store, 'RVV', fields, 'L-new');
    await recordLoad(store, 'L-new', 'msds-baby', '2021-04-03T10:00:00Z');

    // Within the versions' maximum age the cached figures may still be served; after it, never.
    const third = await maternityDashboard(store, analyst, WINDOW, {
      disclosure: NO_DISCLOSURE_CONTROL,
      versionMaxAgeMs: 0,
    });
    expect(third.cached).toBe(false);
    expect(third.dataVersion).not.toBe(first.dataVersion);
    expect(pairs(third, 'births', null)[2]).toEqual([4, 4]);
    expect(pairs(third, 'births', 'RVV')[2]).toEqual([1, 1]);
  });

  it('names only columns the catalogue defines', () => {
    for (const dataset of MSDS_DATASETS) {
      const accepted = new Set(deidPlan(getDataset(dataset)).accepted);
      for (const column of Object.values(MSDS_COLUMNS[dataset]))
        expect([dataset, column, accepted.has(column)]).toEqual([dataset, column, true]);
    }
  });

  it('says which MSDS fields each measure reads, each one a field of the maternity datasets', () => {
    const known = new Set(MSDS_DATASETS.flatMap((d) => getDataset(d).fields.map((f) => f.name)));
    for (const measure of MATERNITY_MEASURES) {
      expect(measure.fields.length).toBeGreaterThan(0);
      for (const field of measure.fields)
        expect([measure.id, field, known.has(field)]).toEqual([measure.id, field, true]);
    }
  });
  it('decides again when governance changes: a closed use case stops the dashboard at once', async () => {
    await maternityDashboard(store, analyst, WINDOW);
    await closeUseCase(store, useCaseId, 'test');
    await expect(maternityDashboard(store, analyst, WINDOW, { versionMaxAgeMs: 0 })).rejects.toMatchObject({
      code: 'forbidden',
    });
  });
});
