/**
 * Risk of an emergency admission in the next 12 months (docs/kid.md, "Risk of an emergency
 * admission"): a logistic regression on the person-level model's fields, fitted on the
 * warehouse's own history and kept with each build version.
 *
 * The fit looks back a year: features of everyone in the population on T0 = the model's date
 * less 12 months (age band, sex, IMD quintile, long-term conditions, emergency admissions and
 * A&E attendances in the 12 months before T0) against whether they had an emergency admission
 * in the 12 months after T0. A quarter of people, chosen by a hash of their token, are held
 * out of the fit to judge it (AUROC, calibration by decile). The same coefficients then score
 * everyone in the population on the model's date. The features are aggregated in SQL into one
 * row per distinct feature vector, so the fit in TypeScript sees thousands of rows, not 1.9M.
 */
import { createHash } from 'node:crypto';
import type { ControlledCount, ControlledRate, DisclosurePolicy } from '../analytics/disclosure-control.ts';
import { appendAudit } from '../audit/audit-log.ts';
import { getCodeList } from '../catalogue/catalogue.ts';
import { KernelError } from '../errors.ts';
import type { ReadAccess } from '../governance/access-policy.ts';
import { quoteLiteral } from '../store/sql.ts';
import type { Queryable, SqlValue, Store } from '../store/store.ts';
import { conditionLists } from './conditions.ts';
import { ageBandWhensSql, ageInMonthsSql } from './households.ts';
import { EFI_CATEGORIES, EFI_MINIMUM_AGE, efiCategorySql, efiCodes } from './frailty.ts';
import { kidDisclosure } from './kid-disclosure.ts';
import { openKidRead } from './kid-read.ts';
import { modelDate } from './model-date.ts';
import { populationOnSql, tableExists } from './person-spine.ts';
import {
  auroc,
  calibrationByDecile,
  fitLogistic,
  logistic,
  type CalibrationDecile,
  type OutcomeGroup,
  type ScoredGroup,
} from './risk-regression.ts';
import { inVersion } from '../store/version-range.ts';
import { inModelScope, retireRows, rowsInVersion, type ModelScope } from './incremental-build.ts';

/** The ridge penalty: negligible on a population (about 1/N of a coefficient), and keeps an empty cell finite. */
export const RISK_RIDGE = 1;

/** The model's age bands: each up to (not including) `below` years, 85+ above; 25-44 is the reference. */
export const RISK_AGE_BANDS = [
  { band: '0-4', below: 5 },
  { band: '5-14', below: 15 },
  { band: '15-24', below: 25 },
  { band: '25-44', below: 45 },
  { band: '45-64', below: 65 },
  { band: '65-74', below: 75 },
  { band: '75-84', below: 85 },
] as const;
const REFERENCE_BAND = '25-44';

/** Conditions with a term of their own, beside the count of all of them: the commonest causes of emergency admission among long-term conditions. */
export const RISK_CONDITIONS = ['copd', 'heart-failure', 'dementia'] as const;
const MOST_CONDITIONS = 6;
const MOST_PRIOR_EVENTS = 5;

/** A quarter of people, by the first hex digit of an md5 of their token, are held out of the fit. */
const HELD_OUT_SQL = `substr(md5(pop.person_token), 1, 1) IN ('0', '1', '2', '3')`;

/**
 * Emergency admission methods: 21–25, 2A–2D and the legacy 28 (NHS Data Dictionary ADMISSION
 * METHOD), read from the catalogue's code list, whose meanings say "Emergency". The cohort
 * builder asks the same question (cohort-definition.ts), from a layer the KID may not import.
 */
function emergencyMethods(): string[] {
  return getCodeList('admission-method')
    .codes.filter((c) => /^Emergency\b/.test(c.meaning))
    .map((c) => c.code);
}

const conditionColumn = (id: string): string => `condition_${id.replace(/-/g, '_')}`;

/** One person's features, as the features SQL names them. */
interface Features {
  age_band: string;
  male: number;
  /** 1 (most deprived) to 5, 0 when not known */
  imd_quintile: number;
  conditions: number;
  emergency_before: number;
  ae_before: number;
  /** eFI category on the day for people aged 65+; 'none' under 65 */
  frailty: string;
  [condition: `condition_${string}`]: number;
}

/** A term of the model: its name, what it means, and its value for a person in SQL and in TypeScript (the two agree: risk.int.test.ts). */
interface RiskTerm {
  term: string;
  description: string;
  sql: string;
  value: (f: Features) => number;
}

function riskTerms(): RiskTerm[] {
  const titles = new Map(conditionLists().map((c) => [c.id, c.title]));
  const indicator = (column: keyof Features, value: string | number): Pick<RiskTerm, 'sql' | 'value'> => ({
    sql: `CASE WHEN f.${column} = ${typeof value === 'string' ? quoteLiteral(value) : value} THEN 1 ELSE 0 END`,
    value: (f) => (f[column] === value ? 1 : 0),
  });
  const bands = [...RISK_AGE_BANDS.map((b) => b.band as string), '85+', 'unknown'];
  return [
    {
      term: 'intercept',
      description: `the log-odds for someone aged ${REFERENCE_BAND}, not male, in IMD quintile 5, with no long-term condition, not frail, and no emergency admission or A&E attendance in the year before`,
      sql: '1',
      value: () => 1,
    },
    ...bands
      .filter((band) => band !== REFERENCE_BAND)
      .map((band) => ({
        term: `age:${band}`,
        description: band === 'unknown' ? 'age not known' : `aged ${band}`,
        ...indicator('age_band', band),
      })),
    { term: 'sex:male', description: 'male (stated gender 1)', sql: 'f.male', value: (f) => f.male },
    ...[1, 2, 3, 4, 0].map((quintile) => ({
      term: `imd:${quintile === 0 ? 'unknown' : quintile}`,
      description:
        quintile === 0
          ? 'IMD decile of residence not known'
          : `IMD quintile ${quintile}${quintile === 1 ? ' (most deprived)' : ''}`,
      ...indicator('imd_quintile', quintile),
    })),
    {
      term: 'conditions',
      description: `each long-term condition coded by the day (counted up to ${MOST_CONDITIONS})`,
      sql: 'f.conditions',
      value: (f) => f.conditions,
    },
    ...RISK_CONDITIONS.map((id) => {
      const column = conditionColumn(id) as `condition_${string}`;
      return {
        term: `condition:${id}`,
        description: `${titles.get(id) ?? id}, over and above its count`,
        sql: `f.${column}`,
        value: (f: Features) => f[column] ?? 0,
      };
    }),
    ...EFI_CATEGORIES.filter((c) => c.category !== 'fit').map((c) => ({
      term: `frailty:${c.category}`,
      description: `${c.category} frailty (eFI on the day, aged ${EFI_MINIMUM_AGE}+; fit or younger is the reference)`,
      ...indicator('frailty', c.category),
    })),
    {
      term: 'emergency-admissions',
      description: `each emergency admission in the 12 months before (counted up to ${MOST_PRIOR_EVENTS})`,
      sql: 'f.emergency_before',
      value: (f) => f.emergency_before,
    },
    {
      term: 'ae-attendances',
      description: `each A&E attendance in the 12 months before (counted up to ${MOST_PRIOR_EVENTS})`,
      sql: 'f.ae_before',
      value: (f) => f.ae_before,
    },
  ];
}

/** The last day of the month `shift` months from the month of `day` ('YYYY-MM-DD'). */
export function monthEnd(day: string, shift: number): string {
  const year = Number(day.slice(0, 4));
  const month = Number(day.slice(5, 7)) - 1 + shift;
  // Day 0 of the month after is the last day of this one (ECMA-262 MakeDay rolls it back).
  return new Date(Date.UTC(year, month + 1, 0)).toISOString().slice(0, 10);
}

/**
 * SQL for each person's features on `$2` in build version `$1`, with `$3` the day 12 months
 * before; with `outcome`, whether they had an emergency admission after `$2` up to `$4`. With
 * `efiScored`, `$2` is the day version `$1`'s eFI was scored on (`efiScoredOn`), and each
 * person's deficits are read from it rather than counted again from every GP event. With
 * `scoped`, only the people of build `$1`'s model scope (incremental-build.ts).
 */
function featuresSql(
  q: Queryable,
  options: { ecds: boolean; outcome: boolean; optOut: boolean; efiScored: boolean; scoped?: boolean },
): string {
  const among = (column: string): string => (options.scoped ? `AND ${inModelScope(column)}` : '');
  const ageMonths = ageInMonthsSql('p.birth_year_month', 'CAST($2 AS DATE)');
  const bandCase = ageBandWhensSql(RISK_AGE_BANDS, ageMonths);
  const methods = emergencyMethods().map(quoteLiteral).join(', ');
  // One admission is one hospital provider spell: its episodes share the spell number.
  const emergencySpells = (after: string, upTo: string, alias: string) => `
    SELECT person_token, count(DISTINCT org_code || '|' || COALESCE(CAST("Hospital_Provider_Spell_Number" AS TEXT),
                                                                   CAST("Admission_Date" AS TEXT))) AS admissions
    FROM ds_apc
    WHERE person_token IS NOT NULL AND "Admission_Method" IN (${methods})
      AND "Admission_Date" > CAST(${after} AS DATE) AND "Admission_Date" <= CAST(${upTo} AS DATE)
      ${among('person_token')}
    GROUP BY person_token) ${alias} ON ${alias}.person_token = pop.person_token`;
  // Arrival is a date and time stored as ISO text: its first ten characters are the day.
  const arrival = q.dialect.tryDate(`substr(CAST("EC_Arrival_Date_Time" AS TEXT), 1, 10)`);
  const attendances = options.ecds
    ? `LEFT JOIN (
         SELECT person_token, count(DISTINCT org_code || '|' || CAST("EC_Ident" AS TEXT)) AS attendances
         FROM ds_ecds
         WHERE person_token IS NOT NULL AND ${arrival} > CAST($3 AS DATE) AND ${arrival} <= CAST($2 AS DATE)
           ${among('person_token')}
         GROUP BY person_token) a ON a.person_token = pop.person_token`
    : '';
  return `
    SELECT pop.person_token,
           CASE WHEN p.birth_year_month IS NULL THEN 'unknown' ${bandCase} ELSE '85+' END AS age_band,
           CASE WHEN p.sex = '1' THEN 1 ELSE 0 END AS male,
           CASE WHEN h.decile IS NULL THEN 0 WHEN h.decile <= 2 THEN 1 WHEN h.decile <= 4 THEN 2
                WHEN h.decile <= 6 THEN 3 WHEN h.decile <= 8 THEN 4 ELSE 5 END AS imd_quintile,
           LEAST(COALESCE(c.conditions, 0), ${MOST_CONDITIONS}) AS conditions,
           ${RISK_CONDITIONS.map((id) => `COALESCE(c.${conditionColumn(id)}, 0) AS ${conditionColumn(id)}`).join(', ')},
           LEAST(COALESCE(e.admissions, 0), ${MOST_PRIOR_EVENTS}) AS emergency_before,
           ${options.ecds ? `LEAST(COALESCE(a.attendances, 0), ${MOST_PRIOR_EVENTS})` : '0'} AS ae_before,
           CASE WHEN p.birth_year_month IS NULL OR ${ageMonths} < ${EFI_MINIMUM_AGE * 12} THEN 'none'
                ELSE ${efiCategorySql('COALESCE(fr.deficits, 0)')} END AS frailty,
           CASE WHEN ${HELD_OUT_SQL} THEN 1 ELSE 0 END AS held_out
           ${options.outcome ? ', CASE WHEN o.person_token IS NULL THEN 0 ELSE 1 END AS outcome' : ''}
    FROM (SELECT DISTINCT person_token
          FROM (${populationOnSql('$2', { version: '$1', optOut: options.optOut, ...(options.scoped ? { only: inModelScope } : {}) })}) p0) pop
    JOIN kid_person p ON ${inVersion('p', '$1')} AND p.person_token = pop.person_token
    LEFT JOIN (
      SELECT h0.person_token, max(h0.imd_decile) AS decile FROM kid_residence h0
      WHERE ${inVersion('h0', '$1')} AND h0.from_date <= CAST($2 AS DATE) AND (to_date IS NULL OR to_date >= CAST($2 AS DATE))
        ${among('h0.person_token')}
      GROUP BY person_token) h ON h.person_token = pop.person_token
    LEFT JOIN (
      SELECT person_token, count(*) AS conditions,
             ${RISK_CONDITIONS.map((id) => `max(CASE WHEN condition = ${quoteLiteral(id)} THEN 1 ELSE 0 END) AS ${conditionColumn(id)}`).join(', ')}
      FROM kid_condition k0 WHERE ${inVersion('k0', '$1')} AND first_date <= CAST($2 AS DATE) ${among('k0.person_token')}
      GROUP BY person_token) c ON c.person_token = pop.person_token
    LEFT JOIN (${
      options.efiScored
        ? // the eFI scored everyone aged 65+ in the population on $2, the only people it applies to here
          `SELECT person_token, deficits FROM kid_frailty f WHERE ${inVersion('f', '$1')} ${among('person_token')}`
        : `SELECT g.person_token, count(DISTINCT k.deficit) AS deficits
           FROM ds_gp_events g JOIN kid_efi_code k ON k.version = $1 AND k.code = g."CODE"
           WHERE g.person_token IS NOT NULL AND g."EVENT_DATE" <= CAST($2 AS DATE)
           GROUP BY g.person_token`
    }) fr ON fr.person_token = pop.person_token
    LEFT JOIN (${emergencySpells('$3', '$2', 'e')}
    ${attendances}
    ${options.outcome ? `LEFT JOIN (${emergencySpells('$2', '$4', 'o')}` : ''}`;
}

const FEATURE_COLUMNS = [
  'age_band',
  'male',
  'imd_quintile',
  'conditions',
  ...RISK_CONDITIONS.map(conditionColumn),
  'frailty',
  'emergency_before',
  'ae_before',
];

type FeatureGroup = Features & { held_out: number; people: number; events: number };

/**
 * Whether build `version`'s eFI (src/kid/frailty.ts) was scored on `day`: then it holds the
 * deficits of everyone the features give a frailty category (aged 65+ in the population on
 * that day), and scoring reads them there. Otherwise (the fit's day a year before, or a
 * version whose eFI is of another day) the features count them from the GP events.
 */
async function efiScoredOn(q: Queryable, version: number, day: string): Promise<boolean> {
  const [row] = await q.query<{ n: number }>(
    `SELECT count(*) AS n FROM kid_frailty f WHERE ${inVersion('f', '$1')} AND as_of = CAST($2 AS DATE)`,
    [version, day],
  );
  return Number(row?.n ?? 0) > 0;
}

/** Everyone's features on `day` in `version`, one row per distinct feature vector (and held-out flag). */
async function featureGroups(
  q: Queryable,
  version: number,
  day: string,
  options: { outcome: boolean; optOut: boolean },
): Promise<FeatureGroup[]> {
  const ecds = await tableExists(q, 'ds_ecds');
  const columns = [...FEATURE_COLUMNS, 'held_out'].join(', ');
  const params: SqlValue[] = [version, day, monthEnd(day, -12)];
  if (options.outcome) params.push(monthEnd(day, 12));
  // Ordered by every column, so the fit adds its rows in the same order on every run.
  const rows = await q.query(
    `SELECT ${columns}, count(*) AS people, CAST(${options.outcome ? 'sum(outcome)' : '0'} AS BIGINT) AS events
     FROM (${featuresSql(q, { ...options, ecds, efiScored: await efiScoredOn(q, version, day) })}) f
     GROUP BY ${columns} ORDER BY ${columns}`,
    params,
  );
  return rows.map((r) => {
    const group: Record<string, string | number> = {
      age_band: String(r.age_band),
      frailty: String(r.frailty),
    };
    for (const column of [...FEATURE_COLUMNS, 'held_out', 'people', 'events'])
      if (column !== 'age_band' && column !== 'frailty') group[column] = Number(r[column]);
    return group as unknown as FeatureGroup;
  });
}

/**
 * The model's definition, as a digest: its terms, the condition and eFI code lists, the
 * emergency methods, the ridge and the held-out rule. The fitted coefficients are a governed
 * artefact: a build refits only when there is no stored fit, when this definition changed, or
 * when asked (`kernel kid risk --refit`, `kernel kid build --full --refit`), never because a
 * new month, a resend or an opt-out list landed (docs/kid.md, "Stored and refitted").
 */
function riskDefinition(): string {
  const definition = {
    terms: riskTerms().map((t) => [t.term, t.sql]),
    conditions: conditionLists().map((c) => [c.id, c.codes.map((code) => code.code)]),
    efi: efiCodes(),
    methods: emergencyMethods(),
    ridge: RISK_RIDGE,
    heldOut: HELD_OUT_SQL,
  };
  return createHash('sha256').update(JSON.stringify({ definition })).digest('hex').slice(0, 32);
}

export interface RiskBuild {
  version: number;
  /** fitted anew, reused from the version before (inputs unchanged), or skipped (nothing to fit) */
  status: 'fitted' | 'reused' | 'skipped';
  /** why: e.g. "no stored model", "definition changed", "asked", or what was missing */
  reason: string;
  asOf: string | null;
  scored: number;
  aurocHeldOut: number | null;
  seconds: number;
}

const RISK_TABLES = ['kid_risk_fit', 'kid_risk_model', 'kid_risk_calibration', 'kid_risk'] as const;

/**
 * Writes build `version`'s risk model and scores: reuses the current version's fit while the
 * model's definition stands (unless `refit`), fits anew otherwise, then scores everyone in the
 * population on the model's date. Writes nothing (status 'skipped') when there is nothing to
 * learn from: no gp-events (no model date), no apc (no outcome), or no outcome at all; then the
 * version has no scores, the version before's retired.
 */
export async function buildRisk(
  q: Queryable,
  version: number,
  options: { refit?: boolean; asOf?: string | null; scope?: ModelScope } = {},
): Promise<RiskBuild> {
  const started = Date.now();
  const done = (status: RiskBuild['status'], reason: string, rest: Partial<RiskBuild> = {}): RiskBuild => ({
    version,
    status,
    reason,
    asOf: null,
    scored: 0,
    aurocHeldOut: null,
    ...rest,
    seconds: (Date.now() - started) / 1000,
  });
  // A build that died before its swap may have left rows of this version number.
  for (const table of RISK_TABLES) await q.run(`DELETE FROM ${table} WHERE version = $1`, [version]);
  const skipped = async (reason: string, asOf: string | null = null): Promise<RiskBuild> => {
    await retireRows(q, 'kid_risk', version, null);
    return done('skipped', reason, { asOf });
  };
  const asOf = options.asOf !== undefined ? options.asOf : await modelDate(q);
  if (!asOf) return skipped('no gp-events feed has been loaded, so the model has no date');
  if (!(await tableExists(q, 'ds_apc')))
    return skipped('no admitted patient care (apc) has been loaded, so there is no outcome to learn', asOf);
  const inputs = riskDefinition();
  const [stored] = await q.query<{ version: number; inputs: string }>(
    `SELECT f.version, f.inputs FROM kid_risk_fit f JOIN kid_current c ON c.id = 1 AND f.version = c.version`,
  );
  let status: RiskBuild['status'];
  let reason: string;
  if (!options.refit && stored && Number(stored.version) !== version && stored.inputs === inputs) {
    await copyFit(q, Number(stored.version), version, asOf);
    status = 'reused';
    reason = `definition unchanged since version ${Number(stored.version)}`;
  } else {
    reason = options.refit ? 'asked' : stored ? 'definition changed' : 'no stored model';
    const fitted = await fitRisk(q, version, asOf, inputs, reason);
    if (fitted !== null) return skipped(fitted, asOf);
    status = 'fitted';
  }
  // Scored with the coefficients the version before scored with (its fit, reused), only the
  // people of the model's scope can score otherwise: everyone else's score is kept.
  const scope = options.scope;
  const previous =
    status === 'reused' && scope && 'people' in scope && stored && Number(stored.version) === scope.previous
      ? scope
      : undefined;
  const scored = await scoreRisk(q, version, asOf, previous);
  const [fit] = await q.query<{ auroc_held_out: number | null }>(
    'SELECT auroc_held_out FROM kid_risk_fit WHERE version = $1',
    [version],
  );
  return done(status, reason, { asOf, scored, aurocHeldOut: fit?.auroc_held_out ?? null });
}

/** The stored fit of version `from` becomes version `to`'s, which scores on its own date `asOf`. */
async function copyFit(q: Queryable, from: number, to: number, asOf: string): Promise<void> {
  await q.run(
    `INSERT INTO kid_risk_fit (version, as_of, fitted_on, fitted_at, fitted_in_version, reason, inputs, ridge,
                               iterations, fitting_people, fitting_events, held_out_people, held_out_events,
                               auroc_fitting, auroc_held_out, scored)
     SELECT $2, CAST($3 AS DATE), fitted_on, fitted_at, fitted_in_version, reason, inputs, ridge, iterations,
            fitting_people, fitting_events, held_out_people, held_out_events, auroc_fitting, auroc_held_out, 0
     FROM kid_risk_fit WHERE version = $1`,
    [from, to, asOf],
  );
  await q.run(
    `INSERT INTO kid_risk_model (version, position, term, description, coefficient, standard_error, people)
     SELECT $2, position, term, description, coefficient, standard_error, people FROM kid_risk_model WHERE version = $1`,
    [from, to],
  );
  await q.run(
    `INSERT INTO kid_risk_calibration (version, decile, people, predicted, events, observed)
     SELECT $2, decile, people, predicted, events, observed FROM kid_risk_calibration WHERE version = $1`,
    [from, to],
  );
}

/** Fits the model for `version` and writes it; answers why not when it cannot (null when it did). */
async function fitRisk(
  q: Queryable,
  version: number,
  asOf: string,
  inputs: string,
  reason: string,
): Promise<string | null> {
  const fittedOn = monthEnd(asOf, -12);
  // Fitting a model is planning: people on the national data opt-out are left out of it.
  const groups = await featureGroups(q, version, fittedOn, { outcome: true, optOut: true });
  const allTerms = riskTerms();
  const fitting = groups.filter((g) => g.held_out === 0);
  const heldOut = groups.filter((g) => g.held_out === 1);
  // A term nobody in the fitting data has tells the fit nothing: it is left out of the model.
  const terms = allTerms.filter((t, j) => j === 0 || fitting.some((g) => g.people > 0 && t.value(g) !== 0));
  const design = (g: FeatureGroup): OutcomeGroup => ({
    x: terms.map((t) => t.value(g)),
    people: g.people,
    events: g.events,
  });
  const sum = (list: FeatureGroup[], key: 'people' | 'events') => list.reduce((n, g) => n + g[key], 0);
  if (sum(fitting, 'people') === 0)
    return `nobody was in the population on ${fittedOn}, twelve months before the model\u2019s date`;
  if (sum(fitting, 'events') === 0)
    return `nobody in the population on ${fittedOn} had an emergency admission in the twelve months after`;
  let fit: ReturnType<typeof fitLogistic>;
  try {
    fit = fitLogistic(fitting.map(design), { ridge: RISK_RIDGE });
  } catch (error) {
    // A model that cannot be fitted leaves the build without one, not without a build.
    if (error instanceof KernelError) return error.message;
    throw error;
  }
  const scored = (list: FeatureGroup[]): ScoredGroup[] =>
    list.map((g) => ({
      risk: logistic(design(g).x.reduce((s, x, j) => s + x * (fit.coefficients[j] ?? 0), 0)),
      people: g.people,
      events: g.events,
    }));
  const calibration = heldOut.length > 0 ? calibrationByDecile(scored(heldOut)) : [];
  await q.insertRows(
    'kid_risk_model',
    ['version', 'position', 'term', 'description', 'coefficient', 'standard_error', 'people'],
    terms.map((t, j) => [
      version,
      j,
      t.term,
      t.description,
      fit.coefficients[j] ?? 0,
      fit.standardErrors[j] ?? 0,
      fitting.filter((g) => t.value(g) !== 0).reduce((n, g) => n + g.people, 0),
    ]),
  );
  await q.insertRows(
    'kid_risk_calibration',
    ['version', 'decile', 'people', 'predicted', 'events', 'observed'],
    calibration.map((d) => [version, d.decile, d.people, d.predicted, d.events, d.observed]),
  );
  await q.run(
    `INSERT INTO kid_risk_fit (version, as_of, fitted_on, fitted_at, fitted_in_version, reason, inputs, ridge,
                               iterations, fitting_people, fitting_events, held_out_people, held_out_events,
                               auroc_fitting, auroc_held_out, scored)
     VALUES ($1, CAST($2 AS DATE), CAST($3 AS DATE), $4, $1, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 0)`,
    [
      version,
      asOf,
      fittedOn,
      new Date().toISOString(),
      reason,
      inputs,
      RISK_RIDGE,
      fit.iterations,
      sum(fitting, 'people'),
      sum(fitting, 'events'),
      sum(heldOut, 'people'),
      sum(heldOut, 'events'),
      auroc(scored(fitting)),
      auroc(scored(heldOut)),
    ],
  );
  return null;
}

/**
 * Each person in the population on `asOf`, scored with version `version`'s coefficients; given
 * the `previous` version that scored with the same ones, only the people of the model's scope,
 * everyone else's score copied from it.
 */
async function scoreRisk(
  q: Queryable,
  version: number,
  asOf: string,
  previous?: { previous: number },
): Promise<number> {
  const model = await q.query<{ term: string; coefficient: number }>(
    'SELECT term, coefficient FROM kid_risk_model WHERE version = $1 ORDER BY position',
    [version],
  );
  const terms = new Map(riskTerms().map((t) => [t.term, t]));
  const params: SqlValue[] = [version, asOf, monthEnd(asOf, -12)];
  const linear = model
    .map((m) => {
      const term = terms.get(m.term);
      if (!term)
        throw new KernelError(
          'internal',
          `The stored risk model has a term this version of Kernel does not know: ${m.term}`,
          {
            hint: 'Refit it: kernel kid risk --refit',
          },
        );
      params.push(Number(m.coefficient));
      return `CAST($${params.length} AS DOUBLE PRECISION) * (${term.sql})`;
    })
    .join(' + ');
  // Clamped so exp() cannot overflow on PostgreSQL (it raises an error past about 709).
  const ecds = await tableExists(q, 'ds_ecds');
  // The scores it writes retire the version before's (kid_risk keeps a row by a range of
  // versions, migration 153): the scope's, everyone else's kept where they are, or everyone's.
  await retireRows(q, 'kid_risk', version, previous ? inModelScope('person_token') : null);
  const kept = previous ? await rowsInVersion(q, 'kid_risk', version) : 0;
  const scored = await q.run(
    `INSERT INTO kid_risk (version, person_token, probability)
     SELECT $1, f.person_token, 1.0 / (1.0 + exp(-GREATEST(-700.0, LEAST(700.0, ${linear}))))
     FROM (${featuresSql(q, { ecds, outcome: false, optOut: false, efiScored: await efiScoredOn(q, version, asOf), scoped: previous !== undefined })}) f`,
    params,
  );
  await q.run('UPDATE kid_risk_fit SET scored = $2 WHERE version = $1', [version, scored + kept]);
  return scored + kept;
}

/**
 * Version `version`'s model applied in TypeScript to everyone in the population on `day`,
 * grouped by feature vector: the same risks the scoring SQL gives each person (a check that
 * the two definitions of every term agree).
 */
export async function riskByGroup(q: Queryable, version: number, day: string): Promise<ScoredGroup[]> {
  const model = await q.query<{ term: string; coefficient: number }>(
    'SELECT term, coefficient FROM kid_risk_model WHERE version = $1 ORDER BY position',
    [version],
  );
  const terms = new Map(riskTerms().map((t) => [t.term, t]));
  const groups = await featureGroups(q, version, day, { outcome: false, optOut: false });
  return groups.map((g) => ({
    risk: logistic(
      model.reduce((s, m) => s + Number(m.coefficient) * (terms.get(m.term)?.value(g) ?? NaN), 0),
    ),
    people: g.people,
    events: 0,
  }));
}

/**
 * `kernel kid risk --refit`: fits the model again on the current version and scores with it,
 * in one transaction (a reader sees the old model or the new, never half of either), audited.
 */
export async function refitRisk(store: Store, actor: string): Promise<RiskBuild> {
  const [current] = await store.query<{ version: number }>('SELECT version FROM kid_current WHERE id = 1');
  if (!current)
    throw new KernelError(
      'not-found',
      'The Kent Integrated Dataset has not been built yet, so there is no model to refit',
      {
        hint: 'Run kernel kid build first',
      },
    );
  const version = Number(current.version);
  // Scored on the day the version's model describes, whatever has been loaded since.
  const [model] = await store.query<{ as_of: string | null }>(
    `SELECT CAST(max(as_of) AS TEXT) AS as_of FROM kid_model m WHERE ${inVersion('m', '$1')}`,
    [version],
  );
  const asOf = model?.as_of ? String(model.as_of).slice(0, 10) : null;
  return store.transaction(async (tx) => {
    const build = await buildRisk(tx, version, { refit: true, asOf });
    await appendAudit(tx, {
      actor,
      action: 'kid.risk-refitted',
      target: `kid:v${version}`,
      details: { status: build.status, scored: build.scored, aurocHeldOut: build.aurocHeldOut },
    });
    return build;
  });
}

export interface RiskTermEstimate {
  term: string;
  description: string;
  /** on the log-odds scale */
  coefficient: number;
  standardError: number;
  /** e^coefficient: how many times the odds of an emergency admission */
  oddsRatio: number;
  /** people in the fitting data for whom the term is not 0 */
  people: number;
}

export interface RiskModel {
  version: number;
  asOf: string;
  fittedOn: string;
  fittedAt: string;
  fittedInVersion: number;
  reason: string;
  ridge: number;
  iterations: number;
  fitting: { people: number; events: number; auroc: number | null };
  heldOut: { people: number; events: number; auroc: number | null };
  scored: number;
  terms: RiskTermEstimate[];
  calibration: CalibrationDecile[];
}

/** The current version's risk model, or null when none has been fitted. */
export async function riskModel(q: Queryable): Promise<RiskModel | null> {
  const [fit] = await q.query(
    `SELECT f.* FROM kid_risk_fit f JOIN kid_current c ON c.id = 1 AND f.version = c.version`,
  );
  if (!fit) return null;
  const version = Number(fit.version);
  const terms = await q.query<{
    term: string;
    description: string;
    coefficient: number;
    standard_error: number;
    people: number;
  }>('SELECT * FROM kid_risk_model WHERE version = $1 ORDER BY position', [version]);
  const calibration = await q.query<{
    decile: number;
    people: number;
    predicted: number;
    events: number;
    observed: number;
  }>('SELECT * FROM kid_risk_calibration WHERE version = $1 ORDER BY decile', [version]);
  const nullable = (x: unknown): number | null => (x === null || x === undefined ? null : Number(x));
  return {
    version,
    asOf: String(fit.as_of),
    fittedOn: String(fit.fitted_on),
    fittedAt: String(fit.fitted_at),
    fittedInVersion: Number(fit.fitted_in_version),
    reason: String(fit.reason),
    ridge: Number(fit.ridge),
    iterations: Number(fit.iterations),
    fitting: {
      people: Number(fit.fitting_people),
      events: Number(fit.fitting_events),
      auroc: nullable(fit.auroc_fitting),
    },
    heldOut: {
      people: Number(fit.held_out_people),
      events: Number(fit.held_out_events),
      auroc: nullable(fit.auroc_held_out),
    },
    scored: Number(fit.scored),
    terms: terms.map((t) => ({
      term: t.term,
      description: t.description,
      coefficient: Number(t.coefficient),
      standardError: Number(t.standard_error),
      oddsRatio: Math.exp(Number(t.coefficient)),
      people: Number(t.people),
    })),
    calibration: calibration.map((d) => ({
      decile: Number(d.decile),
      people: Number(d.people),
      predicted: Number(d.predicted),
      events: Number(d.events),
      observed: Number(d.observed),
    })),
  };
}

/** The risk model read through the access policy: the use case must cover every feed it derives from. */
export async function readRiskModel(q: Queryable, access: ReadAccess): Promise<RiskModel> {
  await openKidRead(q, access, ['risk']);
  const model = await riskModel(q);
  if (!model)
    throw new KernelError('not-found', 'No risk model has been fitted yet', {
      hint: 'It is fitted by kernel kid build once pmi, gp-events and apc have been loaded',
    });
  return model;
}

/** The risk model as published: counts of people under disclosure control, risks as percentages. */
export interface ControlledRiskModel extends Omit<
  RiskModel,
  'fitting' | 'heldOut' | 'scored' | 'terms' | 'calibration'
> {
  rule: string;
  fitting: { people: ControlledCount; events: ControlledCount; auroc: number | null };
  heldOut: { people: ControlledCount; events: ControlledCount; auroc: number | null };
  scored: ControlledCount;
  terms: (Omit<RiskTermEstimate, 'people'> & { people: ControlledCount })[];
  calibration: { decile: number; people: ControlledCount; predicted: number; observed: ControlledRate }[];
}

export function controlRiskModel(model: RiskModel, policy: DisclosurePolicy): ControlledRiskModel {
  const { rule, count, percent } = kidDisclosure(policy);
  return {
    ...model,
    rule,
    fitting: { ...model.fitting, people: count(model.fitting.people), events: count(model.fitting.events) },
    heldOut: { ...model.heldOut, people: count(model.heldOut.people), events: count(model.heldOut.events) },
    scored: count(model.scored),
    terms: model.terms.map((t) => ({ ...t, people: count(t.people) })),
    calibration: model.calibration.map((d) => ({
      decile: d.decile,
      people: count(d.people),
      predicted: Math.round(d.predicted * 1000) / 10,
      observed: percent(Math.round(d.events), d.people),
    })),
  };
}
