import { describe, expect, it } from 'vitest';
import {
  ageInMonthsOn,
  aliveOn,
  kidWorldForFile,
  openWorldForSuite,
  truthAddressOn,
  type TruthPerson,
} from '../../test/kid-world.ts';
import { testStores } from '../../test/stores.ts';
import type { Store } from '../store/store.ts';
import { householdMeasures } from './households.ts';

const world = kidWorldForFile({
  people: 1000,
  from: '2020-04',
  to: '2020-09',
  datasets: ['pmi', 'asc', 'fire-safety'],
  defects: 'none',
  timeout: 180_000,
});

const alive = aliveOn;
/** 75 or over from the first day of the month of the 75th birthday (the warehouse has no day of birth). */
const aged75 = (p: TruthPerson, day: string): boolean => ageInMonthsOn(p, day) >= 900;

/** The truth's households on a day: living people grouped by the UPRN token of their home. */
function truthHouseholds(day: string): Map<string, TruthPerson[]> {
  const homes = new Map<string, TruthPerson[]>();
  for (const person of world.people) {
    if (!alive(person, day)) continue;
    const address = truthAddressOn(world, person, day);
    if (!address) continue;
    homes.set(address.uprnToken, [...(homes.get(address.uprnToken) ?? []), person]);
  }
  return homes;
}

describe.each(testStores())('households on $engine', (engine) => {
  let store: Store;
  openWorldForSuite(engine, (s) => (store = s), { world: () => world, buildKid: true });

  it('counts people per household and people aged 75+ living alone as the truth has them', async () => {
    for (const day of ['2020-04-01', '2020-09-30']) {
      const measures = await householdMeasures(store, day);
      const homes = truthHouseholds(day);
      expect(measures.households).toBe(homes.size);
      expect(measures.peopleInHouseholds).toBe([...homes.values()].reduce((n, h) => n + h.length, 0));
      expect(measures.people).toBe(world.people.filter((p) => alive(p, day)).length);
      const sizes = [...homes.values()].map((h) => h.length);
      for (const { size, households } of measures.bySize)
        expect(households, `households of ${size}`).toBe(
          sizes.filter((n) => (size === '6+' ? n >= 6 : n === Number(size))).length,
        );
      const alone = [...homes.values()].filter((h) => h.length === 1 && h[0] && aged75(h[0], day)).length;
      expect(alone).toBeGreaterThan(0);
      expect(measures.aged75LivingAlone).toBe(alone);
    }
  });

  it('links each fire home-safety visit to the people living there on the visit date', async () => {
    const visits = await store.query<{ uprn_token: string; day: string }>(
      `SELECT uprn_token, CAST("Visit_Date" AS TEXT) AS day FROM ds_fire_safety WHERE uprn_token IS NOT NULL`,
    );
    expect(visits.length).toBeGreaterThan(1);
    let linked = 0;
    let residents = 0;
    let older = 0;
    for (const visit of visits) {
      const home = truthHouseholds(visit.day).get(visit.uprn_token) ?? [];
      if (home.length > 0) linked++;
      residents += home.length;
      if (home.some((p) => aged75(p, visit.day))) older++;
    }
    const measures = await householdMeasures(store, '2020-09-30');
    expect(measures.fireVisits).toEqual({
      visits: visits.length,
      linked,
      residentsReached: residents,
      withResident75Plus: older,
    });
    expect(linked).toBeGreaterThan(0);
  });
});
