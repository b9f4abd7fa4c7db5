import { mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_DISCLOSURE_CONTROL } from '../../src/analytics/disclosure-control.ts';
import {
  clearMaternityCache,
  maternityDashboard,
  type MaternityDashboard,
} from '../../src/analytics/maternity-dashboard.ts';
import { seedDemoGovernance } from '../../src/governance/demo-governance.ts';
import type { Store } from '../../src/store/store.ts';
import { DEFECT_KINDS } from '../../src/synth/defects.ts';
import { generateWorld } from '../../src/synth/generate-world.ts';
import { nationalFeedTable } from '../../src/synth/world-feeds.ts';
import { testStores } from '../stores.ts';
import { loadWorldFeeds } from '../world-feeds.ts';

/**
 * The maternity measures on a synthetic world loaded through the real pipeline
 * (`generateWorld` → `deidentifyFile` → `loadFeed`, under the demo's governance), checked
 * against counts made independently from the identifiable extracts: distinct NHS numbers,
 * straight from the CSV files, with none of the dashboard's SQL. Defects are switched off so
 * that every row reaches the warehouse.
 */
const FROM = '2020-01';
const TO = '2020-04';
const MSDS = ['msds-booking', 'msds-delivery', 'msds-baby'] as const;
const ACUTE = ['RN7', 'RPA', 'RVV', 'RWF'];
const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-maternity-pipeline-'));
const worldDir = path.join(dir, 'world');

type Row = Record<string, string>;
const MONTHS = ['2020-01', '2020-02', '2020-03', '2020-04'];

function readFeeds(dataset: string): Row[] {
  const rows: Row[] = [];
  for (const org of ACUTE) {
    const folder = path.join(worldDir, 'feeds', org, dataset);
    for (const name of readdirSync(folder)) {
      // RPA's and RN7's own layouts are read through their source mappings, by national names.
      const { header, rows: lines } = nationalFeedTable(worldDir, path.join('feeds', org, dataset, name));
      for (const cells of lines) {
        if (cells.length < 2) continue;
        rows.push(Object.fromEntries((header ?? []).map((h, i) => [h, cells[i] ?? ''])));
      }
    }
  }
  return rows;
}

/** Counted by hand, in plain code: measure → org ('ALL') → month → [numerator, denominator]. */
function independentCounts(): Record<string, Record<string, [number, number][]>> {
  const bookings = readFeeds('msds-booking');
  const deliveries = readFeeds('msds-delivery');
  const babies = readFeeds('msds-baby');
  const out: Record<string, Record<string, [number, number][]>> = {};
  const count = (
    id: string,
    rows: Row[],
    month: (r: Row) => string,
    subject: (r: Row) => string,
    inDen: (r: Row) => boolean,
    inNum: (r: Row) => boolean,
  ): void => {
    out[id] = {};
    for (const org of [...ACUTE, 'ALL']) {
      out[id][org] = MONTHS.map((m) => {
        const mine = rows.filter(
          (r) => (org === 'ALL' || r.OrgCodeProvider === org) && month(r) === m && inDen(r),
        );
        return [new Set(mine.filter(inNum).map(subject)).size, new Set(mine.map(subject)).size];
      });
    }
  };
  const births = new Set(['01', '02', '03', '04']);
  count(
    'births',
    babies,
    (r) => r.RPStartDate!.slice(0, 7),
    (r) => r.NHSNumberBaby!,
    (r) => births.has(r.PregOutcome!),
    () => true,
  );
  count(
    'booking-by-10-weeks',
    bookings,
    (r) => r.AntenatalAppDate!.slice(0, 7),
    (r) => r.NHSNumberMother!,
    (r) => Number(r.GestAgeBooking) >= 0 && Number(r.GestAgeBooking) <= 315,
    (r) => Number(r.GestAgeBooking) <= 70,
  );
  count(
    'smoking-at-booking',
    bookings,
    (r) => r.AntenatalAppDate!.slice(0, 7),
    (r) => r.NHSNumberMother!,
    (r) => r.SmokingStatusBooking === 'Smoker' || r.SmokingStatusBooking === 'Non-Smoker / Ex-Smoker',
    (r) => r.SmokingStatusBooking === 'Smoker',
  );
  // A maternity: a delivery, with the methods and outcomes of the babies of the same mother,
  // organisation and month.
  const babiesOf = (d: Row): Row[] =>
    babies.filter(
      (b) =>
        b.NHSNumberMother === d.NHSNumberMother &&
        b.OrgCodeProvider === d.OrgCodeProvider &&
        b.RPStartDate!.slice(0, 7) === d.DeliveryDate!.slice(0, 7),
    );
  const gaveBirth = (d: Row): boolean => babiesOf(d).some((b) => births.has(b.PregOutcome!));
  count(
    'caesarean-all',
    deliveries,
    (r) => r.DeliveryDate!.slice(0, 7),
    (r) => r.NHSNumberMother!,
    gaveBirth,
    (d) => babiesOf(d).some((b) => b.DeliveryMethodCode === '7' || b.DeliveryMethodCode === '8'),
  );
  count(
    'induction-of-labour',
    deliveries,
    (r) => r.DeliveryDate!.slice(0, 7),
    (r) => r.NHSNumberMother!,
    (d) => gaveBirth(d) && ['1', '2', '3', '4', '5'].includes(d.LabourOnsetMethod!),
    (d) => ['3', '4', '5'].includes(d.LabourOnsetMethod!),
  );
  // Robson group 2: a first birth, one baby, head first, at term, induced or caesarean before labour
  const term = (b: Row): boolean =>
    Number(b.GestationLengthBirth) >= 259 && Number(b.GestationLengthBirth) <= 315;
  count(
    'robson-2',
    deliveries,
    (r) => r.DeliveryDate!.slice(0, 7),
    (r) => r.NHSNumberMother!,
    (d) =>
      gaveBirth(d) &&
      d.BirthsPerLabandDel === '1' &&
      babiesOf(d).every((b) => b.FetusPresentation === '01') &&
      babiesOf(d).some(term) &&
      Number(d.PreviousLiveBirths) + Number(d.PreviousStillBirths) === 0 &&
      ['2', '3', '4', '5'].includes(d.LabourOnsetMethod!),
    (d) => babiesOf(d).some((b) => b.DeliveryMethodCode === '7' || b.DeliveryMethodCode === '8'),
  );
  count(
    'term-admissions-neonatal',
    babies,
    (r) => r.RPStartDate!.slice(0, 7),
    (r) => r.NHSNumberBaby!,
    (r) => r.PregOutcome === '01' && term(r),
    (r) => r.NeonatalAdmission === 'Y',
  );
  count(
    'breastfeeding-first-feed',
    babies,
    (r) => r.RPStartDate!.slice(0, 7),
    (r) => r.NHSNumberBaby!,
    (r) => ['01', '02', '03'].includes(r.BabyFirstFeedIndCode!),
    (r) => ['01', '02'].includes(r.BabyFirstFeedIndCode!),
  );
  return out;
}

describe.each(testStores())('maternity measures through the real pipeline on $engine', (engine) => {
  let store: Store;
  let result: MaternityDashboard;

  beforeAll(async () => {
    clearMaternityCache();
    if (!readdirSync(dir).includes('world')) {
      generateWorld({
        out: worldDir,
        people: 20_000,
        seed: 11,
        from: FROM,
        to: TO,
        defectRates: Object.fromEntries(DEFECT_KINDS.map((k) => [k, 0])),
      });
    }
    store = await engine.open();
    await seedDemoGovernance(store, 'test');
    const loaded = await loadWorldFeeds(store, {
      worldDir,
      outbox: path.join(dir, `outbox-${engine.engine}`),
      orgs: ACUTE,
      datasets: MSDS,
    });
    for (const { feed, report } of loaded) expect(report.rowsRejected, feed).toBe(0);
    result = await maternityDashboard(
      store,
      { user: { id: 'u-analyst', role: 'analyst', org: null } },
      { from: FROM, to: TO },
      { disclosure: NO_DISCLOSURE_CONTROL },
    );
  }, 300_000);
  afterAll(async () => {
    await store?.close();
  });

  it('counts what the extracts hold, for the whole system and every provider', () => {
    const expected = independentCounts();
    expect(expected.births?.ALL?.reduce((a, [n]) => a + n, 0)).toBeGreaterThan(20);
    for (const [id, byOrg] of Object.entries(expected)) {
      const measure = result.measures.find((m) => m.id === id);
      const pairs = (org: string): [unknown, unknown][] =>
        ((org === 'ALL' ? measure?.series : measure?.providers.find((p) => p.org === org))?.points ?? []).map(
          (p) => [p.numerator, p.denominator],
        );
      for (const org of [...ACUTE, 'ALL']) expect([id, org, pairs(org)]).toEqual([id, org, byOrg[org]]);
    }
  });
});
