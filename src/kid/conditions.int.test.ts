import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ageInMonthsOn,
  aliveOn,
  CODE_LIST_OF,
  kidWorldForFile,
  openWorldForSuite,
  truthConditionsOn,
  truthAddressOn,
  type TruthPerson,
} from '../../test/kid-world.ts';
import { testStores } from '../../test/stores.ts';
import type { Store } from '../store/store.ts';
import { CLINICAL_CODES } from '../synth/world.ts';
import { AGE_BANDS, conditionLists, conditionSummary } from './conditions.ts';

const world = kidWorldForFile({
  people: 800,
  from: '2020-04',
  to: '2020-09',
  datasets: ['pmi', 'gp-events'],
  defects: 'none',
  timeout: 180_000,
});

const alive = aliveOn;

describe('condition code lists', () => {
  it('hold at least the seventeen conditions, each naming its source, and cover the synthetic world\u2019s diagnosis codes', () => {
    const lists = conditionLists();
    expect(lists.length).toBeGreaterThanOrEqual(17);
    expect(lists.every((l) => l.source.includes(l.cluster))).toBe(true);
    const codes = new Set(lists.flatMap((l) => l.codes.map((c) => c.code)));
    for (const [name, spec] of Object.entries(CLINICAL_CODES.gpConditions))
      if (name in CODE_LIST_OF) expect(codes.has(spec.diagnosis), name).toBe(true);
  });

  it('refuses a code list without a source or with a code that is not a SNOMED CT id', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-codes-'));
    writeFileSync(
      path.join(dir, 'gout.json'),
      JSON.stringify({ id: 'gout', title: 'Gout', cluster: 'X', source: '', codes: [] }),
    );
    expect(() => conditionLists(dir)).toThrow(/does not name its source/);
    writeFileSync(
      path.join(dir, 'gout.json'),
      JSON.stringify({
        id: 'gout',
        title: 'Gout',
        cluster: 'X',
        source: 'X',
        codes: [{ code: 'M10', term: 'Gout' }],
      }),
    );
    expect(() => conditionLists(dir)).toThrow(/not a SNOMED CT id/);
  });
});

describe.each(testStores())('long-term conditions on $engine', (engine) => {
  let store: Store;
  openWorldForSuite(engine, (s) => (store = s), { world: () => world, buildKid: true });

  it('finds each condition\u2019s prevalence and the number of conditions per person as the truth has them', async () => {
    for (const day of ['2020-04-01', '2020-09-30']) {
      const summary = await conditionSummary(store, day);
      const living = world.people.filter((p) => alive(p, day));
      expect(summary.people).toBe(living.length);
      for (const { condition, people } of summary.prevalence)
        expect(people, condition).toBe(living.filter((p) => truthConditionsOn(p, day).has(condition)).length);
      const counts = living.map((p) => truthConditionsOn(p, day).size);
      for (const { conditions, people } of summary.byCount)
        expect(people, `${conditions} conditions`).toBe(
          counts.filter((n) => (conditions === '4+' ? n >= 4 : n === Number(conditions))).length,
        );
      expect(summary.multimorbidity).toBe(counts.filter((n) => n >= 2).length);
      expect(summary.multimorbidity).toBeGreaterThan(0);
      expect(summary.complexMultimorbidity).toBe(counts.filter((n) => n >= 4).length);
    }
    // By age band and by IMD decile, as the truth has them (age from the birth month).
    const day = '2020-09-30';
    const summary = await conditionSummary(store, day);
    const living = world.people.filter((p) => alive(p, day));
    const bandOf = (p: TruthPerson): string =>
      AGE_BANDS.find((b) => ageInMonthsOn(p, day) < b.below * 12)?.band ?? '85+';
    for (const row of summary.byAgeBand) {
      const inBand = living.filter((p) => bandOf(p) === row.band);
      expect(row.people, row.band).toBe(inBand.length);
      expect(row.multimorbidity, row.band).toBe(
        inBand.filter((p) => truthConditionsOn(p, day).size >= 2).length,
      );
    }
    const decileOf = (p: TruthPerson): string =>
      String(world.imdDecile.get(truthAddressOn(world, p, day)?.lsoa ?? '') ?? 'unknown');
    for (const row of summary.byImdDecile) {
      const inDecile = living.filter((p) => decileOf(p) === row.decile);
      expect(row.people, `decile ${row.decile}`).toBe(inDecile.length);
      expect(row.multimorbidity, `decile ${row.decile}`).toBe(
        inDecile.filter((p) => truthConditionsOn(p, day).size >= 2).length,
      );
    }
    // Conditions diagnosed during the window count from their diagnosis date only.
    const start = await conditionSummary(store, '2020-04-01');
    const end = await conditionSummary(store, '2020-09-30');
    expect(end.prevalence).not.toEqual(start.prevalence);
  });
});
