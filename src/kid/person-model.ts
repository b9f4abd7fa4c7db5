/**
 * The person-level model of the Kent Integrated Dataset (`kid_model`, docs/kid.md, "The
 * person-level model"): one row per person in the population on the model's date, with
 * their demographics, long-term conditions, frailty, Bridges to Health segment, and activity
 * and cost in every setting over the 12 months to that date.
 *
 * Written as one set-based INSERT … SELECT over pre-aggregated CTEs (one per source), so a
 * build over 1.9 million people is a handful of hash joins, never a loop over people.
 * Unit costs are reference data (`reference/unit-costs.json`), checked when read.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ControlledCount, ControlledRate, DisclosurePolicy } from '../analytics/disclosure-control.ts';
import { KernelError } from '../errors.ts';
import type { ReadAccess } from '../governance/access-policy.ts';
import { quoteLiteral } from '../store/sql.ts';
import type { Queryable } from '../store/store.ts';
import { exactSum } from './exact-sum.ts';
import { ageInMonthsSql } from './households.ts';
import { modelDate } from './model-date.ts';
import { kidDisclosure } from './kid-disclosure.ts';
import { openKidRead } from './kid-read.ts';
import { gatherStatistics } from './gather-statistics.ts';
import { checkDay, populationPeriodsOf, tableExists } from './person-spine.ts';
import { inModelScope, retireRows, rowsInVersion, type ModelScope } from './incremental-build.ts';
import { inVersion } from '../store/version-range.ts';

export const UNIT_COSTS_FILE = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  'reference',
  'unit-costs.json',
);

/** The unit costs the model needs, each a point of delivery (docs/kid.md lists them). */
export const UNIT_COST_IDS = [
  'ae-type-1',
  'ae-type-2',
  'ae-type-3-4',
  'emergency-short-stay',
  'emergency-long-stay',
  'elective-day-case',
  'elective-inpatient',
  'op-first',
  'op-follow-up',
] as const;
export type UnitCostId = (typeof UNIT_COST_IDS)[number];

export interface UnitCost {
  id: UnitCostId;
  setting: string;
  pointOfDelivery: string;
  unit: string;
  cost: number;
  year: string;
}

export interface UnitCosts {
  source: string;
  url?: string;
  year: string;
  currency: string;
  note?: string;
  costs: UnitCost[];
  /** each cost by its id */
  byId: Record<UnitCostId, UnitCost>;
}

/** Reads and checks the unit costs: a bad file is a clear error naming the file and field. */
export function readUnitCosts(file: string = UNIT_COSTS_FILE): UnitCosts {
  const bad = (field: string, what: string): KernelError =>
    new KernelError('invalid-input', `The unit costs file ${path.basename(file)} ${what}`, {
      where: { file, field },
      hint: `Give source, year, currency and costs: [{ id, setting, pointOfDelivery, unit, cost, year }] with one cost for each of ${UNIT_COST_IDS.join(', ')} (docs/kid.md, "Unit costs")`,
    });
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw bad('(file)', 'cannot be read');
  }
  let parsed: Partial<UnitCosts>;
  try {
    parsed = JSON.parse(text) as Partial<UnitCosts>;
  } catch {
    throw bad('(file)', 'is not JSON');
  }
  if (typeof parsed.source !== 'string' || parsed.source.trim() === '')
    throw bad('source', 'does not name its source');
  if (typeof parsed.year !== 'string' || parsed.year.trim() === '')
    throw bad('year', 'does not give the year of its costs');
  if (parsed.currency !== 'GBP') throw bad('currency', 'does not give its costs in GBP');
  if (!Array.isArray(parsed.costs)) throw bad('costs', 'has no list of costs');
  const byId: Partial<Record<UnitCostId, UnitCost>> = {};
  parsed.costs.forEach((c: Partial<UnitCost>, i) => {
    const field = `costs[${i}]`;
    if (!UNIT_COST_IDS.includes(c.id as UnitCostId))
      throw bad(`${field}.id`, `has the cost "${String(c.id)}", which the model does not use`);
    if (byId[c.id as UnitCostId]) throw bad(`${field}.id`, `gives "${c.id}" twice`);
    if (typeof c.cost !== 'number' || !Number.isFinite(c.cost) || c.cost < 0)
      throw bad(`${field}.cost`, `gives "${c.id}" a cost that is not a number of pounds (0 or more)`);
    if (typeof c.year !== 'string' || c.year.trim() === '')
      throw bad(`${field}.year`, `does not give the year of "${c.id}"`);
    for (const key of ['setting', 'pointOfDelivery', 'unit'] as const)
      if (typeof c[key] !== 'string' || c[key].trim() === '')
        throw bad(`${field}.${key}`, `does not give the ${key} of "${c.id}"`);
    byId[c.id as UnitCostId] = c as UnitCost;
  });
  const missing = UNIT_COST_IDS.filter((id) => !byId[id]);
  if (missing.length > 0) throw bad('costs', `has no cost for ${missing.join(', ')}`);
  return { ...(parsed as UnitCosts), byId: byId as Record<UnitCostId, UnitCost> };
}

/** The first day of the 12 months ending `asOf` (the last day of a month): 11 months before its month. */
export function windowStart(asOf: string): string {
  const [y, m] = asOf.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(y, m - 12, 1)).toISOString().slice(0, 10);
}

/**
 * Bridges to Health segments, most severe first: a person takes the first whose rule holds
 * (docs/kid.md, "Segments"). Each rule is SQL over the model's per-person columns below.
 */
export const SEGMENTS = [
  {
    id: 'decline-before-dying',
    title: 'Short period of decline before dying',
    rule: 'died in the 12 months to the model’s date',
    sql: 'x.died_in_window = 1',
  },
  {
    id: 'organ-failure',
    title: 'Organ failure',
    rule: 'heart failure or COPD coded by the model’s date',
    sql: 'x.organ_failure = 1',
  },
  {
    id: 'frailty-dementia',
    title: 'Frailty and dementia',
    rule: 'dementia coded, or an eFI category of moderate or severe',
    sql: `(x.dementia = 1 OR x.efi_category IN ('moderate', 'severe'))`,
  },
  {
    id: 'disability',
    title: 'Stable but serious disability',
    rule: 'learning disability coded, or (aged under 65) adult social care in the 12 months for learning disability, physical or sensory support',
    sql: '(x.learning_disability = 1 OR (x.asc_disability = 1 AND x.age < 65))',
  },
  {
    id: 'serious-curable',
    title: 'Serious but curable illness',
    rule: 'an emergency admission in the 12 months, or cancer first coded in them',
    sql: '(x.emergency_admissions > 0 OR x.new_cancer = 1)',
  },
  {
    id: 'chronic-conditions',
    title: 'Chronic conditions',
    rule: 'one or more of the long-term conditions coded by the model’s date',
    sql: 'x.conditions > 0',
  },
  {
    id: 'maternal-infant',
    title: 'Maternal and infant health',
    rule: 'a maternity booking, delivery or maternity admission in the 12 months, or aged under 1',
    sql: '(x.maternity = 1 OR x.age_months < 12)',
  },
  { id: 'healthy-well', title: 'Healthy and well', rule: 'none of the above', sql: '1 = 1' },
] as const;
export type SegmentId = (typeof SEGMENTS)[number]['id'];

/** The CLD primary support reasons (code list asc-primary-support-reason) the disability segment reads. */
const ASC_DISABILITY_REASONS = [
  'Learning disability support',
  'Physical support: Personal care support',
  'Physical support: Access and mobility only',
  'Sensory support: Support for visual impairment',
  'Sensory support: Support for hearing impairment',
  'Sensory support: Support for dual impairment',
];

export interface PersonModelBuild {
  asOf: string | null;
  people: number;
  /** of an incremental build whose model date stayed: the people computed again, and kept as they were */
  computed?: number;
  copied?: number;
  /** why everyone was computed, where an incremental build was asked for */
  computedAllBecause?: string;
  /** source datasets the build found loaded, and those it skipped (never loaded) */
  sources: { used: string[]; skipped: string[] };
}

/**
 * The activity tables whose rows are a person's own (with `person_token`), which the model
 * reads: a new load of one changes only its people's rows (fire visits reach a household).
 */
const PERSON_ACTIVITY_TABLES = [
  'ds_ecds',
  'ds_apc',
  'ds_op',
  'ds_asc',
  'ds_csds_care_contact',
  'ds_mhsds_care_contact',
  'ds_msds_booking',
  'ds_msds_delivery',
];

/** The person activity tables the model reads that have been made (loaded at least once). */
export async function personActivityTables(q: Queryable): Promise<string[]> {
  const made: string[] = [];
  for (const table of PERSON_ACTIVITY_TABLES) if (await tableExists(q, table)) made.push(table);
  return made;
}

/** A dataset's per-person CTE, or nothing when its table was never made. */
interface Source {
  dataset: string;
  table: string;
  cte: string;
}

/**
 * Writes spine `version`'s person-level model. The population, registrations, residence,
 * conditions and (when built) frailty of the same version are its inputs, with the activity
 * datasets as loaded. Writes no one when there is no model date (no gp-events loaded).
 */
export async function buildPersonModel(
  q: Queryable,
  version: number,
  options: { asOf?: string | null; unitCosts?: UnitCosts; scope?: ModelScope } = {},
): Promise<PersonModelBuild> {
  const costs = options.unitCosts ?? readUnitCosts();
  // A build that died before its swap may have left rows under this version number.
  await q.run('DELETE FROM kid_model WHERE version = $1', [version]);
  await q.run('DELETE FROM kid_unit_cost WHERE version = $1', [version]);
  await q.insertRows(
    'kid_unit_cost',
    ['version', 'cost_id', 'setting', 'unit', 'cost', 'cost_year', 'source'],
    costs.costs.map((c) => [version, c.id, c.setting, c.unit, c.cost, c.year, costs.source] as const),
  );
  const asOf = options.asOf !== undefined ? options.asOf : await modelDate(q);
  const scope: ModelScope =
    asOf !== null && options.scope ? options.scope : { reason: 'not an incremental build' };
  // The rows it computes retire the version before's (kid_model keeps a row by a range of
  // versions, migration 152): everyone's, or the scope's, everyone else's kept where they are.
  // Without a date it computes no one, and the version has no model.
  await retireRows(q, 'kid_model', version, 'people' in scope ? inModelScope('person_token') : null);
  if (asOf === null) return { asOf: null, people: 0, sources: { used: [], skipped: [] } };
  checkDay(asOf);
  const to = `CAST(${quoteLiteral(asOf)} AS DATE)`;
  const from = `CAST(${quoteLiteral(windowStart(asOf))} AS DATE)`;
  const toText = quoteLiteral(asOf);
  const fromText = quoteLiteral(windowStart(asOf));
  const unit = (id: UnitCostId): string => String(costs.byId[id].cost);
  // A ds_asc made under asc 1.x gains Event_Type at its first 2.0 load; until then every row
  // is a service.
  const ascEventType = (
    await q.query<{ n: number }>(
      `SELECT count(*) AS n FROM information_schema.columns WHERE table_name = 'ds_asc' AND column_name = 'Event_Type'`,
    )
  ).some((r) => Number(r.n) > 0)
    ? 'a."Event_Type"'
    : 'NULL';

  // An incremental build whose model date has not moved computes only the people whose
  // inputs changed and keeps everyone else's row (incremental-build.ts, planModelScope).
  const inScope = 'people' in scope ? inModelScope : undefined;
  const among = (column: string): string => (inScope ? `AND ${inScope(column)}` : '');
  const copied = 'people' in scope ? await rowsInVersion(q, 'kid_model', version) : 0;

  // Community (CSDS) and mental health (MHSDS) care contacts attended in the window
  // (ATTENDED OR DID NOT ATTEND 5 or 6), counted only: no unit cost with a named source yet.
  // Both datasets carry the same two fields.
  const careContacts = (cte: string, dataset: string, table: string): Source => ({
    dataset,
    table,
    cte: `${cte} AS (
        SELECT person_token, count(*) AS contacts FROM ${table}
        WHERE person_token IS NOT NULL AND "AttendOrDNACode" IN ('5', '6') ${among('person_token')}
          AND "CareContDate" BETWEEN ${from} AND ${to}
        GROUP BY person_token)`,
  });
  const candidates: Source[] = [
    {
      dataset: 'ecds',
      table: 'ds_ecds',
      // A&E attendances by arrival day; costed by department type (type 3 and 4 cost the
      // same; no type given costs as a minor unit, the cheapest).
      cte: `ae AS (
        SELECT person_token, count(*) AS attendances,
               sum(CASE "EC_Department_Type" WHEN '01' THEN ${unit('ae-type-1')}
                                             WHEN '02' THEN ${unit('ae-type-2')}
                                             ELSE ${unit('ae-type-3-4')} END) AS cost
        FROM ds_ecds
        WHERE person_token IS NOT NULL ${among('person_token')}
          AND substr("EC_Arrival_Date_Time", 1, 10) BETWEEN ${fromText} AND ${toText}
        GROUP BY person_token)`,
    },
    {
      dataset: 'apc',
      table: 'ds_apc',
      // Episodes folded into spells (provider and spell number; an episode without one is a
      // spell of its own), counted by admission date. NHS Data Dictionary ADMISSION METHOD:
      // 2x emergency, 11-13 elective, 31/32 maternity (mother), 82/83 birth (baby).
      cte: `spells AS (
        SELECT person_token, min("Admission_Method") AS method, min("Admission_Date") AS admitted,
               max("Discharge_Date") AS discharged, min("Patient_Classification") AS classification
        FROM ds_apc
        WHERE person_token IS NOT NULL AND "Admission_Date" IS NOT NULL ${among('person_token')}
        GROUP BY person_token, org_code,
                 COALESCE("Hospital_Provider_Spell_Number", load_id || ':' || CAST(source_line AS TEXT))),
      admissions AS (
        SELECT person_token,
               sum(CASE WHEN emergency = 1 THEN 1 ELSE 0 END) AS emergency,
               sum(CASE WHEN elective = 1 THEN 1 ELSE 0 END) AS elective,
               sum(CASE WHEN emergency = 1 OR elective = 1 THEN stay ELSE 0 END) AS bed_days,
               sum(CASE WHEN emergency = 1 AND stay <= 1 THEN ${unit('emergency-short-stay')}
                        WHEN emergency = 1 THEN ${unit('emergency-long-stay')} ELSE 0 END) AS cost_emergency,
               sum(CASE WHEN elective = 1 AND classification IN ('2', '3', '4') THEN ${unit('elective-day-case')}
                        WHEN elective = 1 THEN ${unit('elective-inpatient')} ELSE 0 END) AS cost_elective,
               max(CASE WHEN method IN ('31', '32', '82', '83', '2C') THEN 1 ELSE 0 END) AS maternity
        FROM (
          SELECT person_token, method, classification,
                 CASE WHEN method LIKE '2%' THEN 1 ELSE 0 END AS emergency,
                 CASE WHEN method IN ('11', '12', '13') THEN 1 ELSE 0 END AS elective,
                 LEAST(COALESCE(discharged, ${to}), ${to}) - admitted AS stay
          FROM spells WHERE admitted BETWEEN ${from} AND ${to}) s
        GROUP BY person_token)`,
    },
    {
      dataset: 'op',
      table: 'ds_op',
      // NHS Data Dictionary ATTENDED OR DID NOT ATTEND: 5 and 6 attended, 3 and 7 did not.
      cte: `outpatients AS (
        SELECT person_token,
               sum(CASE WHEN "Attended_Or_Did_Not_Attend" IN ('5', '6') THEN 1 ELSE 0 END) AS attended,
               sum(CASE WHEN "Attended_Or_Did_Not_Attend" IN ('3', '7') THEN 1 ELSE 0 END) AS dnas,
               sum(CASE WHEN "Attended_Or_Did_Not_Attend" NOT IN ('5', '6') THEN 0
                        WHEN "First_Attendance" IN ('1', '3') THEN ${unit('op-first')}
                        ELSE ${unit('op-follow-up')} END) AS cost
        FROM ds_op
        WHERE person_token IS NOT NULL AND "Appointment_Date" BETWEEN ${from} AND ${to} ${among('person_token')}
        GROUP BY person_token)`,
    },
    {
      dataset: 'asc',
      table: 'ds_asc',
      // Each service's days inside the window (start and end inclusive), as weeks at its own
      // Cost_Per_Week; of the CLD events only services are support (rows loaded under asc 1.x,
      // before Event_Type, were all services), while any event's primary support reason tells
      // the disability segment. A record without an NHS number counts for the person the latest
      // `kernel link` run linked it to (docs/linkage.md).
      // The cost is to the penny, as money is: the area summary adds and takes away people's
      // costs as whole pence, which come out the same in any order (area-summary.ts).
      cte: `social_care AS (
        SELECT person_token, sum(days * service) / 7.0 AS weeks,
               round(sum(days * service / 7.0 * COALESCE(cost_per_week, 0)) * 100) / 100 AS cost,
               max(disability) AS disability
        FROM (
          SELECT COALESCE(a.person_token, pl.person_token) AS person_token, a."Cost_Per_Week" AS cost_per_week,
                 LEAST(COALESCE(a."Support_End_Date", ${to}), ${to})
                   - GREATEST(a."Support_Start_Date", ${from}) + 1 AS days,
                 CASE WHEN a."Primary_Support_Reason" IN (${ASC_DISABILITY_REASONS.map(quoteLiteral).join(', ')})
                      THEN 1 ELSE 0 END AS disability,
                 CASE WHEN COALESCE(${ascEventType}, 'Service') = 'Service' THEN 1 ELSE 0 END AS service
          FROM ds_asc a
          LEFT JOIN person_links pl ON pl.load_id = a.load_id AND pl.source_line = a.source_line
            AND pl.run_id = (SELECT r.run_id FROM link_runs r WHERE r.dataset = 'asc'
                             ORDER BY r.started_at DESC, r.run_id DESC LIMIT 1)
          WHERE a."Support_Start_Date" <= ${to} ${among('a.person_token')}
            AND (a."Support_End_Date" IS NULL OR a."Support_End_Date" >= ${from})) s
        WHERE person_token IS NOT NULL
        GROUP BY person_token)`,
    },
    {
      dataset: 'fire-safety',
      table: 'ds_fire_safety',
      // A home-safety visit reaches everyone whose residence history puts them in the
      // household on the visit date (as the household measures link them).
      cte: `fire AS (
        SELECT h.person_token, count(*) AS visits
        FROM ds_fire_safety f
        JOIN kid_residence h ON ${inVersion('h', '$1')} AND h.uprn_token = f.uprn_token
          AND h.from_date <= f."Visit_Date" AND (h.to_date IS NULL OR h.to_date >= f."Visit_Date")
        WHERE f.uprn_token IS NOT NULL AND f."Visit_Date" BETWEEN ${from} AND ${to} ${among('h.person_token')}
        GROUP BY h.person_token)`,
    },
    careContacts('community', 'csds-care-contact', 'ds_csds_care_contact'),
    careContacts('mental_health', 'mhsds-care-contact', 'ds_mhsds_care_contact'),
    {
      dataset: 'msds-booking',
      table: 'ds_msds_booking',
      cte: `bookings AS (
        SELECT DISTINCT person_token FROM ds_msds_booking
        WHERE person_token IS NOT NULL AND "AntenatalAppDate" BETWEEN ${from} AND ${to} ${among('person_token')})`,
    },
    {
      dataset: 'msds-delivery',
      table: 'ds_msds_delivery',
      cte: `deliveries AS (
        SELECT DISTINCT person_token FROM ds_msds_delivery
        WHERE person_token IS NOT NULL AND "DeliveryDate" BETWEEN ${from} AND ${to} ${among('person_token')})`,
    },
  ];
  const used: Source[] = [];
  for (const source of candidates) if (await tableExists(q, source.table)) used.push(source);
  const has = (dataset: string): boolean => used.some((s) => s.dataset === dataset);
  const frailty = await tableExists(q, 'kid_frailty');
  // This version's tables were written moments ago: without fresh statistics PostgreSQL
  // guessed a handful of people and looped (docs/kid.md, "Speed"). The person, registration
  // and residence steps (person-spine.ts) gathered theirs as they wrote them.
  await gatherStatistics(q, [
    'kid_condition',
    ...(frailty ? ['kid_frailty'] : []),
    ...used.map((s) => s.table),
  ]);

  // A count is 0 for a person with no rows in a loaded dataset, null where it was never loaded.
  const n = (dataset: string, expression: string, zero = '0'): string =>
    has(dataset) ? `COALESCE(${expression}, ${zero})` : 'NULL';
  const ageMonths = ageInMonthsSql('p.birth_year_month', 'pop.ref_day');
  const joins = [
    has('ecds') ? 'LEFT JOIN ae ON ae.person_token = pop.person_token' : '',
    has('apc') ? 'LEFT JOIN admissions adm ON adm.person_token = pop.person_token' : '',
    has('op') ? 'LEFT JOIN outpatients op ON op.person_token = pop.person_token' : '',
    has('asc') ? 'LEFT JOIN social_care sc ON sc.person_token = pop.person_token' : '',
    has('fire-safety') ? 'LEFT JOIN fire ON fire.person_token = pop.person_token' : '',
    has('csds-care-contact') ? 'LEFT JOIN community cc ON cc.person_token = pop.person_token' : '',
    has('mhsds-care-contact') ? 'LEFT JOIN mental_health mhc ON mhc.person_token = pop.person_token' : '',
    has('msds-booking') ? 'LEFT JOIN bookings bk ON bk.person_token = pop.person_token' : '',
    has('msds-delivery') ? 'LEFT JOIN deliveries dl ON dl.person_token = pop.person_token' : '',
    frailty
      ? `LEFT JOIN kid_frailty fr ON ${inVersion('fr', '$1')} AND fr.person_token = pop.person_token`
      : '',
  ].filter(Boolean);
  const maternity = [
    has('apc') ? 'adm.maternity = 1' : '',
    has('msds-booking') ? 'bk.person_token IS NOT NULL' : '',
    has('msds-delivery') ? 'dl.person_token IS NOT NULL' : '',
  ].filter(Boolean);

  const people = await q.run(
    `INSERT INTO kid_model (version, person_token, as_of, sex, age, age_band, imd_decile, imd_quintile,
        lsoa_code, practice_code, pcn_code, conditions, multimorbidity, complex_multimorbidity,
        efi_category, segment, ae_attendances, emergency_admissions, elective_admissions, bed_days,
        op_attendances, op_dnas, community_contacts, mh_contacts, fire_visits, asc_weeks,
        cost_ae, cost_emergency, cost_elective, cost_op, cost_community, cost_mh, cost_asc,
        cost_total, death_date)
     WITH periods AS (${populationPeriodsOf('$1', inScope)}),
     reference_day AS (
       -- the model's date, or the day of death for someone who died in the window
       SELECT person_token,
              CASE WHEN death_date BETWEEN ${from} AND ${to} THEN death_date ELSE ${to} END AS ref_day,
              CASE WHEN death_date BETWEEN ${from} AND ${to} THEN death_date END AS died
       FROM kid_person p0 WHERE ${inVersion('p0', '$1')} AND (death_date IS NULL OR death_date >= ${from}) ${among('person_token')}),
     pop AS (
       SELECT d.person_token, max(d.ref_day) AS ref_day, max(d.died) AS died, max(g.practice_code) AS practice_code
       FROM reference_day d
       JOIN periods g ON g.person_token = d.person_token
         AND g.from_date <= d.ref_day AND (g.to_date IS NULL OR g.to_date >= d.ref_day)
       GROUP BY d.person_token),
     residence AS (
       SELECT h.person_token, max(h.lsoa_code) AS lsoa_code, max(h.imd_decile) AS imd_decile
       FROM kid_residence h JOIN pop ON pop.person_token = h.person_token
       WHERE ${inVersion('h', '$1')} AND h.from_date <= pop.ref_day AND (h.to_date IS NULL OR h.to_date >= pop.ref_day)
       GROUP BY h.person_token),
     ${PCN_ON_REFERENCE_DAY},
     conds AS (
       SELECT person_token, count(DISTINCT condition) AS conditions,
              max(CASE WHEN condition IN ('heart-failure', 'copd') THEN 1 ELSE 0 END) AS organ_failure,
              max(CASE WHEN condition = 'dementia' THEN 1 ELSE 0 END) AS dementia,
              max(CASE WHEN condition = 'learning-disability' THEN 1 ELSE 0 END) AS learning_disability,
              max(CASE WHEN condition = 'cancer' AND first_date >= ${from} THEN 1 ELSE 0 END) AS new_cancer
       FROM kid_condition k0 WHERE ${inVersion('k0', '$1')} AND first_date <= ${to} ${among('k0.person_token')}
       GROUP BY person_token)
     ${used.map((s) => `, ${s.cte}`).join('\n')}
     SELECT $1, x.person_token, ${to}, x.sex, x.age,
            CASE WHEN x.age IS NULL THEN NULL WHEN x.age >= 90 THEN '90+'
                 ELSE CAST(x.age - x.age % 5 AS TEXT) || '-' || CAST(x.age - x.age % 5 + 4 AS TEXT) END,
            x.imd_decile, CAST(FLOOR((x.imd_decile + 1) / 2.0) AS INTEGER), x.lsoa_code, x.practice_code,
            x.pcn_code, x.conditions, x.conditions >= 2, x.conditions >= 4, x.efi_category,
            CASE ${SEGMENTS.map((s) => `WHEN ${s.sql} THEN ${quoteLiteral(s.id)}`).join(' ')} END,
            x.ae_attendances, x.emergency_admissions, x.elective_admissions, x.bed_days,
            x.op_attendances, x.op_dnas, x.community_contacts, x.mh_contacts, x.fire_visits, x.asc_weeks,
            x.cost_ae, x.cost_emergency, x.cost_elective, x.cost_op,
            CAST(NULL AS DOUBLE PRECISION), CAST(NULL AS DOUBLE PRECISION), x.cost_asc,
            COALESCE(x.cost_ae, 0) + COALESCE(x.cost_emergency, 0) + COALESCE(x.cost_elective, 0)
              + COALESCE(x.cost_op, 0) + COALESCE(x.cost_asc, 0),
            x.died
     FROM (
       SELECT pop.person_token, pop.died, p.sex, pop.practice_code, pcn.pcn_code, res.lsoa_code, res.imd_decile,
              CAST(FLOOR(${ageMonths} / 12.0) AS INTEGER) AS age, ${ageMonths} AS age_months,
              CASE WHEN pop.died IS NOT NULL THEN 1 ELSE 0 END AS died_in_window,
              CAST(COALESCE(c.conditions, 0) AS INTEGER) AS conditions,
              COALESCE(c.organ_failure, 0) AS organ_failure, COALESCE(c.dementia, 0) AS dementia,
              COALESCE(c.learning_disability, 0) AS learning_disability,
              COALESCE(c.new_cancer, 0) AS new_cancer,
              ${frailty ? 'fr.category' : 'CAST(NULL AS TEXT)'} AS efi_category,
              ${has('asc') ? 'COALESCE(sc.disability, 0)' : '0'} AS asc_disability,
              ${maternity.length > 0 ? `CASE WHEN ${maternity.join(' OR ')} THEN 1 ELSE 0 END` : '0'} AS maternity,
              CAST(${n('ecds', 'ae.attendances')} AS INTEGER) AS ae_attendances,
              CAST(${n('apc', 'adm.emergency')} AS INTEGER) AS emergency_admissions,
              CAST(${n('apc', 'adm.elective')} AS INTEGER) AS elective_admissions,
              CAST(${n('apc', 'adm.bed_days')} AS INTEGER) AS bed_days,
              CAST(${n('op', 'op.attended')} AS INTEGER) AS op_attendances,
              CAST(${n('op', 'op.dnas')} AS INTEGER) AS op_dnas,
              CAST(${n('fire-safety', 'fire.visits')} AS INTEGER) AS fire_visits,
              CAST(${n('csds-care-contact', 'cc.contacts')} AS INTEGER) AS community_contacts,
              CAST(${n('mhsds-care-contact', 'mhc.contacts')} AS INTEGER) AS mh_contacts,
              CAST(${n('asc', 'sc.weeks')} AS DOUBLE PRECISION) AS asc_weeks,
              CAST(${n('ecds', 'ae.cost')} AS DOUBLE PRECISION) AS cost_ae,
              CAST(${n('apc', 'adm.cost_emergency')} AS DOUBLE PRECISION) AS cost_emergency,
              CAST(${n('apc', 'adm.cost_elective')} AS DOUBLE PRECISION) AS cost_elective,
              CAST(${n('op', 'op.cost')} AS DOUBLE PRECISION) AS cost_op,
              CAST(${n('asc', 'sc.cost')} AS DOUBLE PRECISION) AS cost_asc
       FROM pop
       JOIN kid_person p ON ${inVersion('p', '$1')} AND p.person_token = pop.person_token
       LEFT JOIN residence res ON res.person_token = pop.person_token
       LEFT JOIN pcn ON pcn.practice_code = pop.practice_code AND pcn.ref_day = pop.ref_day
       LEFT JOIN conds c ON c.person_token = pop.person_token
       ${joins.join('\n       ')}) x`,
    [version],
  );
  return {
    asOf,
    people: people + copied,
    ...('people' in scope ? { computed: people, copied } : { computedAllBecause: scope.reason }),
    sources: {
      used: used.map((s) => s.dataset),
      skipped: candidates.filter((c) => !used.includes(c)).map((c) => c.dataset),
    },
  };
}

/**
 * The PCN of each practice on each reference day, from the current ePCN release
 * (ref_practice_pcn_current, docs/geography.md): practice × day pairs first, so the
 * membership history is searched once per practice and day, not once per person.
 */
const PCN_ON_REFERENCE_DAY = `practice_days AS (SELECT DISTINCT practice_code, ref_day FROM pop),
     pcn AS (
       SELECT d.practice_code, d.ref_day, max(m.pcn_code) AS pcn_code
       FROM practice_days d
       JOIN ref_practice_pcn_current m ON m.practice_code = d.practice_code
         AND m.valid_from <= d.ref_day AND (m.valid_to IS NULL OR m.valid_to >= d.ref_day)
       GROUP BY d.practice_code, d.ref_day)`;

/** The settings the model costs, each a column `cost_<setting>` of the model. */
export const COST_SETTINGS = ['ae', 'emergency', 'elective', 'op', 'community', 'mh', 'asc'] as const;
export type CostSetting = (typeof COST_SETTINGS)[number];
export const COST_SETTING_TITLES: Record<CostSetting, string> = {
  ae: 'A&E attendances',
  emergency: 'Emergency admissions',
  elective: 'Elective admissions',
  op: 'Outpatient attendances',
  community: 'Community contacts (not costed: no unit cost yet)',
  mh: 'Mental health contacts (not costed: no unit cost yet)',
  asc: 'Adult social care',
};

export interface ModelSummary {
  /** the model's date; null before the model is built */
  asOf: string | null;
  people: number;
  /** people who died in the 12 months to the model's date (in the decline-before-dying segment) */
  died: number;
  /** per segment, most severe first: people, and cost in pounds per setting and in all */
  bySegment: {
    segment: SegmentId;
    title: string;
    people: number;
    cost: Record<CostSetting, number | null>;
    costTotal: number;
  }[];
  /** cost in pounds per setting over everyone (null where the setting has no dataset) */
  cost: Record<CostSetting, number | null>;
  costTotal: number;
  /** activity over everyone in the 12 months (null where its dataset was never loaded) */
  activity: Record<(typeof ACTIVITY_COLUMNS)[number], number | null>;
}

const ACTIVITY_COLUMNS = [
  'ae_attendances',
  'emergency_admissions',
  'elective_admissions',
  'bed_days',
  'op_attendances',
  'op_dnas',
  'community_contacts',
  'mh_contacts',
  'fire_visits',
  'asc_weeks',
] as const;

/**
 * Fractional sums, rounded: pounds to the penny, weeks of social care (days ÷ 7) to 6 places.
 * A parallel sum of doubles adds in no fixed order, so two runs could differ in the last bit.
 */
const placesOf = (column: string): number =>
  column.startsWith('cost_') ? 2 : column === 'asc_weeks' ? 6 : 0;
const stableSum = (column: string): string => {
  const places = placesOf(column);
  return places === 0
    ? `sum(m.${column})`
    : `CAST(round(CAST(sum(m.${column}) AS NUMERIC), ${places}) AS DOUBLE PRECISION)`;
};

/** The current model by segment: people, activity and cost (`optOut` leaves out the national data opt-out). */
export async function modelSummary(q: Queryable, options: { optOut?: boolean } = {}): Promise<ModelSummary> {
  const optOut = options.optOut
    ? 'WHERE NOT EXISTS (SELECT 1 FROM optouts o WHERE o.token = m.person_token)'
    : '';
  // sum() of a column that is null for everyone is null: a setting without its dataset.
  const rows = await q.query<Record<string, string | number | null>>(
    `SELECT m.segment, max(m.as_of) AS as_of, count(*) AS people,
            sum(CASE WHEN m.death_date IS NOT NULL THEN 1 ELSE 0 END) AS died,
            ${[...COST_SETTINGS.map((s) => `cost_${s}`), 'cost_total', ...ACTIVITY_COLUMNS]
              .map((c) => `${stableSum(c)} AS ${c}`)
              .join(', ')}
     FROM kid_person_model m ${optOut}
     GROUP BY m.segment`,
  );
  const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
  const total = (column: string): number | null =>
    rows.some((r) => r[column] !== null)
      ? exactSum(
          rows.map((r) => num(r[column]) ?? 0),
          placesOf(column),
        )
      : null;
  const costs = (pick: (setting: CostSetting) => number | null): Record<CostSetting, number | null> =>
    Object.fromEntries(COST_SETTINGS.map((s) => [s, pick(s)])) as Record<CostSetting, number | null>;
  return {
    asOf: rows.length > 0 ? String(rows[0]?.as_of) : null,
    people: rows.reduce((n, r) => n + Number(r.people), 0),
    died: rows.reduce((n, r) => n + Number(r.died ?? 0), 0),
    bySegment: SEGMENTS.map((s) => {
      const row = rows.find((r) => r.segment === s.id);
      return {
        segment: s.id,
        title: s.title,
        people: Number(row?.people ?? 0),
        cost: costs((setting) =>
          row ? num(row[`cost_${setting}`]) : total(`cost_${setting}`) === null ? null : 0,
        ),
        costTotal: Number(row?.cost_total ?? 0),
      };
    }),
    cost: costs((setting) => total(`cost_${setting}`)),
    costTotal: total('cost_total') ?? 0,
    activity: Object.fromEntries(ACTIVITY_COLUMNS.map((c) => [c, total(c)])) as ModelSummary['activity'],
  };
}

/** `modelSummary` read through the access policy: the use case must cover every source of the model's fields. */
export async function readModelSummary(q: Queryable, access: ReadAccess): Promise<ModelSummary> {
  const read = await openKidRead(q, access, MODEL_FIELD_GROUPS);
  return modelSummary(q, { optOut: read.optOutApplies });
}

/** The field groups (KID_LINEAGE) a summary of the whole model reads. */
export const MODEL_FIELD_GROUPS = [
  'population',
  'demographics',
  'residence',
  'conditions',
  'activity',
  'segments',
] as const;

/** A model summary as published: people counted under disclosure control, a cost only beside a count shown. */
export interface ControlledModelSummary {
  asOf: string | null;
  rule: string;
  people: ControlledCount;
  died: ControlledCount;
  bySegment: {
    segment: SegmentId;
    title: string;
    people: ControlledCount;
    percent: ControlledRate;
    cost: Record<CostSetting, number | null | '*'>;
    costTotal: number | '*';
    costPerPerson: number | null | '*';
  }[];
  cost: Record<CostSetting, number | null>;
  costTotal: number;
  /** counts of events (social care in whole weeks), each controlled like a count of people */
  activity: Record<keyof ModelSummary['activity'], ControlledCount | null>;
}

const pounds = (x: number): number => Math.round(x);

/**
 * Applies disclosure control (src/analytics/disclosure-control.ts): counts of people and of
 * events are rounded and small ones suppressed; a segment's costs are shown only where its
 * count of people is, in whole pounds.
 */
export function controlModelSummary(summary: ModelSummary, policy: DisclosurePolicy): ControlledModelSummary {
  const { rule, count, percent } = kidDisclosure(policy);
  const wholePounds = (c: Record<CostSetting, number | null>): Record<CostSetting, number | null> =>
    Object.fromEntries(COST_SETTINGS.map((s) => [s, c[s] === null ? null : pounds(c[s])])) as Record<
      CostSetting,
      number | null
    >;
  return {
    asOf: summary.asOf,
    rule,
    people: count(summary.people),
    died: count(summary.died),
    bySegment: summary.bySegment.map((s) => {
      const people = count(s.people);
      const shown = people !== '*';
      return {
        segment: s.segment,
        title: s.title,
        people,
        percent: percent(s.people, summary.people),
        cost: shown
          ? wholePounds(s.cost)
          : (Object.fromEntries(COST_SETTINGS.map((c) => [c, s.cost[c] === null ? null : '*'])) as Record<
              CostSetting,
              '*' | null
            >),
        costTotal: shown ? pounds(s.costTotal) : '*',
        costPerPerson: !shown ? '*' : s.people === 0 ? null : pounds(s.costTotal / s.people),
      };
    }),
    cost: wholePounds(summary.cost),
    costTotal: pounds(summary.costTotal),
    activity: Object.fromEntries(
      Object.entries(summary.activity).map(([k, v]) => [k, v === null ? null : count(Math.round(v))]),
    ) as ControlledModelSummary['activity'],
  };
}

/** The current model's date and size, for `kernel kid status`. */
export async function modelStatus(q: Queryable): Promise<{ asOf: string | null; people: number }> {
  const [row] = await q.query<{ as_of: string | null; people: number }>(
    'SELECT max(as_of) AS as_of, count(*) AS people FROM kid_person_model',
  );
  return { asOf: row?.as_of ?? null, people: Number(row?.people ?? 0) };
}
