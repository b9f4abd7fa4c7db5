/**
 * A small maternity world for tests, counted by hand: written straight into the warehouse
 * tables the ingest module creates (the same accepted shape a load writes), with the
 * organisations, data sharing agreements and an active planning use case the access
 * policy needs. `EXPECTED` holds the hand counts the measures must reproduce.
 */
import { getDataset } from '../src/catalogue/catalogue.ts';
import { createAgreement } from '../src/governance/agreements.ts';
import { seedOrganisations } from '../src/governance/organisations.ts';
import { ensureDatasetTable } from '../src/ingest/dataset-table.ts';
import { deidPlan } from '../src/privacy/deid-plan.ts';
import type { SqlValue, Store } from '../src/store/store.ts';
import { MSDS_DATASETS } from '../src/analytics/maternity-tables.ts';
import type { MaternityQuery } from '../src/analytics/maternity-dashboard.ts';
import { activeUseCase } from './use-cases.ts';

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
/** What the Robson groups, VBAC, births without intervention and induction read from a delivery. */
interface Labour {
  onset: string;
  previousCs: number;
  previousLive: number;
  episiotomy: boolean | null;
  anaesthesia: string | null;
  arom: boolean | null;
  oxytocin: boolean | null;
}
const delivery = (
  org: string,
  mother: string,
  date: string,
  births: number,
  smoking: string | null,
  bloodLoss: number | null,
  lesion: string | null,
  labour: Labour,
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
    LabourOnsetMethod: labour.onset,
    PreviousCaesareanSections: labour.previousCs,
    PreviousLiveBirths: labour.previousLive,
    PreviousStillBirths: 0,
    Episiotomy: labour.episiotomy,
    LabourAnaesthesiaType: labour.anaesthesia,
    AROM: labour.arom,
    OxytocinAdministeredInd: labour.oxytocin,
    OrgCodeProvider: org,
  },
];
/** A first birth, labour begun by itself, with no intervention recorded. */
const NATURAL: Labour = {
  onset: '1',
  previousCs: 0,
  previousLive: 0,
  episiotomy: false,
  anaesthesia: 'N',
  arom: false,
  oxytocin: false,
};
export const baby = (
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
    presentation?: string | null;
    neonatalUnit?: boolean | null;
    ageAtDeath?: number | null;
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
    FetusPresentation: b.presentation === undefined ? '01' : b.presentation,
    NeonatalAdmission: b.neonatalUnit ?? null,
    AgeAtDeathBaby: b.ageAtDeath ?? null,
    UniqPregID: `P-${mother}`,
    LabourDeliveryID: `L-${mother}`,
    PersonPhenSex: '2',
    OrgCodeProvider: org,
  },
];

/** Baby b1, sent in February's submission and again, unchanged, in March's. */
const B1 = {
  outcome: '01',
  gest: 280,
  method: '0',
  apgar: 5,
  feed: '01',
  weight: 2400,
  neonatalUnit: false,
};

export const WORLD: Record<string, [string, Fields][]> = {
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
    // m9: a first birth, induced, by emergency caesarean at term (Robson group 2)
    delivery('RWF', 'm9', '2021-01-20', 1, 'Non-Smoker / Ex-Smoker', 800, null, {
      ...NATURAL,
      onset: '3',
      anaesthesia: 'S',
      arom: true,
    }),
    delivery('RWF', 'm1', '2021-02-02', 1, 'Smoker', 1600, '10217006', NATURAL), // Robson 1; a tear, so not without intervention
    delivery('RWF', 'm2', '2021-02-10', 1, 'Non-Smoker / Ex-Smoker', 500, null, {
      ...NATURAL,
      onset: '3',
      anaesthesia: 'S',
      arom: true,
    }),
    // twins, caesarean before labour, after one earlier caesarean
    delivery('RWF', 'm3', '2021-02-20', 2, null, 1500, null, {
      ...NATURAL,
      onset: '2',
      previousCs: 1,
      previousLive: 1,
      anaesthesia: 'S',
    }),
    // one earlier caesarean and one earlier birth, now a forceps birth at term: Robson 5 and VBAC
    delivery('RWF', 'm6', '2021-03-04', 1, 'Non-Smoker / Ex-Smoker', 300, '399031001', {
      ...NATURAL,
      previousCs: 1,
      previousLive: 1,
      episiotomy: true,
      anaesthesia: 'E',
    }),
    delivery('RWF', 'm7', '2021-03-15', 1, 'Smoker', 2000, null, {
      onset: '4',
      previousCs: 0,
      previousLive: 2,
      episiotomy: null,
      anaesthesia: null,
      arom: null,
      oxytocin: null,
    }),
    delivery('RVV', 'm5', '2021-02-25', 1, 'Smoker', 100, null, NATURAL), // born without intervention
  ],
  'msds-baby': [
    baby('RWF', 'b9', 'm9', '2021-01-01', {
      outcome: '01',
      gest: 285,
      method: '8',
      apgar: 9,
      feed: '01',
      weight: 3300,
      neonatalUnit: true,
    }),
    baby('RWF', 'b1', 'm1', '2021-02-01', B1),
    // b1 sent again in March's submission (born 2 February): it supersedes the February
    // record and still counts once, in February, its month of birth — the hand counts below
    // are the same as without it
    baby('RWF', 'b1', 'm1', '2021-03-01', B1),
    baby('RWF', 'b2', 'm2', '2021-02-01', {
      outcome: '01',
      gest: 250,
      method: '8',
      apgar: 9,
      feed: '03',
      weight: 2000,
      neonatalUnit: true,
      ageAtDeath: 3, // a neonatal death
    }),
    baby('RWF', 'b3', 'm3', '2021-02-01', {
      outcome: '01',
      gest: 240,
      method: '7',
      apgar: 8,
      feed: '02',
      weight: 1800,
      neonatalUnit: true,
    }),
    baby('RWF', 'b4', 'm3', '2021-02-01', {
      outcome: '02',
      gest: 240,
      method: '7',
      apgar: 0,
      feed: null,
      weight: 1500,
      presentation: '02',
    }),
    baby('RWF', 'b5', 'm6', '2021-03-01', {
      outcome: '01',
      gest: 300,
      method: '2',
      apgar: 9,
      feed: '02',
      weight: 3500,
      neonatalUnit: false,
      ageAtDeath: 40, // died, but after the neonatal period
    }),
    baby('RWF', 'b6', 'm7', '2021-03-01', {
      outcome: '03',
      gest: 200,
      method: '0',
      apgar: null,
      feed: null,
      weight: 900,
      presentation: null,
    }),
    // no baby token, and no delivery record for the mother: counts where no delivery fact is needed
    baby('RWF', null, 'm8', '2021-03-01', {
      outcome: '01',
      gest: 275,
      method: '0',
      apgar: 10,
      feed: '01',
      weight: 3100,
      neonatalUnit: true,
    }),
    baby('RVV', 'b8', 'm5', '2021-02-01', {
      outcome: '01',
      gest: 270,
      method: '1',
      apgar: 6,
      feed: '01',
      weight: 2600,
      neonatalUnit: false,
    }),
  ],
};

/** Hand counts: measure → org ('ALL' = whole system) → [Jan, Feb, Mar] as [numerator, denominator]. */
/** [numerator, denominator] per month, January to March 2021; [null, null] is a month with no submission (a gap). RVV submitted nothing for March. */
export const EXPECTED: Record<string, Record<string, ([number, number] | [null, null])[]>> = {
  births: {
    RWF: [
      [1, 1],
      [4, 4],
      [3, 3],
    ],
    RVV: [
      [0, 0],
      [1, 1],
      [null, null],
    ],
    ALL: [
      [1, 1],
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
      [null, null],
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
      [null, null],
    ],
    ALL: [
      [1, 3],
      [1, 1],
      [0, 0],
    ],
  },
  'smoking-at-delivery': {
    RWF: [
      [0, 1],
      [1, 2],
      [1, 2],
    ],
    RVV: [
      [0, 0],
      [1, 1],
      [null, null],
    ],
    ALL: [
      [0, 1],
      [2, 3],
      [1, 2],
    ],
  },
  'breastfeeding-first-feed': {
    RWF: [
      [1, 1],
      [2, 3],
      [2, 2],
    ],
    RVV: [
      [0, 0],
      [1, 1],
      [null, null],
    ],
    ALL: [
      [1, 1],
      [3, 4],
      [2, 2],
    ],
  },
  'caesarean-elective': {
    RWF: [
      [0, 1],
      [1, 3],
      [0, 2],
    ],
    RVV: [
      [0, 0],
      [0, 1],
      [null, null],
    ],
    ALL: [
      [0, 1],
      [1, 4],
      [0, 2],
    ],
  },
  'caesarean-emergency': {
    RWF: [
      [1, 1],
      [1, 3],
      [0, 2],
    ],
    RVV: [
      [0, 0],
      [0, 1],
      [null, null],
    ],
    ALL: [
      [1, 1],
      [1, 4],
      [0, 2],
    ],
  },
  'caesarean-all': {
    RWF: [
      [1, 1],
      [2, 3],
      [0, 2],
    ],
    RVV: [
      [0, 0],
      [0, 1],
      [null, null],
    ],
    ALL: [
      [1, 1],
      [2, 4],
      [0, 2],
    ],
  },
  'preterm-births': {
    RWF: [
      [0, 1],
      [1, 2],
      [0, 1],
    ],
    RVV: [
      [0, 0],
      [0, 1],
      [null, null],
    ],
    ALL: [
      [0, 1],
      [1, 3],
      [0, 1],
    ],
  },
  // every measure counts each month on its own (no rolling windows: SPC needs independent points)
  'pph-1500': {
    RWF: [
      [0, 1],
      [2, 3],
      [1, 2],
    ],
    RVV: [
      [0, 0],
      [0, 1],
      [null, null],
    ],
    ALL: [
      [0, 1],
      [2, 4],
      [1, 2],
    ],
  },
  'third-fourth-degree-tears': {
    RWF: [
      [0, 0],
      [1, 1],
      [1, 1],
    ],
    RVV: [
      [0, 0],
      [0, 1],
      [null, null],
    ],
    ALL: [
      [0, 0],
      [1, 2],
      [1, 1],
    ],
  },
  'apgar-low-term': {
    RWF: [
      [0, 1],
      [1, 1],
      [0, 1],
    ],
    RVV: [
      [0, 0],
      [1, 1],
      [null, null],
    ],
    ALL: [
      [0, 1],
      [2, 2],
      [0, 1],
    ],
  },
  'low-birthweight-term': {
    RWF: [
      [0, 1],
      [1, 1],
      [0, 2],
    ],
    RVV: [
      [0, 0],
      [0, 1],
      [null, null],
    ],
    ALL: [
      [0, 1],
      [1, 2],
      [0, 2],
    ],
  },
  'stillbirth-rate': {
    RWF: [
      [0, 1],
      [1, 4],
      [1, 3],
    ],
    RVV: [
      [0, 0],
      [0, 1],
      [null, null],
    ],
    ALL: [
      [0, 1],
      [1, 5],
      [1, 3],
    ],
  },
  // the measures an LMNS reads (issue 17), counted by hand from the rows above
  'robson-1': {
    RWF: [
      [0, 0],
      [0, 1],
      [0, 0],
    ],
    RVV: [
      [0, 0],
      [0, 1],
      [null, null],
    ],
    ALL: [
      [0, 0],
      [0, 2],
      [0, 0],
    ],
  },
  'robson-2': {
    RWF: [
      [1, 1],
      [0, 0],
      [0, 0],
    ],
    RVV: [
      [0, 0],
      [0, 0],
      [null, null],
    ],
    ALL: [
      [1, 1],
      [0, 0],
      [0, 0],
    ],
  },
  'robson-5': {
    RWF: [
      [0, 0],
      [0, 0],
      [0, 1],
    ],
    RVV: [
      [0, 0],
      [0, 0],
      [null, null],
    ],
    ALL: [
      [0, 0],
      [0, 0],
      [0, 1],
    ],
  },
  vbac: {
    RWF: [
      [0, 0],
      [0, 0],
      [1, 1],
    ],
    RVV: [
      [0, 0],
      [0, 0],
      [null, null],
    ],
    ALL: [
      [0, 0],
      [0, 0],
      [1, 1],
    ],
  },
  'birth-without-intervention': {
    RWF: [
      [0, 0],
      [0, 1],
      [0, 0],
    ],
    RVV: [
      [0, 0],
      [1, 1],
      [null, null],
    ],
    ALL: [
      [0, 0],
      [1, 2],
      [0, 0],
    ],
  },
  'induction-of-labour': {
    RWF: [
      [1, 1],
      [1, 3],
      [1, 2],
    ],
    RVV: [
      [0, 0],
      [0, 1],
      [null, null],
    ],
    ALL: [
      [1, 1],
      [1, 4],
      [1, 2],
    ],
  },
  'term-admissions-neonatal': {
    RWF: [
      [1, 1],
      [0, 1],
      [1, 2],
    ],
    RVV: [
      [0, 0],
      [0, 1],
      [null, null],
    ],
    ALL: [
      [1, 1],
      [0, 2],
      [1, 2],
    ],
  },
  'neonatal-deaths': {
    RWF: [
      [0, 1],
      [1, 3],
      [0, 2],
    ],
    RVV: [
      [0, 0],
      [0, 1],
      [null, null],
    ],
    ALL: [
      [0, 1],
      [1, 4],
      [0, 2],
    ],
  },
};

export const WINDOW: MaternityQuery = { from: '2021-01', to: '2021-03' };
const ACTOR = 'test:maternity';

/** Builds the world; answers the use case id. `users` are use-case members (`role:<role>` or user ids). */
export async function buildWorld(
  store: Store,
  users: string[] = ['role:provider', 'role:analyst', 'role:viewer'],
): Promise<string> {
  await seedOrganisations(store, ACTOR);
  for (const org of ['RWF', 'RVV']) {
    await createAgreement(
      store,
      { org, datasets: [...MSDS_DATASETS], from: '2019-04', to: '2030-03' },
      ACTOR,
    );
  }
  const proposed = await activeUseCase(
    store,
    {
      title: 'Maternity dashboard (test)',
      datasets: [...MSDS_DATASETS],
      controllers: ['RWF', 'RVV'],
      users,
      start: '2021-04-01',
      end: '2099-03-31',
      // the world's months are loaded, never signed off: the use case reads them as loaded
      months: 'loaded',
    },
    ACTOR,
  );

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

export async function recordLoad(
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

/** Inserts one more baby, as a new load would. */
export async function addBaby(store: Store, org: string, fields: Fields, loadId: string): Promise<void> {
  const plan = deidPlan(getDataset('msds-baby'));
  const columns = ['load_id', 'org_code', ...plan.accepted];
  await store.insertRows('ds_msds_baby', columns, [
    columns.map((c) =>
      c === 'load_id' ? loadId : c === 'org_code' ? org : c === 'source_line' ? 2 : (fields[c] ?? null),
    ),
  ]);
}
