/**
 * The person spine of the Kent Integrated Dataset: one row per person token the patient
 * master index (`ds_pmi`) knows, with a GP registration history and a residence history
 * (LSOA, IMD decile, household token), built as a new version and swapped in whole.
 *
 * Which source wins (docs/kid.md, "Which source wins"): for each field, the first record that
 * has a value, in this order — records from a GP practice before records from any other
 * provider (GP registration is the hub of the NHS's own demographics, as PDS is fed by it),
 * then the most recent Record_Date, then the latest load, then the last line. Ethnic category
 * Z ("not stated") counts as no value. A person whose records hold two or more different
 * values for a field is one disagreement for that field, counted on every build.
 */
import { currentReleases } from '../reference/geography-lookups.ts';
import { appendAudit } from '../audit/audit-log.ts';
import { KernelError } from '../errors.ts';
import type { Queryable, Row, Store } from '../store/store.ts';
import { buildConditions } from './conditions.ts';
import { buildFrailty } from './frailty.ts';
import { gatherStatistics } from './gather-statistics.ts';
import { buildRisk } from './risk.ts';
import { buildFireVisits } from './households.ts';
import { buildLinkage } from './linkage-report.ts';
import { dataEndDay, modelDateOn, type ModelDate } from './model-date.ts';
import { buildPersonModel, personActivityTables } from './person-model.ts';
import { buildAreaSummary } from './area-summary.ts';
import { relinkIntoSpine } from '../linkage/link-people.ts';
import { withSessionSettings } from '../store/session-settings.ts';
import {
  definitionsDigest,
  forgetSupersededPeople,
  planBuild,
  planModelScope,
  recordBuildLoads,
  retireRebuiltPeople,
  scopedInput,
  ALL_VERSION_RANGED_TABLES,
  type BuildPlan,
} from './incremental-build.ts';
import { inVersion } from '../store/version-range.ts';

export const SPINE_FIELDS = ['sex', 'birth_year_month', 'death_date', 'ethnic_category'] as const;
export type SpineField = (typeof SPINE_FIELDS)[number];

const SOURCE_COLUMN: Record<SpineField, string> = {
  sex: 'm."Person_Stated_Gender_Code"',
  birth_year_month: 'm.birth_year_month',
  death_date: 'm."Person_Death_Date"',
  ethnic_category: `NULLIF(m."Ethnic_Category", 'Z')`,
};

export interface SpineBuild {
  version: number;
  /** full: every person rebuilt; incremental: only the people whose inputs changed (src/kid/incremental-build.ts) */
  mode: 'full' | 'incremental' | 'unchanged';
  /** why a build that was not asked to be full was (empty for an incremental one) */
  fullBecause?: string;
  /** the people an incremental build rebuilt (0 for a full one) */
  rebuiltPeople?: number;
  /**
   * the person-level model: of an incremental build whose model date stayed, the people
   * computed again and those kept as they were; otherwise why everyone was computed (person-model.ts)
   */
  model?: { computed?: number; copied?: number; computedAllBecause?: string };
  /** the model's date the build gave it, and the scheduled feeds that held it back (src/kid/model-date.ts) */
  modelDate?: ModelDate;
  /**
   * of an incremental build's rebuilt people, those whose spine rows changed as the linkage
   * report reads them, whose activity rows it counted again (src/kid/linkage-report.ts)
   */
  linkageRecounted?: number;
  /**
   * whether the dashboard's summary was written by difference from the version before's (the
   * model of a few people computed: src/kid/area-summary.ts) rather than counted whole
   */
  summaryByDifference?: boolean;
  /** seconds each step of the build took */
  steps?: Record<string, number>;
  /**
   * CPU seconds the process spent in each step (user and system; an in-process DuckDB's
   * threads included, PostgreSQL's server not): steadier than `steps` on a shared machine
   */
  stepsCpu?: Record<string, number>;
  pmiRows: number;
  people: number;
  gpRegistered: number;
  registrations: number;
  residences: number;
  disagreements: Record<SpineField | 'registration_start', number>;
  seconds: number;
  /** the reference geography releases the build used, kind → version (docs/geography.md) */
  reference?: Record<string, string>;
}

export interface SpineStatus {
  version: number | null;
  builtAt: string | null;
  people: number;
  pmiRows: number;
  /** true when loads have landed since the current version was built, or the model's date has moved */
  stale: boolean;
  disagreements: Record<string, number>;
  /** the model's date a build made now would give, and the scheduled feeds holding it back */
  modelDate: ModelDate;
}

/** Every table that holds rows of a build version (migrations 060–069). */
const KID_TABLES = [
  'kid_person',
  'kid_registration',
  'kid_residence',
  'kid_disagreements',
  'kid_linkage',
  'kid_linkage_load',
  'kid_fire_visit',
  'kid_code_list',
  'kid_condition',
  'kid_efi_code',
  'kid_frailty',
  'kid_frailty_deficit',
  'kid_model',
  'kid_unit_cost',
  'kid_risk_fit',
  'kid_risk_model',
  'kid_risk_calibration',
  'kid_risk',
  'kid_person_disagreement',
  'kid_build_loads',
  'kid_build_scope',
  'kid_model_scope',
  'kid_linkage_scope',
  'kid_area_summary',
  'kid_area_panels',
];

/** The tables whose rows are kept by a range of versions, not one version each. */
const VERSION_RANGED: ReadonlySet<string> = new Set(ALL_VERSION_RANGED_TABLES);

const rankedPmi = (pmi: string): string => `
  SELECT m.*, CASE WHEN o.org_type = 'gp' THEN 1 ELSE 0 END AS from_gp,
         ROW_NUMBER() OVER (
           PARTITION BY m.person_token
           ORDER BY CASE WHEN o.org_type = 'gp' THEN 0 ELSE 1 END, m."Record_Date" DESC,
                    m.load_id DESC, m.source_line DESC) AS precedence
  FROM ${pmi} m LEFT JOIN organisations o ON o.org_code = m.org_code
  WHERE m.person_token IS NOT NULL`;

/** The value of the first record (by precedence) that has one: a portable "first non-null". */
function firstValue(column: string): string {
  return `substr(MIN(CASE WHEN ${column} IS NOT NULL
    THEN lpad(CAST(m.precedence AS TEXT), 12, '0') || CAST(${column} AS TEXT) END), 13)`;
}

export async function tableExists(q: Queryable, table: string): Promise<boolean> {
  const rows = await q.query<{ n: number }>(
    `SELECT count(*) AS n FROM information_schema.tables WHERE table_name = $1`,
    [table],
  );
  return Number(rows[0]?.n ?? 0) > 0;
}

const pmiExists = (q: Queryable): Promise<boolean> => tableExists(q, 'ds_pmi');

/**
 * What a build is made from: the loads (the PMI for the spine, every linked dataset for the
 * linkage report), the link runs, the reference releases and the model's date, as a
 * fingerprint that changes when one does. The date can move with nothing loaded: a month's
 * last scheduled feed falling due (src/kid/model-date.ts).
 */
async function inputFingerprint(q: Queryable, asOf: string | null, loadsSeen?: string): Promise<string> {
  const loads = loadsSeen ?? (await loadsFingerprint(q));
  return `${loads}|${await linkRunsFingerprint(q)}${await referenceFingerprint(q)}|as_of=${asOf ?? ''}`;
}

/** A new reference release (e.g. this month's ePCN) changes the model's PCNs. */
async function referenceFingerprint(q: Queryable): Promise<string> {
  const releases = Object.entries(await currentReleases(q));
  return releases.length === 0 ? '' : `|${releases.map(([kind, version]) => `${kind}=${version}`).join(',')}`;
}

async function loadsFingerprint(q: Queryable): Promise<string> {
  const rows = await q.query<{ n: number; last: string | null }>(
    `SELECT count(*) AS n, max(finished_at) AS last FROM loads WHERE status = 'loaded'`,
  );
  return `${Number(rows[0]?.n ?? 0)}|${rows[0]?.last ?? ''}`;
}

/** A new `kernel link` run changes the linkage report's probabilistic links. */
async function linkRunsFingerprint(q: Queryable): Promise<string> {
  const runs = await q.query<{ n: number; last: string | null }>(
    `SELECT count(*) AS n, max(started_at) AS last FROM link_runs`,
  );
  return `${Number(runs[0]?.n ?? 0)}|${runs[0]?.last ?? ''}`;
}

async function currentBuild(q: Queryable): Promise<Row | undefined> {
  const rows = await q.query(
    `SELECT b.* FROM kid_builds b JOIN kid_current c ON c.id = 1 AND c.version = b.version`,
  );
  return rows[0];
}

/**
 * Builds the spine as a new version and makes it current in one transaction. Unless `full`,
 * answers the current version unchanged when no load has landed since it was built. The risk
 * model's coefficients are carried from the version before unless `refit` (with `full`) asks
 * for them to be fitted again (src/kid/risk.ts, `buildRisk`).
 */
export async function buildSpine(store: Store, options: BuildOptions = {}): Promise<SpineBuild> {
  // Within a bounded memory (Dialect.kidBuild): the build of a whole population is the
  // warehouse's largest job, and left alone DuckDB would take most of the machine for it.
  return withSessionSettings(store, store.dialect.kidBuild, () => buildVersion(store, options));
}

type BuildOptions = {
  full?: boolean;
  refit?: boolean;
  actor?: string;
  /** the day the build is made, which decides the model's date (src/kid/model-date.ts); now unless given */
  today?: Date;
};

async function buildVersion(store: Store, options: BuildOptions): Promise<SpineBuild> {
  const steps: Record<string, number> = {};
  const stepsCpu: Record<string, number> = {};
  const step = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const began = Date.now();
    const cpu = process.cpuUsage();
    try {
      return await work();
    } finally {
      steps[name] = (Date.now() - began) / 1000;
      const used = process.cpuUsage(cpu);
      stepsCpu[name] = (used.user + used.system) / 1e6;
    }
  };
  const started = Date.now();
  if (!(await pmiExists(store))) {
    throw new KernelError(
      'not-found',
      'No patient master index has been loaded, so there is no spine to build',
      {
        where: { field: 'pmi' },
        hint: 'Load the members\u2019 pmi feeds first (kernel load --dataset pmi …), then run kernel kid build',
      },
    );
  }
  const loadsSeen = await loadsFingerprint(store);
  // Worked out once, so the eFI, the model and the risk scores describe the same day.
  const dated = await modelDateOn(store, options.today ?? new Date());
  const { asOf } = dated;
  const fingerprint = await inputFingerprint(store, asOf, loadsSeen);
  const current = await currentBuild(store);
  if (!options.full && current && JSON.parse(String(current.details ?? '{}')).inputs === fingerprint) {
    const summary = JSON.parse(String(current.details)) as SpineBuild;
    return { ...summary, mode: 'unchanged', seconds: (Date.now() - started) / 1000 };
  }

  // A build that died before its swap leaves rows of a version nobody reads: clear them, in
  // every table of a version (the next build reuses the number, and would read them twice).
  const currentVersion = `(SELECT COALESCE(max(version), 0) FROM kid_current)`;
  for (const table of [...KID_TABLES, 'kid_builds'])
    await store.run(`DELETE FROM ${table} WHERE version > ${currentVersion}`);
  // and the rows it retired are the current version's again
  for (const table of ALL_VERSION_RANGED_TABLES)
    await store.run(`UPDATE ${table} SET retired = NULL WHERE retired > ${currentVersion}`);
  const [next] = await store.query<{ v: number }>(
    'SELECT COALESCE(max(version), 0) + 1 AS v FROM kid_builds',
  );
  const version = Number(next?.v ?? 1);
  await store.run(`INSERT INTO kid_builds (version, mode, started_at) VALUES ($1, 'full', $2)`, [
    version,
    new Date(started).toISOString(),
  ]);

  // Full, or only the people whose inputs changed since the current version (incremental-build.ts).
  const definitions = await definitionsDigest(store);
  await recordBuildLoads(store, version);
  const previous = current
    ? {
        version: Number(current.version),
        definitions: (JSON.parse(String(current.details ?? '{}')) as { definitions?: string }).definitions,
      }
    : null;
  const plan: BuildPlan = options.full
    ? { mode: 'full', reason: 'asked (--full)' }
    : await step('plan', () => planBuild(store, { version, previous, definitions }));
  const pmi = scopedInput('ds_pmi', plan);

  await step('person', async () => {
    await retireRebuiltPeople(store, 'kid_person', version, plan);
    await store.run(
      `INSERT INTO kid_person (version, person_token, sex, birth_year_month, death_date, ethnic_category,
                             first_seen, gp_registered, sources)
     SELECT $1, m.person_token,
            ${firstValue(SOURCE_COLUMN.sex)},
            ${firstValue(SOURCE_COLUMN.birth_year_month)},
            CAST(${firstValue(SOURCE_COLUMN.death_date)} AS DATE),
            ${firstValue(SOURCE_COLUMN.ethnic_category)},
            MIN(m."Record_Date"), MAX(m.from_gp) = 1, COUNT(DISTINCT m.org_code)
     FROM (${rankedPmi(pmi)}) m
     GROUP BY m.person_token`,
      [version],
    );
    // The residence step joins each council record to this version's people, and the fire
    // visits each visit to its residents: planned without these, both looped over whole tables.
    await gatherStatistics(store, ['kid_person']);
  });
  // Each person's disagreements, then their count per field (kept per person so an
  // incremental build counts only the people it rebuilds again).
  await step('disagreements', async () => {
    await retireRebuiltPeople(store, 'kid_person_disagreement', version, plan);
    for (const field of SPINE_FIELDS) {
      await store.run(
        `INSERT INTO kid_person_disagreement (version, person_token, field, n)
       SELECT $1, m.person_token, $2, 1 FROM ${pmi} m WHERE m.person_token IS NOT NULL
       GROUP BY m.person_token HAVING COUNT(DISTINCT ${SOURCE_COLUMN[field]}) > 1`,
        [version, field],
      );
    }
    await store.run(
      `INSERT INTO kid_person_disagreement (version, person_token, field, n)
     SELECT $1, person_token, 'registration_start', count(*) FROM (
       SELECT m.person_token FROM ${pmi} m
       JOIN organisations o ON o.org_code = m.org_code AND o.org_type = 'gp'
       WHERE m.person_token IS NOT NULL
       GROUP BY m.person_token, COALESCE(m."GP_Registration_Date", m."Record_Date")
       HAVING COUNT(DISTINCT m.org_code) > 1) d
     GROUP BY person_token`,
      [version],
    );
    for (const field of [...SPINE_FIELDS, 'registration_start'])
      await store.run(
        `INSERT INTO kid_disagreements (version, field, people)
       SELECT $1, $2, COALESCE(SUM(d.n), 0) FROM kid_person_disagreement d WHERE ${inVersion('d', '$1')} AND d.field = $2`,
        [version, field],
      );
  });

  // GP registrations: each GP practice's PMI rows give (practice, registration date); one
  // registration per start date (the latest record wins, a clash counted), consecutive
  // records at the same practice folded into one period, each ending the day before the next.
  await step('registration', async () => {
    await retireRebuiltPeople(store, 'kid_registration', version, plan);
    await store.run(
      `INSERT INTO kid_registration (version, person_token, practice_code, from_date, to_date)
     WITH reg AS (
       SELECT m.person_token, m.org_code AS practice_code,
              COALESCE(m."GP_Registration_Date", m."Record_Date") AS from_date,
              ROW_NUMBER() OVER (
                PARTITION BY m.person_token, COALESCE(m."GP_Registration_Date", m."Record_Date")
                ORDER BY m."Record_Date" DESC, m.load_id DESC, m.source_line DESC) AS pick
       FROM ${pmi} m JOIN organisations o ON o.org_code = m.org_code AND o.org_type = 'gp'
       WHERE m.person_token IS NOT NULL
         AND COALESCE(m."GP_Registration_Date", m."Record_Date") IS NOT NULL),
     changes AS (
       SELECT person_token, practice_code, from_date,
              LAG(practice_code) OVER (PARTITION BY person_token ORDER BY from_date) AS before
       FROM reg WHERE pick = 1)
     SELECT $1, person_token, practice_code, from_date,
            LEAD(from_date) OVER (PARTITION BY person_token ORDER BY from_date) - 1
     FROM changes WHERE before IS NULL OR before <> practice_code`,
      [version],
    );
    await gatherStatistics(store, ['kid_registration']);
  });

  // Residence: every provider's PMI row says where the person lived on its Record_Date, and
  // a council's social care record where they lived when support started (Support_Start_Date).
  // On a day with more than one, a GP's record wins, then another provider's, then the
  // council's; a period lasts until the LSOA or household changes.
  const council = (await tableExists(store, 'ds_asc'))
    ? `UNION ALL
       SELECT a.person_token, a.lsoa_code, a.imd_decile, a.uprn_token, a."Support_Start_Date", 2, a.load_id, a.source_line
       FROM ${scopedInput('ds_asc', plan)} a JOIN kid_person k ON ${inVersion('k', '$1')} AND k.person_token = a.person_token`
    : '';
  // Each period keeps the geography its LSOA and decile were derived with: the agent signs
  // it into the manifest, and the load that brought the row records it (docs/geography.md).
  await step('residence', async () => {
    await retireRebuiltPeople(store, 'kid_residence', version, plan);
    await store.run(
      `INSERT INTO kid_residence (version, person_token, lsoa_code, imd_decile, uprn_token, from_date, to_date,
                                  lsoa_vintage, imd_version)
     WITH addresses (person_token, lsoa_code, imd_decile, uprn_token, from_date, source_rank, load_id, source_line) AS (
       SELECT person_token, lsoa_code, imd_decile, uprn_token, "Record_Date", 1 - from_gp, load_id, source_line
       FROM (${rankedPmi(pmi)}) m
       ${council}),
     daily AS (
       SELECT a.person_token, a.lsoa_code, a.imd_decile, a.uprn_token, a.from_date,
              CASE WHEN a.lsoa_code IS NOT NULL THEN l.lsoa_vintage END AS lsoa_vintage,
              CASE WHEN a.imd_decile IS NOT NULL THEN l.imd_version END AS imd_version,
              ROW_NUMBER() OVER (PARTITION BY a.person_token, a.from_date
                                 ORDER BY a.source_rank, a.load_id DESC, a.source_line DESC) AS pick
       FROM addresses a LEFT JOIN loads l ON l.load_id = a.load_id
       WHERE a.person_token IS NOT NULL AND a.from_date IS NOT NULL
         AND (a.lsoa_code IS NOT NULL OR a.uprn_token IS NOT NULL)),
     changes AS (
       SELECT person_token, lsoa_code, imd_decile, uprn_token, from_date, lsoa_vintage, imd_version,
              COALESCE(lsoa_code, '') || '|' || COALESCE(uprn_token, '') AS place,
              LAG(COALESCE(lsoa_code, '') || '|' || COALESCE(uprn_token, ''))
                OVER (PARTITION BY person_token ORDER BY from_date) AS before
       FROM daily WHERE pick = 1)
     SELECT $1, person_token, lsoa_code, CAST(imd_decile AS INTEGER), uprn_token, from_date,
            LEAD(from_date) OVER (PARTITION BY person_token ORDER BY from_date) - 1,
            lsoa_vintage, imd_version
     FROM changes WHERE before IS NULL OR before <> place`,
      [version],
    );
    await gatherStatistics(store, ['kid_residence']);
  });
  // Population-wide, or dated by the model's date: rebuilt whole in every mode.
  await step('fire visits', () => buildFireVisits(store, version));
  await step('conditions', async () => {
    await retireRebuiltPeople(store, 'kid_condition', version, plan);
    await buildConditions(store, version, scopedInput('ds_gp_events', plan));
  });
  // Whose eFI, model and risk score are computed again (while the model's date stays, only
  // the people whose inputs changed: everyone else's are kept from the version before).
  const scope = await step('model scope', async () =>
    asOf === null
      ? { reason: 'no model date' }
      : planModelScope(store, { version, plan, asOf, tables: await personActivityTables(store) }),
  );
  await step('frailty', () => buildFrailty(store, version, { asOf, scope }));
  const model = await step('model', () => buildPersonModel(store, version, { scope, asOf }));
  // the dashboard's summary of the model
  const summary = await step('area summary', () => buildAreaSummary(store, version, { scope }));
  await step('risk', () =>
    buildRisk(store, version, { refit: options.full === true && options.refit === true, asOf, scope }),
  );

  // Datasets linked before are linked again into this version (src/linkage/link-people.ts),
  // so the linkage report below counts links into the spine it describes.
  await step('relink', () => relinkIntoSpine(store, { version, actor: options.actor ?? 'kernel' }));
  // The loads as they were when the build began, and the link runs including those just made.
  const inputs = await inputFingerprint(store, asOf, loadsSeen);
  const linkage = await step('linkage', () => buildLinkage(store, version, plan));

  const count = async (sql: string): Promise<number> =>
    Number((await store.query<{ n: number }>(sql, [version]))[0]?.n ?? 0);
  const disagreements = Object.fromEntries(
    (
      await store.query<{ field: string; people: number }>(
        'SELECT field, people FROM kid_disagreements WHERE version = $1',
        [version],
      )
    ).map((r) => [r.field, Number(r.people)]),
  ) as SpineBuild['disagreements'];
  const build: SpineBuild = {
    version,
    mode: plan.mode,
    ...(plan.mode === 'full' ? { fullBecause: plan.reason } : {}),
    rebuiltPeople: plan.mode === 'incremental' ? plan.people : 0,
    model: { computed: model.computed, copied: model.copied, computedAllBecause: model.computedAllBecause },
    modelDate: dated,
    ...(linkage.recounted === null ? {} : { linkageRecounted: linkage.recounted }),
    summaryByDifference: summary.byDifference,
    pmiRows: Number((await store.query<{ n: number }>('SELECT count(*) AS n FROM ds_pmi'))[0]?.n ?? 0),
    people: await count(`SELECT count(*) AS n FROM kid_person p WHERE ${inVersion('p', '$1')}`),
    gpRegistered: await count(
      `SELECT count(*) AS n FROM kid_person p WHERE ${inVersion('p', '$1')} AND p.gp_registered`,
    ),
    registrations: await count(`SELECT count(*) AS n FROM kid_registration r WHERE ${inVersion('r', '$1')}`),
    residences: await count(`SELECT count(*) AS n FROM kid_residence r WHERE ${inVersion('r', '$1')}`),
    disagreements,
    seconds: (Date.now() - started) / 1000,
    reference: await currentReleases(store),
    steps,
    stepsCpu,
  };

  // The swap: the new version becomes current and the old one goes, in one transaction.
  await store.transaction(async (tx) => {
    await tx.run(
      `UPDATE kid_builds SET mode = $6, finished_at = $2, people = $3, pmi_rows = $4, details = $5 WHERE version = $1`,
      [
        version,
        new Date().toISOString(),
        build.people,
        build.pmiRows,
        JSON.stringify({ ...build, inputs, definitions }),
        build.mode,
      ],
    );
    await tx.run('DELETE FROM kid_current');
    await tx.run('INSERT INTO kid_current (id, version) VALUES (1, $1)', [version]);
    for (const table of KID_TABLES)
      await tx.run(
        VERSION_RANGED.has(table)
          ? `DELETE FROM ${table} WHERE retired <= $1`
          : `DELETE FROM ${table} WHERE version < $1`,
        [version],
      );
    await forgetSupersededPeople(tx, version);
    await appendAudit(tx, {
      actor: options.actor ?? 'kernel',
      action: 'kid.built',
      target: `kid:v${version}`,
      details: {
        mode: build.mode,
        rebuiltPeople: build.rebuiltPeople ?? 0,
        people: build.people,
        pmiRows: build.pmiRows,
        disagreements: Object.values(build.disagreements).reduce((a, b) => a + b, 0),
      },
    });
  });
  // PostgreSQL plans from statistics it gathers only when asked or when autovacuum gets to
  // it: on a freshly built version it guessed one row for the residence history and looped
  // over it (a cohort count took 8–16 s on 20,000 people). DuckDB keeps its own statistics.
  await gatherStatistics(store, KID_TABLES);
  return build;
}

/** The current version, how big it is, whether loads have landed since, and the model's date. */
export async function spineStatus(store: Store, today: Date = new Date()): Promise<SpineStatus> {
  const current = await currentBuild(store);
  const dated = await modelDateOn(store, today);
  if (!current)
    return {
      version: null,
      builtAt: null,
      people: 0,
      pmiRows: 0,
      stale: await pmiExists(store),
      disagreements: {},
      modelDate: dated,
    };
  const details = JSON.parse(String(current.details ?? '{}')) as SpineBuild & { inputs?: string };
  return {
    version: Number(current.version),
    builtAt: String(current.finished_at),
    people: Number(current.people ?? 0),
    pmiRows: Number(current.pmi_rows ?? 0),
    stale: details.inputs !== (await inputFingerprint(store, dated.asOf)),
    disagreements: details.disagreements ?? {},
    modelDate: dated,
  };
}

/** Refuses anything but a real calendar day 'YYYY-MM-DD' (JavaScript's Date rolls 30 February over). */
export function checkDay(day: string): void {
  const parsed = /^\d{4}-\d{2}-\d{2}$/.test(day) ? new Date(`${day}T00:00:00Z`) : null;
  if (!parsed || Number.isNaN(parsed.getTime()) || parsed.toISOString().slice(0, 10) !== day)
    throw new KernelError('usage', `"${day}" is not a date`, {
      where: { field: 'date' },
      hint: 'Give a date as YYYY-MM-DD, e.g. 2020-04-01',
    });
}

/**
 * `checkDay`, and refuses a day after the last the data describes (`dataEndDay`): the people
 * still registered then would be counted on it, older, as if the data went on.
 */
export async function checkDayInData(q: Queryable, day: string, field = 'date'): Promise<void> {
  checkDay(day);
  const end = await dataEndDay(q);
  if (end !== null && day > end)
    throw new KernelError('usage', `The data ends on ${end}: Kernel has nothing to count on ${day}`, {
      where: { field },
      hint: `Choose a day up to ${end}`,
    });
}

/**
 * The codes of `practices` no one in the spine was ever registered with, on any day; none
 * before the spine is built (its read is refused then, for its own reason).
 */
export async function unknownPractices(q: Queryable, practices: readonly string[]): Promise<string[]> {
  if (practices.length === 0 || !(await tableExists(q, 'kid_spine_registration'))) return [];
  const known = await q.query<{ code: string }>(
    `SELECT DISTINCT practice_code AS code FROM kid_spine_registration
     WHERE practice_code IN (${practices.map((_, i) => `$${i + 1}`).join(', ')})`,
    [...practices],
  );
  const found = new Set(known.map((r) => String(r.code)));
  return practices.filter((p) => !found.has(p));
}

/**
 * SQL (with the day as `$n`) for the tokens of everyone in the population on that day:
 * registered with a Kent and Medway practice and alive (kid_population_periods). Every
 * measure asks through here so the rule lives in one place. With `version` (SQL or a `$n`),
 * of that build version rather than the current one.
 */
export function populationOnSql(
  param = '$1',
  options: { optOut?: boolean; version?: string; only?: (token: string) => string } = {},
): string {
  // The national data opt-out, where the read's purpose needs it (src/kid/kid-read.ts): the
  // people on the list are not in the population a planning or research figure counts.
  const optOut = options.optOut
    ? ' AND NOT EXISTS (SELECT 1 FROM optouts o WHERE o.token = person_token)'
    : '';
  const periods =
    options.version === undefined
      ? 'kid_population_periods'
      : `(${populationPeriodsOf(options.version, options.only)})`;
  return `SELECT DISTINCT person_token, practice_code FROM ${periods} periods
          WHERE from_date <= CAST(${param} AS DATE) AND (to_date IS NULL OR to_date >= CAST(${param} AS DATE))${optOut}`;
}

/**
 * The view kid_population_periods (migration 060) over build `version` (SQL or a `$n`), for a
 * builder that reads the version it is making before the swap makes it current; `only` (SQL on
 * a person's token, e.g. an incremental build's model scope) narrows it to some people.
 */
export function populationPeriodsOf(version: string, only?: (token: string) => string): string {
  return `SELECT r.person_token, r.practice_code, r.from_date,
                 CASE WHEN p.death_date IS NOT NULL AND (r.to_date IS NULL OR p.death_date < r.to_date)
                      THEN p.death_date ELSE r.to_date END AS to_date
          FROM kid_registration r
          JOIN kid_person p ON ${inVersion('p', version)} AND p.person_token = r.person_token
          WHERE ${inVersion('r', version)} AND (p.death_date IS NULL OR p.death_date >= r.from_date)
            ${only ? `AND ${only('r.person_token')}` : ''}`;
}

/** Who was in the population on `day` ('YYYY-MM-DD'), with the practice they were registered with. */
export async function populationOn(
  q: Queryable,
  day: string,
): Promise<{ person_token: string; practice_code: string }[]> {
  checkDay(day);
  return q.query<{ person_token: string; practice_code: string }>(populationOnSql(), [day]);
}
