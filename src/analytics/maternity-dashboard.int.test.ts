/**
 * The maternity measures against hand-counted values, on both engines. The small world
 * below is written straight into the warehouse tables the ingest module creates (the same
 * accepted shape a load writes), read through the real access policy under a real use case.
 * Every expected figure is counted by hand in the comments beside the rows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDataset } from '../catalogue/catalogue.ts';
import { createAgreement } from '../governance/agreements.ts';
import { seedOrganisations } from '../governance/organisations.ts';
import { activateUseCase, approveUseCase, proposeUseCase } from '../governance/use-cases.ts';
import { ensureDatasetTable } from '../ingest/dataset-table.ts';
import { deidPlan } from '../privacy/deid-plan.ts';
import type { SqlValue, Store } from '../store/store.ts';
import { testStores } from '../../test/stores.ts';
import {
  clearMaternityCache,
  maternityDashboard,
  type MaternityDashboard,
  type MaternityQuery,
} from './maternity-dashboard.ts';
import { MSDS_COLUMNS, MSDS_DATASETS } from './maternity-tables.ts';
import { NO_DISCLOSURE_CONTROL } from './disclosure-control.ts';

type Fields = Record<string, SqlValue>;

const booking = (
  org: string,
  mother: string,
  date: string,
  gest: number,
  smoking: string | null,
): [string, Fields] => [
  org,
  {
    person_token: mother,
    AntenatalAppDate: date,
    GestAgeBooking: gest,
    SmokingStatusBooking: smoking,
    UniqPregID: `P-${mother}`,
    OrgCodeProvider: org,
  },
];
const delivery = (
  org: string,
  mother: string,
  date: string,
  births: number,
  smoking: string | null,
  bloodLoss: number | null,
  lesion: string | null,
): [string, Fields] => [
  org,
  {
    person_token: mother,
    DeliveryDate: date,
    BirthsPerLabandDel: births,
    SmokingStatusDelivery: smoking,
    BloodLossMl: bloodLoss,
    GenitalTractTraumaticLesion: lesion,
    UniqPregID: `P-${mother}`,
    LabourDeliveryID: `L-${mother}`,
    LabourOnsetMethod: '1',
    OrgCodeProvider: org,
  },
];
const baby = (
  org: string,
  token: string | null,
  mother: string,
  period: string,
  b: {
    outcome: string;
    gest: number;
    method: string;
    apgar: number | null;
    feed: string | null;
    weight: number;
  },
): [string, Fields] => [
  org,
  {
    person_token: token,
    mother_person_token: mother,
    RPStartDate: period,
    PregOutcome: b.outcome,
    GestationLengthBirth: b.gest,
    DeliveryMethodCode: b.method,
    ApgarScore: b.apgar,
    BabyFirstFeedIndCode: b.feed,
    BirthWeight: b.weight,
    UniqPregID: `P-${mother}`,
    LabourDeliveryID: `L-${mother}`,
    PersonPhenSex: '2',
    OrgCodeProvider: org,
  },
];

const WORLD: Record<string, [string, Fields][]> = {
  'msds-booking': [
    booking('RWF', 'm1', '2021-01-05', 60, 'Smoker'),
    booking('RWF', 'm1', '2021-01-20', 60, 'Smoker'), // the same mother twice: counts once
    booking('RWF', 'm2', '2021-01-07', 70, 'Non-Smoker / Ex-Smoker'),
    booking('RWF', 'm3', '2021-01-09', 71, 'Non-Smoker / Ex-Smoker'),
    booking('RWF', 'm4', '2021-01-11', 400, null), // invalid gestation, unknown smoking: in neither denominator
    booking('RVV', 'm2', '2021-01-15', 80, 'Non-Smoker / Ex-Smoker'), // m2 at a second provider
    booking('RVV', 'm5', '2021-02-03', 50, 'Smoker'),
  ],
  'msds-delivery': [
    delivery('RWF', 'm1', '2021-02-02', 1, 'Smoker', 1600, '10217006'),
    delivery('RWF', 'm2', '2021-02-10', 1, 'Non-Smoker / Ex-Smoker', 500, null),
    delivery('RWF', 'm3', '2021-02-20', 2, null, 1500, null), // twins
    delivery('RWF', 'm6', '2021-03-04', 1, 'Non-Smoker / Ex-Smoker', 300, '399031001'),
    delivery('RWF', 'm7', '2021-03-15', 1, 'Smoker', 2000, null),
    delivery('RVV', 'm5', '2021-02-25', 1, 'Smoker', 100, null),
  ],
  'msds-baby': [
    baby('RWF', 'b1', 'm1', '2021-02-01', {
      outcome: '01',
      gest: 280,
      method: '0',
      apgar: 5,
      feed: '01',
      weight: 2400,
    }),
    baby('RWF', 'b2', 'm2', '2021-02-01', {
      outcome: '01',
      gest: 250,
      method: '8',
      apgar: 9,
      feed: '03',
      weight: 2000,
    }),
    baby('RWF', 'b3', 'm3', '2021-02-01', {
      outcome: '01',
      gest: 240,
      method: '7',
      apgar: 8,
      feed: '02',
      weight: 1800,
    }),
    baby('RWF', 'b4', 'm3', '2021-02-01', {
      outcome: '02',
      gest: 240,
      method: '7',
      apgar: 0,
      feed: null,
      weight: 1500,
    }),
    baby('RWF', 'b5', 'm6', '2021-03-01', {
      outcome: '01',
      gest: 300,
      method: '2',
      apgar: 9,
      feed: '02',
      weight: 3500,
    }),
    baby('RWF', 'b6', 'm7', '2021-03-01', {
      outcome: '03',
      gest: 200,
      method: '0',
      apgar: null,
      feed: null,
      weight: 900,
    }),
    // no baby token, and no delivery record for the mother: counts where no delivery fact is needed
    baby('RWF', null, 'm8', '2021-03-01', {
      outcome: '01',
      gest: 275,
      method: '0',
      apgar: 10,
      feed: '01',
      weight: 3100,
    }),
    baby('RVV', 'b8', 'm5', '2021-02-01', {
      outcome: '01',
      gest: 270,
      method: '1',
      apgar: 6,
      feed: '01',
      weight: 2600,
    }),
  ],
};

/** Hand counts: measure → org ('ALL' = whole system) → [Jan, Feb, Mar] as [numerator, denominator]. */
const EXPECTED: Record<string, Record<string, [number, number][]>> = {
  births: {
    RWF: [
      [0, 0],
      [4, 4],
      [3, 3],
    ],
    RVV: [
      [0, 0],
      [1, 1],
      [0, 0],
    ],
    ALL: [
      [0, 0],
      [5, 5],
      [3, 3],
    ],
  },
  'booking-by-10-weeks': {
    RWF: [
      [2, 3],
      [0, 0],
      [0, 0],
    ],
    RVV: [
      [0, 1],
      [1, 1],
      [0, 0],
    ],
    ALL: [
      [2, 3],
      [1, 1],
      [0, 0],
    ],
  },
  'smoking-at-booking': {
    RWF: [
      [1, 3],
      [0, 0],
      [0, 0],
    ],
    RVV: [
      [0, 1],
      [1, 1],
      [0, 0],
    ],
    ALL: [
      [1, 3],
      [1, 1],
      [0, 0],
    ],
  },
  'smoking-at-delivery': {
    RWF: [
      [0, 0],
      [1, 2],
      [1, 2],
    ],
    RVV: [
      [0, 0],
      [1, 1],
      [0, 0],
    ],
    ALL: [
      [0, 0],
      [2, 3],
      [1, 2],
    ],
  },
  'breastfeeding-first-feed': {
    RWF: [
      [0, 0],
      [2, 3],
      [2, 2],
    ],
    RVV: [
      [0, 0],
      [1, 1],
      [0, 0],
    ],
    ALL: [
      [0, 0],
      [3, 4],
      [2, 2],
    ],
  },
  'caesarean-elective': {
    RWF: [
      [0, 0],
      [1, 3],
      [0, 2],
    ],
    RVV: [
      [0, 0],
      [0, 1],
      [0, 0],
    ],
    ALL: [
      [0, 0],
      [1, 4],
      [0, 2],
    ],
  },
  'caesarean-emergency': {
    RWF: [
      [0, 0],
      [1, 3],
      [0, 2],
    ],
    RVV: [
      [0, 0],
      [0, 1],
      [0, 0],
    ],
    ALL: [
      [0, 0],
      [1, 4],
      [0, 2],
    ],
  },
  'caesarean-all': {
    RWF: [
      [0, 0],
      [2, 3],
      [0, 2],
    ],
    RVV: [
      [0, 0],
      [0, 1],
      [0, 0],
    ],
    ALL: [
      [0, 0],
      [2, 4],
      [0, 2],
    ],
  },
  'preterm-births': {
    RWF: [
      [0, 0],
      [1, 2],
      [0, 1],
    ],
    RVV: [
      [0, 0],
      [0, 1],
      [0, 0],
    ],
    ALL: [
      [0, 0],
      [1, 3],
      [0, 1],
    ],
  },
  // rolling 3 months: Feb = Dec–Feb, Mar = Jan–Mar
  'pph-1500': {
    RWF: [
      [0, 0],
      [2, 3],
      [3, 5],
    ],
    RVV: [
      [0, 0],
      [0, 1],
      [0, 1],
    ],
    ALL: [
      [0, 0],
      [2, 4],
      [3, 6],
    ],
  },
  'third-fourth-degree-tears': {
    RWF: [
      [0, 0],
      [1, 1],
      [2, 2],
    ],
    RVV: [
      [0, 0],
      [0, 1],
      [0, 1],
    ],
    ALL: [
      [0, 0],
      [1, 2],
      [2, 3],
    ],
  },
  'apgar-low-term': {
    RWF: [
      [0, 0],
      [1, 1],
      [1, 2],
    ],
    RVV: [
      [0, 0],
      [1, 1],
      [1, 1],
    ],
    ALL: [
      [0, 0],
      [2, 2],
      [2, 3],
    ],
  },
  'low-birthweight-term': {
    RWF: [
      [0, 0],
      [1, 1],
      [1, 3],
    ],
    RVV: [
      [0, 0],
      [0, 1],
      [0, 1],
    ],
    ALL: [
      [0, 0],
      [1, 2],
      [1, 4],
    ],
  },
  'stillbirth-rate': {
    RWF: [
      [0, 0],
      [1, 4],
      [2, 7],
    ],
    RVV: [
      [0, 0],
      [0, 1],
      [0, 1],
    ],
    ALL: [
      [0, 0],
      [1, 5],
      [2, 8],
    ],
  },
};

const WINDOW: MaternityQuery = { from: '2021-01', to: '2021-03' };
const ACTOR = 'test:maternity';

async function buildWorld(store: Store): Promise<string> {
  await seedOrganisations(store, ACTOR);
  for (const org of ['RWF', 'RVV']) {
    await createAgreement(
      store,
      { org, datasets: [...MSDS_DATASETS], from: '2019-04', to: '2030-03' },
      ACTOR,
    );
  }
  const proposed = await proposeUseCase(
    store,
    {
      title: 'Maternity dashboard (test)',
      sponsor: 'QKS',
      purpose: 'planning',
      legalBasis: 'UK GDPR Art 6(1)(e) and 9(2)(h)',
      datasets: [...MSDS_DATASETS],
      controllers: ['RWF', 'RVV'],
      users: ['role:provider', 'role:analyst', 'role:viewer'],
      start: '2021-04-01',
      end: '2099-03-31',
    },
    ACTOR,
  );
  for (const org of ['RWF', 'RVV']) await approveUseCase(store, proposed.id, org, ACTOR);
  await activateUseCase(store, proposed.id, ACTOR);

  for (const dataset of MSDS_DATASETS) {
    const plan = deidPlan(getDataset(dataset));
    const table = await ensureDatasetTable(store, plan);
    const columns = ['load_id', 'org_code', ...plan.accepted];
    const rows = (WORLD[dataset] ?? []).map(([org, fields], i) =>
      columns.map((c) =>
        c === 'load_id'
          ? `L-${dataset}`
          : c === 'org_code'
            ? org
            : c === 'source_line'
              ? i + 2
              : (fields[c] ?? null),
      ),
    );
    await store.insertRows(table, columns, rows);
    await recordLoad(store, `L-${dataset}`, dataset);
  }
  return proposed.id;
}

async function recordLoad(
  store: Store,
  loadId: string,
  dataset: string,
  finishedAt = '2021-04-02T10:00:00Z',
): Promise<void> {
  await store.run(
    `INSERT INTO loads (load_id, org_code, dataset_id, period, file_name, status, started_at, finished_at, actor, host, pid)
     VALUES ($1, 'RWF', $2, '2021-03', 'test.csv', 'loaded', $3, $3, $4, 'test', 1)`,
    [loadId, dataset, finishedAt, ACTOR],
  );
}

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
    expect(pph?.series.points[2]?.value).toBe(600); // 3 of 5 per 1,000
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

  it('suppresses small counts for everyone else (HES 2018: 0 shown, 1–7 as *)', async () => {
    const result = await maternityDashboard(store, analyst, WINDOW);
    expect(result.disclosure.policy).toBe('hes2018');
    expect(result.disclosure.text).toMatch(/1 to 7 are shown as \*/);
    expect(pairs(result, 'births', null)).toEqual([
      [0, 0],
      ['*', '*'],
      ['*', '*'],
    ]);
    const stillbirths = result.measures.find((m) => m.id === 'stillbirth-rate');
    expect(stillbirths?.series.points.map((p) => p.value)).toEqual([null, '*', '*']);
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

  it('audits every request, cached or not', async () => {
    const count = async (): Promise<number> => {
      const [row] = await store.query<{ n: number }>(
        `SELECT COUNT(*) AS n FROM audit_events WHERE action = 'data.read' AND purpose = $1`,
        [useCaseId],
      );
      return Number(row?.n ?? 0);
    };
    const before = await count();
    await maternityDashboard(store, analyst, WINDOW);
    await maternityDashboard(store, analyst, WINDOW);
    expect(await count()).toBe(before + 2 * MSDS_DATASETS.length);
  });

  it('serves repeated requests from the cache and recomputes after a new load', async () => {
    clearMaternityCache();
    const first = await maternityDashboard(store, analyst, WINDOW, { disclosure: NO_DISCLOSURE_CONTROL });
    const second = await maternityDashboard(store, analyst, WINDOW, { disclosure: NO_DISCLOSURE_CONTROL });
    expect([first.cached, second.cached]).toEqual([false, true]);
    expect(second.measures).toEqual(first.measures);

    // A new March baby arrives in a new load.
    const plan = deidPlan(getDataset('msds-baby'));
    const columns = ['load_id', 'org_code', ...plan.accepted];
    const [, fields] = baby('RVV', 'b9', 'm9', '2021-03-01', {
      outcome: '01',
      gest: 281,
      method: '0',
      apgar: 9,
      feed: '01',
      weight: 3300,
    });
    await store.insertRows('ds_msds_baby', columns, [
      columns.map((c) =>
        c === 'load_id' ? 'L-new' : c === 'org_code' ? 'RVV' : c === 'source_line' ? 2 : (fields[c] ?? null),
      ),
    ]);
    await recordLoad(store, 'L-new', 'msds-baby', '2021-04-03T10:00:00Z');

    const third = await maternityDashboard(store, analyst, WINDOW, { disclosure: NO_DISCLOSURE_CONTROL });
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
});
