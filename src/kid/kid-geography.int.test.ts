/**
 * The KID and the reference geography (docs/geography.md): the model's PCN follows each
 * practice's ePCN membership on the model's day, as the synthetic world says; residence
 * periods and loads record the geography their LSOA and IMD decile were derived with; a new
 * reference release makes the KID stale.
 */
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeKidWorld, openWorldForSuite, truthAddressOn, type KidWorld } from '../../test/kid-world.ts';
import { testStores } from '../../test/stores.ts';
import { loadReferenceGeography } from '../reference/load-reference-geography.ts';
import type { Store } from '../store/store.ts';
import { buildReferenceGeography, pcnOn, type PcnMembership } from '../synth/reference-geography.ts';
import { buildWorld } from '../synth/world.ts';
import { buildSpine, spineStatus } from './person-spine.ts';

const FROM = '2020-01';
const TO = '2021-03';
let world: KidWorld;
let memberships: PcnMembership[];

beforeAll(async () => {
  world = await makeKidWorld({
    people: 500,
    from: FROM,
    to: TO,
    datasets: ['pmi', 'gp-events'],
    defects: 'none',
  });
  // The truth: the same world (makeKidWorld's seed), its PCN memberships worked out afresh.
  const truth = buildWorld({
    people: 500,
    seed: 13,
    from: { year: 2020, month: 1 },
    to: { year: 2021, month: 3 },
  });
  memberships = buildReferenceGeography(
    truth.geography,
    truth.practices,
    truth.window,
    truth.seed,
  ).pcnMemberships;
}, 300_000);

describe.each(testStores())('the KID with reference geography on $engine', (engine) => {
  let store: Store;
  openWorldForSuite(engine, (s) => (store = s), { world: () => world });

  it('has no PCN before a practice-to-PCN release is loaded, and is stale once one is', async () => {
    await buildSpine(store);
    const before = await store.query<{ n: number }>(
      'SELECT count(*) AS n FROM kid_person_model WHERE pcn_code IS NOT NULL',
    );
    expect(Number(before[0]?.n)).toBe(0);
    expect((await spineStatus(store)).stale).toBe(false);
    await loadReferenceGeography(store, path.join(world.dir, 'world', 'reference'), 'test');
    expect((await spineStatus(store)).stale).toBe(true);
    const build = await buildSpine(store);
    expect(build.mode).toBe('full');
    expect(build.reference).toMatchObject({ 'practice-pcn': 'ePCN-2021-03', imd: 'IMD2019' });
  });

  it("fills pcn_code with the practice's PCN on the model's day, as the world says", async () => {
    const rows = await store.query<{
      person_token: string;
      practice_code: string;
      pcn_code: string | null;
      as_of: string;
      death_date: string | null;
    }>('SELECT person_token, practice_code, pcn_code, as_of, death_date FROM kid_person_model');
    expect(rows.length).toBeGreaterThan(300);
    const byToken = new Map(world.people.map((p) => [p.token, p]));
    let moved = 0;
    for (const row of rows) {
      const day = row.death_date ?? row.as_of;
      expect(row.pcn_code, row.practice_code).toBe(pcnOn(memberships, row.practice_code, day));
      expect(row.pcn_code).not.toBeNull();
      const person = byToken.get(row.person_token);
      if (person) expect(row.practice_code).toBe(truthAddressOn(world, person, day)?.practice);
      if (memberships.some((m) => m.practice === row.practice_code && m.to !== '' && m.to < day)) moved++;
    }
    // Someone's practice changed PCN in the window, so the history (not the first PCN) was followed.
    expect(moved).toBeGreaterThan(0);
  });

  it('records the geography version of every derived area field', async () => {
    const loads = await store.query<{ lsoa_vintage: string | null; imd_version: string | null; n: number }>(
      `SELECT lsoa_vintage, imd_version, count(*) AS n FROM loads
       WHERE status = 'loaded' AND dataset_id = 'pmi' GROUP BY lsoa_vintage, imd_version`,
    );
    expect(loads.map((r) => [r.lsoa_vintage, r.imd_version])).toEqual([['2011', 'IMD2019']]);
    const residence = await store.query<{
      lsoa_vintage: string | null;
      imd_version: string | null;
      n: number;
    }>(
      `SELECT lsoa_vintage, imd_version, count(*) AS n FROM kid_spine_residence
       WHERE lsoa_code IS NOT NULL GROUP BY lsoa_vintage, imd_version`,
    );
    expect(residence.map((r) => [r.lsoa_vintage, r.imd_version])).toEqual([['2011', 'IMD2019']]);
    expect(Number(residence[0]?.n)).toBeGreaterThan(300);
    // The vintage the residence says is the one whose LSOAs the codes are: every one is a 2011 LSOA.
    const unknown = await store.query<{ n: number }>(
      `SELECT count(*) AS n FROM kid_spine_residence r
       WHERE r.lsoa_code IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM ref_lsoa l WHERE l.vintage = r.lsoa_vintage AND l.lsoa_code = r.lsoa_code)`,
    );
    expect(Number(unknown[0]?.n)).toBe(0);
  });
});
