/**
 * The person-level model's community and mental health contact counts (issue 18), on both
 * engines: CSDS and MHSDS care contacts of a synthetic world, loaded, and counted per person
 * over the model's 12 months, against the world's truth (truth/care-contacts.csv).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseCsv } from '../files/csv-file-writer.ts';
import type { Store } from '../store/store.ts';
import { kidWorldForFile, openWorldForSuite } from '../../test/kid-world.ts';
import { testStores } from '../../test/stores.ts';
import { readingUseCaseId } from '../../test/use-cases.ts';
import { createAgreement } from '../governance/agreements.ts';
import { buildFrailty } from './frailty.ts';
import { openKidRead } from './kid-read.ts';
import { buildPersonModel, windowStart } from './person-model.ts';
import { inVersion } from '../store/version-range.ts';

const AS_OF = '2021-03-31';
const FROM = windowStart(AS_OF);
const world = kidWorldForFile({
  people: 2500,
  from: '2020-03',
  to: '2021-03',
  datasets: ['pmi', 'gp-events', 'csds-care-contact', 'mhsds-care-contact'],
  defects: 'none',
  timeout: 240_000,
});
/** attended contacts in the model's window, by person token, per dataset */
const expected = { community: new Map<string, number>(), mh: new Map<string, number>() };

beforeAll(() => {
  const [header = [], ...rows] = parseCsv(
    readFileSync(path.join(world.dir, 'world', 'truth', 'care-contacts.csv'), 'utf8'),
  ).filter((r) => r.length > 1);
  const at = (name: string): number => header.indexOf(name);
  for (const r of rows) {
    const day = r[at('contact_date')] ?? '';
    if (r[at('attended')] !== 'Y' || day < FROM || day > AS_OF) continue;
    const token = world.people[Number(r[at('person_id')])]?.token ?? '';
    const counts = r[at('dataset')] === 'csds-care-contact' ? expected.community : expected.mh;
    counts.set(token, (counts.get(token) ?? 0) + 1);
  }
});

describe.each(testStores())('community and mental health contacts in the KID model on $engine', (engine) => {
  let store: Store;
  openWorldForSuite(engine, (s) => (store = s), { world: () => world, buildKid: true });
  beforeAll(() => buildPersonModel(store, 1, { asOf: AS_OF }));

  it('counts each person’s attended contacts in the 12 months as the truth does, and 0 for everyone else', async () => {
    const rows = await store.query<{
      person_token: string;
      community_contacts: number | string | null;
      mh_contacts: number | string | null;
    }>('SELECT person_token, community_contacts, mh_contacts FROM kid_model WHERE version = 1');
    expect(expected.community.size).toBeGreaterThan(5);
    expect(expected.mh.size).toBeGreaterThan(5);
    const byToken = new Map(rows.map((r) => [r.person_token, r]));
    for (const [kind, counts] of Object.entries(expected)) {
      const column = kind === 'community' ? 'community_contacts' : 'mh_contacts';
      let seen = 0;
      for (const [token, n] of counts) {
        const row = byToken.get(token);
        // someone who died or moved away before the model date is outside the model's population
        if (!row) continue;
        seen++;
        expect(Number(row[column]), `${column} of a person`).toBe(n);
      }
      expect(seen).toBeGreaterThan(counts.size / 2);
      const total = rows.reduce((sum, r) => sum + Number(r[column]), 0);
      expect(total).toBe([...counts].filter(([t]) => byToken.has(t)).reduce((sum, [, n]) => sum + n, 0));
    }
    // loaded datasets count 0, never null, for people without a contact
    expect(rows.every((r) => r.community_contacts !== null && r.mh_contacts !== null)).toBe(true);
  });

  it('reads the counts only under a use case that covers the care contacts, and needs no cover for sources never loaded', async () => {
    const orgs = (
      await store.query<{ org_code: string }>("SELECT DISTINCT org_code FROM loads WHERE status = 'loaded'")
    ).map((r) => r.org_code);
    const datasets = ['pmi', 'csds-care-contact', 'mhsds-care-contact'];
    for (const org of orgs)
      await createAgreement(store, { org, datasets, from: '2019-04', to: '2030-03' }, 'test');
    const analyst = { id: 'u-analyst', role: 'analyst', org: null };
    const pmiOnly = await readingUseCaseId(store, 'Care contacts', 'planning', ['pmi'], orgs);
    await expect(
      openKidRead(store, { user: analyst, useCaseId: pmiOnly }, ['population', 'activity']),
    ).rejects.toMatchObject({
      code: 'forbidden',
      message: expect.stringContaining('activity fields derive from csds-care-contact'),
    });
    // apc, ecds, op, asc and fire-safety were never loaded here: the read needs no cover for them.
    const covered = await readingUseCaseId(store, 'Care contacts', 'planning', datasets, orgs);
    const read = await openKidRead(store, { user: analyst, useCaseId: covered }, ['population', 'activity']);
    expect(read.datasets).toEqual(['csds-care-contact', 'mhsds-care-contact', 'pmi']);
  });

  it('leaves a version without a model date no model or eFI rows, though each keeps rows by a range of versions', async () => {
    const rowsOf = async (table: string, version: number): Promise<number> =>
      Number(
        (
          await store.query<{ n: number }>(
            `SELECT count(*) AS n FROM ${table} t WHERE ${inVersion('t', '$1')}`,
            [version],
          )
        )[0]?.n ?? 0,
      );
    const tables = ['kid_model', 'kid_frailty', 'kid_frailty_deficit'];
    for (const table of tables) expect(await rowsOf(table, 1), table).toBeGreaterThan(0);
    expect(await buildPersonModel(store, 2, { asOf: null })).toMatchObject({ asOf: null, people: 0 });
    expect(await buildFrailty(store, 2, { asOf: null })).toBe(0);
    for (const table of tables) expect(await rowsOf(table, 2), table).toBe(0);
    // the version before reads its rows until a swap would delete them
    for (const table of tables) expect(await rowsOf(table, 1), table).toBeGreaterThan(0);
  });
});
