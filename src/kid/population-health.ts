/**
 * The population health dashboard's figures (docs/kid.md, "Population health dashboard"):
 * for the whole system, a practice, a primary care network or an LSOA, on a day — the
 * population pyramid, the prevalence of each long-term condition, the number of conditions
 * by age band and by IMD decile of residence (and by both: people in deprived areas gain
 * conditions younger), and, once the person-level model is built, frailty and cost per
 * person by segment and setting.
 *
 * Every figure is read through `openKidRead` under a use case, with the opt-out applied
 * where the purpose needs it, and published under disclosure control (the KID links many
 * controllers' data, so every role sees it controlled). Each panel names the field groups
 * it needs; a panel whose sources the use case does not cover is left out and says why,
 * the rest still show. The counting is two or three grouped queries: the per-person frame
 * is aggregated in SQL to a few hundred rows, then summed here.
 */
import {
  HES_2018,
  type ControlledCount,
  type ControlledRate,
  type DisclosurePolicy,
} from '../analytics/disclosure-control.ts';
import { KernelError } from '../errors.ts';
import {
  decideAccess,
  policyVersion,
  readableUseCases,
  type ReadAccess,
  type ReadUser,
} from '../governance/access-policy.ts';
import type { UseCase } from '../governance/use-cases.ts';
import { viewRecorder } from '../audit/view-audit.ts';
import type { Queryable, Store } from '../store/store.ts';
import {
  AREA_COLUMN,
  areaSummaryOptedOutSql,
  areaSummaryRead,
  optOutTag,
  conditionBand,
  fineBandSql,
  pyramidBand,
  sexKeySql,
  unpackAreaSummary,
  type AreaSummaryRow,
} from './area-summary.ts';
import { AGE_BANDS, conditionLists } from './conditions.ts';
import { exactSum } from './exact-sum.ts';
import { ageInMonthsSql } from './households.ts';
import { kidDisclosure, type KidDisclosure } from './kid-disclosure.ts';
import { decideKidRead, KID_LINEAGE, openKidRead, type KidFieldGroup, type KidRead } from './kid-read.ts';
import { checkDay, checkDayInData, populationOnSql, tableExists } from './person-spine.ts';

export const SCOPE_KINDS = ['ics', 'practice', 'pcn', 'lsoa'] as const;
export type ScopeKind = (typeof SCOPE_KINDS)[number];

/** What the figures cover: the whole system, or one practice, PCN or LSOA (by its code). */
export interface DashboardScope {
  kind: ScopeKind;
  code: string | null;
}

/** Five-year age bands of the pyramid, as the person-level model has them ('0-4' … '85-89', '90+'). */
export const PYRAMID_BANDS = [
  ...Array.from({ length: 18 }, (_, i) => `${i * 5}-${i * 5 + 4}`),
  '90+',
] as readonly string[];

/** The age bands of the conditions panels: the KID's (conditions.ts) and 85+. */
export const CONDITION_BANDS = [...AGE_BANDS.map((b) => b.band), '85+'] as readonly string[];

export const DECILES = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10'] as const;
export const QUINTILES = ['1', '2', '3', '4', '5'] as const;
export const FRAILTY_CATEGORIES = ['fit', 'mild', 'moderate', 'severe'] as const;
/** The settings of the person-level model's cost columns (`cost_<setting>`). */
export const COST_SETTINGS = ['ae', 'emergency', 'elective', 'op', 'community', 'mh', 'asc'] as const;
export type CostSetting = (typeof COST_SETTINGS)[number];

/** The panels and the field groups each reads (its lineage is KID_LINEAGE's). */
export const PANELS = {
  pyramid: ['population', 'demographics'],
  prevalence: ['population', 'conditions'],
  conditionsByAge: ['population', 'demographics', 'conditions'],
  deprivation: ['population', 'demographics', 'residence', 'conditions'],
  frailty: ['population', 'frailty'],
  costs: ['population', 'segments', 'activity'],
} as const satisfies Record<string, readonly string[]>;
export type Panel = keyof typeof PANELS;

/**
 * Every source dataset the panels derive from (their KID_LINEAGE): a use case covering these
 * sees every panel of the dashboard.
 */
export const DASHBOARD_DATASETS: readonly string[] = [
  ...new Set(Object.values(PANELS).flatMap((groups) => groups.flatMap((group) => KID_LINEAGE[group]))),
];

/** `scope` as the API and page take it: `ics`, `practice:CODE`, `pcn:CODE` or `lsoa:CODE`. */
export function parseScope(text: string | undefined): DashboardScope {
  const value = (text ?? '').trim();
  if (value === '' || value.toLowerCase() === 'ics') return { kind: 'ics', code: null };
  const match = /^(practice|pcn|lsoa):([A-Za-z0-9]{3,12})$/.exec(value);
  if (!match)
    throw new KernelError('usage', `"${value}" is not an area the dashboard knows`, {
      where: { field: 'scope' },
      hint: 'Give ics, practice:CODE, pcn:CODE or lsoa:CODE, e.g. practice:G82001 or lsoa:E01024123',
    });
  const scope = { kind: match[1] as ScopeKind, code: (match[2] as string).toUpperCase() };
  // ONS GSS codes: an LSOA is E01 (England) or W01 (Wales) and six digits; the synthetic
  // geography's are Z01 (src/synth/geography.ts).
  if (scope.kind === 'lsoa' && !/^[EWZ]01\d{6}$/.test(scope.code))
    throw new KernelError('usage', `"${scope.code}" is not an LSOA code`, {
      where: { field: 'scope' },
      hint: 'An LSOA code is E01 and six digits, e.g. lsoa:E01024123',
    });
  return scope;
}

export function scopeText(scope: DashboardScope): string {
  return scope.kind === 'ics' ? 'ics' : `${scope.kind}:${scope.code}`;
}

/** Raw figures, before disclosure control: only the domain and its tests see these. */
export interface PopulationHealthFigures {
  day: string;
  scope: DashboardScope;
  people: number;
  /** people by five-year age band and sex; `unknownAge` have no birth month */
  pyramid: { band: string; female: number; male: number; other: number }[];
  unknownAge: number;
  prevalence: { condition: string; title: string; people: number }[];
  /** per band: people, conditions summed over them, with 2+ and with 4+ */
  byAge: AgeRow[];
  byImdDecile: (Omit<AgeRow, 'band'> & { decile: string })[];
  byAgeAndDecile: (AgeRow & { decile: string })[];
  byAgeAndQuintile: (AgeRow & { quintile: string })[];
  /** null when the panel is not read (no model yet, or the use case does not cover it) */
  frailty: { asOf: string; people: number; categories: { category: string; people: number }[] } | null;
  costs: {
    asOf: string;
    segments: { segment: string; people: number; cost: Record<CostSetting, number> }[];
  } | null;
}

interface AgeRow {
  band: string;
  people: number;
  conditions: number;
  multimorbidity: number;
  complex: number;
}

interface FigureOptions {
  optOut?: boolean;
  /** the panels to count (default: every panel whose tables exist) */
  panels?: readonly Panel[];
  /** the built model's date, where the caller has looked it up already (null: no model) */
  modelDate?: string | null;
  /**
   * false: count from the model even where the build wrote its summary (the tests' oracle).
   * Default true: on the model's date, read the summary of the current version.
   */
  fromSummary?: boolean;
  /** the KID version the caller has read (`kidVersion`), whose summary is read; else read here */
  kidVersion?: string;
}

type GroupRow = {
  sex_key: string | null;
  age: number | null;
  decile: number | null;
  conditions: number | null;
  people: number;
};
type ModelRow = Record<string, string | number | boolean | null>;
/** People by age band and IMD decile, with the conditions summed over them, and with 2+ and 4+. */
interface AgesRow {
  band: string;
  decile: number | null;
  people: number;
  conditions: number;
  multimorbidity: number;
  complex: number;
}
/** What the statements answer, before it is summed into panels. */
interface Counted {
  /** people by sex and five-year band (null: no birth month) */
  pyramid: { sex_key: string | null; band: string | null; people: number }[];
  ages: AgesRow[];
  perCondition: { condition: string | null; people: number }[];
  model: ModelRow[];
}

/** The frame's fine groups (sex, fine age band, decile, number of conditions) as the panels' rows. */
function panelRows(groups: GroupRow[]): Pick<Counted, 'pyramid' | 'ages'> {
  const pyramid = new Map<string, Counted['pyramid'][number]>();
  const ages = new Map<string, AgesRow>();
  for (const g of groups) {
    const n = Number(g.people);
    const conditions = Number(g.conditions);
    const age = g.age === null ? null : Number(g.age);
    const decile = g.decile === null ? null : Number(g.decile);
    const sexBand = { sex_key: g.sex_key, band: age === null ? null : pyramidBand(age) };
    const p = pyramid.get(JSON.stringify(sexBand)) ?? { ...sexBand, people: 0 };
    p.people += n;
    pyramid.set(JSON.stringify(sexBand), p);
    const band = age === null ? 'unknown' : conditionBand(age);
    const key = JSON.stringify([band, decile]);
    const a = ages.get(key) ?? { band, decile, people: 0, conditions: 0, multimorbidity: 0, complex: 0 };
    a.people += n;
    a.conditions += n * conditions;
    if (conditions >= 2) a.multimorbidity += n;
    if (conditions >= 4) a.complex += n;
    ages.set(key, a);
  }
  return { pyramid: [...pyramid.values()], ages: [...ages.values()] };
}

/**
 * Counts from the people themselves: on the model's date the model's rows (one filtered scan),
 * on another day the spine's; frailty and cost from the model (on its date) when `wantModel`.
 */
async function countAfresh(
  q: Queryable,
  day: string,
  asOf: string | null,
  scope: DashboardScope,
  options: { optOut: boolean; wantModel: boolean },
): Promise<Counted> {
  const { optOut } = options;
  const params = scope.kind === 'ics' ? [day] : [day, scope.code];
  const frame = asOf === day ? modelFrameSql(scope, { optOut }) : frameSql(scope, { optOut });
  // One statement: the frame's groups, and its people per condition (DuckDB runs one
  // statement at a time per connection; two would queue behind other requests twice).
  const rows = await q.query<GroupRow & { condition: string | null }>(
    `WITH f AS (${frame})
     SELECT CAST(NULL AS TEXT) AS condition, sex_key, ${FINE_BAND} AS age, decile, conditions, count(*) AS people
     FROM f GROUP BY sex_key, ${FINE_BAND}, decile, conditions
     UNION ALL
     SELECT k.condition, NULL, NULL, NULL, NULL, count(*)
     FROM f JOIN kid_condition_current k ON k.person_token = f.person_token AND k.first_date <= CAST($1 AS DATE)
     GROUP BY k.condition`,
    params,
  );
  const modelScope = scope.kind === 'ics' ? '' : `AND m.${AREA_COLUMN[scope.kind]} = $2`;
  const modelOptOut = optOut ? 'AND NOT EXISTS (SELECT 1 FROM optouts o WHERE o.token = m.person_token)' : '';
  const modelParams = scope.kind === 'ics' ? [asOf] : [asOf, scope.code];
  // Frailty and cost from one pass over the model: by segment, eFI category and whether alive
  // on its date (people who died in its 12 months count for cost, not for frailty).
  const model = options.wantModel
    ? await q.query<ModelRow>(
        `SELECT m.segment, m.efi_category, CASE WHEN m.death_date IS NULL THEN 1 ELSE 0 END AS alive,
                count(*) AS people,
                ${COST_SETTINGS.map((k) => `sum(COALESCE(m.cost_${k}, 0)) AS cost_${k}`).join(', ')}
         FROM kid_person_model m
         WHERE m.as_of = CAST($1 AS DATE) ${modelScope} ${modelOptOut}
         GROUP BY m.segment, m.efi_category, CASE WHEN m.death_date IS NULL THEN 1 ELSE 0 END`,
        modelParams,
      )
    : [];
  return {
    ...panelRows(rows.filter((r) => r.condition === null)),
    perCondition: rows.filter((r) => r.condition !== null),
    model,
  };
}

/**
 * The same rows from the summary the build wrote with KID version `version`, in one statement
 * (and, where `optOut`, one for the opt-out list's tag now), less the people on the list now
 * where `optOut` (area-summary.ts). Null when the version has no summary for the day (built
 * before the summary existed).
 */
async function countFromSummary(
  q: Queryable,
  day: string,
  scope: DashboardScope,
  options: { optOut: boolean; version: string },
): Promise<Counted | null> {
  if (!/^\d+$/.test(options.version)) return null;
  const read = async (optOut: boolean): Promise<AreaSummaryRow[]> => {
    const tag = optOut ? await optOutTag(q) : null;
    const { sql, params } = areaSummaryRead(Number(options.version), day, scope.kind, scope.code ?? '', tag);
    return unpackAreaSummary(await q.query<{ rows: string }>(sql, params));
  };
  let rows = await read(options.optOut);
  const built = (variant: string): boolean => rows.some((r) => r.panel === 'built' && r.variant === variant);
  if (!built('everyone')) return null;
  // The opt-out list changed since the build: everyone's less the people on it now, counted afresh.
  if (options.optOut && !built('not-opted-out'))
    rows = [
      ...(await read(false)),
      ...(await q.query<AreaSummaryRow>(
        areaSummaryOptedOutSql(scope.kind),
        scope.kind === 'ics' ? [day] : [day, scope.code ?? ''],
      )),
    ];
  // Each group is one row as read, except where the people on the opt-out list were counted
  // afresh: their groups are then taken from everyone's.
  const groups = rows.filter((r) => r.panel !== 'built');
  const present = groups.some((r) => r.variant === 'opted-out') ? lessOptedOut(groups) : groups;
  const of = (panel: AreaSummaryRow['panel']): AreaSummaryRow[] => present.filter((r) => r.panel === panel);
  return {
    pyramid: of('pyramid'),
    ages: of('ages').map((r) => ({
      band: String(r.band),
      decile: r.decile === null ? null : Number(r.decile),
      people: r.people,
      conditions: Number(r.conditions),
      multimorbidity: Number(r.multimorbidity),
      complex: Number(r.complex),
    })),
    perCondition: of('condition'),
    model: of('model') as unknown as ModelRow[],
  };
}

/** Everyone's groups less the opted-out people's groups (`areaSummaryOptedOutSql`'s rows). */
function lessOptedOut(rows: AreaSummaryRow[]): AreaSummaryRow[] {
  const sums = [
    'people',
    'conditions',
    'multimorbidity',
    'complex',
    ...COST_SETTINGS.map((k) => `cost_${k}`),
  ];
  const merged = new Map<string, AreaSummaryRow>();
  for (const r of rows) {
    const key = JSON.stringify([
      r.panel,
      r.sex_key,
      r.band,
      r.decile,
      r.condition,
      r.segment,
      r.efi_category,
      r.alive,
    ]);
    const into =
      merged.get(key) ?? ({ ...r, ...Object.fromEntries(sums.map((c) => [c, 0])) } as AreaSummaryRow);
    const sign = r.variant === 'opted-out' ? -1 : 1;
    const row = r as Record<string, unknown>;
    const target = into as Record<string, unknown>;
    for (const c of sums) target[c] = Number(target[c]) + sign * Number(row[c] ?? 0);
    merged.set(key, into);
  }
  // A group whose people are all opted out sums to none: it is not there for the oracle either.
  return [...merged.values()].filter((r) => r.people !== 0);
}

/** The person-level model's table and its date, when a model has been built. */
async function builtModelDate(q: Queryable): Promise<string | null> {
  if (!(await tableExists(q, 'kid_person_model'))) return null;
  const rows = await q.query<{ as_of: string | null }>('SELECT max(as_of) AS as_of FROM kid_person_model');
  const value = rows[0]?.as_of ?? null;
  return value === null ? null : isoDay(value);
}

const isoDay = (value: string): string => String(value).slice(0, 10);

/**
 * The day the dashboard shows when none is asked for: the model's date where a model is
 * built (so every panel describes the same day), otherwise the latest day the patient master
 * index describes (its latest record's date, the start of the newest residence period).
 */
export async function defaultDashboardDay(q: Queryable): Promise<string | null> {
  const asOf = await builtModelDate(q);
  if (asOf) return asOf;
  const rows = await q.query<{ day: string | null }>('SELECT max(from_date) AS day FROM kid_spine_residence');
  const value = rows[0]?.day ?? null;
  return value === null ? null : isoDay(value);
}

/**
 * A PCN is known by the practices the person-level model places in it (`pcn_code`, from the
 * practice-to-PCN reference release on the model's date); a PCN with none is refused.
 */
async function checkPcn(q: Queryable, code: string): Promise<void> {
  const known =
    (await tableExists(q, 'kid_person_model')) &&
    Number(
      (
        await q.query<{ n: number }>('SELECT count(*) AS n FROM kid_person_model WHERE pcn_code = $1', [code])
      )[0]?.n ?? 0,
    ) > 0;
  if (!known)
    throw new KernelError('not-found', `No practice in the person-level model belongs to the PCN ${code}`, {
      where: { field: 'scope' },
      hint: 'The model places a practice in a PCN from the practice-to-PCN reference (kernel reference list); choose a PCN the page lists, or a practice',
    });
}

/**
 * Whether anyone in the spine's `table` ever had `code` in `column`, on any day: a practice no
 * one was registered with, or an LSOA no one lived in, is refused rather than answered with a
 * dashboard of noughts.
 */
async function spineHolds(
  q: Queryable,
  table: 'kid_spine_registration' | 'kid_spine_residence',
  column: 'practice_code' | 'lsoa_code',
  code: string,
): Promise<boolean> {
  const rows = await q.query<{ one: number }>(`SELECT 1 AS one FROM ${table} WHERE ${column} = $1 LIMIT 1`, [
    code,
  ]);
  return rows.length > 0;
}

async function checkPractice(q: Queryable, code: string): Promise<void> {
  if (!(await spineHolds(q, 'kid_spine_registration', 'practice_code', code)))
    throw new KernelError('not-found', `There is no practice ${code} in the Kent Integrated Dataset`, {
      where: { field: 'scope' },
      hint: 'Choose a practice the page lists (its ODS code, e.g. practice:G82001)',
    });
}

async function checkLsoa(q: Queryable, code: string): Promise<void> {
  if (!(await spineHolds(q, 'kid_spine_residence', 'lsoa_code', code)))
    throw new KernelError(
      'not-found',
      `No one in the Kent Integrated Dataset has lived in the LSOA ${code}`,
      {
        where: { field: 'scope' },
        hint: 'Choose an LSOA in Kent and Medway (its code, e.g. lsoa:E01024123)',
      },
    );
}

/** SQL: one row per person in the scope on the day ($1), with age, sex, decile and the number of conditions. */
function frameSql(scope: DashboardScope, options: { optOut: boolean }): string {
  const day = 'CAST($1 AS DATE)';
  const ageMonths = ageInMonthsSql('p.birth_year_month', day);
  const where =
    scope.kind === 'practice'
      ? 'WHERE pop.practice_code = $2'
      : scope.kind === 'lsoa'
        ? 'WHERE h.lsoa_code = $2'
        : scope.kind === 'pcn'
          ? 'WHERE pop.practice_code IN (SELECT DISTINCT practice_code FROM kid_person_model WHERE pcn_code = $2)'
          : '';
  // A person is counted once: where two registrations touch the day, the lower practice code
  // (as the cohort frame does); where two residences do, the higher decile and lower LSOA.
  return `SELECT pop.person_token,
            CASE p.sex WHEN '2' THEN 'female' WHEN '1' THEN 'male' ELSE 'other' END AS sex_key,
            CASE WHEN p.birth_year_month IS NULL THEN NULL ELSE CAST(floor(${ageMonths} / 12) AS INTEGER) END AS age,
            h.imd_decile AS decile, COALESCE(c.conditions, 0) AS conditions
          FROM (SELECT person_token, min(practice_code) AS practice_code
                FROM (${populationOnSql('$1', options)}) p0 GROUP BY person_token) pop
          JOIN kid_spine_person p ON p.person_token = pop.person_token
          LEFT JOIN (SELECT person_token, max(imd_decile) AS imd_decile, min(lsoa_code) AS lsoa_code
                     FROM kid_spine_residence
                     WHERE from_date <= ${day} AND (to_date IS NULL OR to_date >= ${day})
                     GROUP BY person_token) h ON h.person_token = pop.person_token
          LEFT JOIN (SELECT person_token, count(*) AS conditions FROM kid_condition_current
                     WHERE first_date <= ${day} GROUP BY person_token) c ON c.person_token = pop.person_token
          ${where}`;
}

/**
 * The same frame from the person-level model, for its own date: one row per person already
 * (age, decile, practice, LSOA and the number of conditions worked out by the build), so a
 * practice's figures are a filtered scan of one table rather than the spine's joins. People
 * the model keeps because they died in its 12 months are not in the population on its date.
 */
function modelFrameSql(scope: DashboardScope, options: { optOut: boolean }): string {
  return `SELECT m.person_token, ${sexKeySql('m.sex')} AS sex_key,
            m.age, m.imd_decile AS decile, m.conditions
          FROM kid_person_model m
          WHERE m.as_of = CAST($1 AS DATE) AND m.death_date IS NULL
            ${scope.kind === 'ics' ? '' : `AND m.${AREA_COLUMN[scope.kind]} = $2`}
            ${options.optOut ? 'AND NOT EXISTS (SELECT 1 FROM optouts o WHERE o.token = m.person_token)' : ''}`;
}

const FINE_BAND = fineBandSql('age');

/** The condition register's ids and titles, read from its files once (they change only with a release). */
let register: { id: string; title: string }[] | undefined;
const registerOfConditions = (): { id: string; title: string }[] =>
  (register ??= conditionLists().map((l) => ({ id: l.id, title: l.title })));

/**
 * The dashboard's figures for `scope` on `day`, uncontrolled. Callers outside this module
 * and its tests go through `readPopulationHealth`, which opens the read and controls them.
 */
export async function populationHealthFigures(
  q: Queryable,
  day: string,
  scope: DashboardScope,
  options: FigureOptions = {},
): Promise<PopulationHealthFigures> {
  checkDay(day);
  const optOut = options.optOut ?? false;
  const panels = new Set(options.panels ?? (Object.keys(PANELS) as Panel[]));
  if (scope.kind === 'pcn') await checkPcn(q, scope.code as string);
  if (scope.kind === 'practice') await checkPractice(q, scope.code as string);
  if (scope.kind === 'lsoa') await checkLsoa(q, scope.code as string);
  const asOf = options.modelDate !== undefined ? options.modelDate : await builtModelDate(q);
  const wantModel = asOf !== null && (panels.has('frailty') || panels.has('costs'));
  // On the model's date, from the build's summary where the version has one (area-summary.ts);
  // otherwise counted from the model or the spine.
  const counted =
    (asOf === day && options.fromSummary !== false
      ? await countFromSummary(q, day, scope, {
          optOut,
          version: options.kidVersion ?? (await kidVersion(q)),
        })
      : null) ?? (await countAfresh(q, day, asOf, scope, { optOut, wantModel }));
  const { perCondition } = counted;
  const model = wantModel ? counted.model : [];

  const pyramid = new Map(PYRAMID_BANDS.map((band) => [band, { band, female: 0, male: 0, other: 0 }]));
  const row = (band: string): AgeRow => ({ band, people: 0, conditions: 0, multimorbidity: 0, complex: 0 });
  const byAge = new Map([...CONDITION_BANDS, 'unknown'].map((band) => [band, row(band)]));
  const deciles = [...DECILES, 'unknown'];
  const byDecile = new Map(deciles.map((decile) => [decile, row(decile)]));
  const byAgeAndDecile = new Map<string, AgeRow & { decile: string }>();
  const byAgeAndQuintile = new Map<string, AgeRow & { quintile: string }>();
  for (const band of CONDITION_BANDS) {
    for (const decile of deciles) byAgeAndDecile.set(`${band}|${decile}`, { ...row(band), decile });
    for (const quintile of [...QUINTILES, 'unknown'])
      byAgeAndQuintile.set(`${band}|${quintile}`, { ...row(band), quintile });
  }
  const add = (target: AgeRow | undefined, r: AgesRow): void => {
    if (!target) return;
    target.people += r.people;
    target.conditions += r.conditions;
    target.multimorbidity += r.multimorbidity;
    target.complex += r.complex;
  };
  let people = 0;
  let unknownAge = 0;
  for (const g of counted.pyramid) {
    const n = Number(g.people);
    people += n;
    if (g.band === null) unknownAge += n;
    else {
      const p = pyramid.get(g.band);
      if (p) p[g.sex_key === 'female' ? 'female' : g.sex_key === 'male' ? 'male' : 'other'] += n;
    }
  }
  for (const r of counted.ages) {
    const decile = r.decile === null ? 'unknown' : String(r.decile);
    const quintile = r.decile === null ? 'unknown' : String(Math.ceil(r.decile / 2));
    add(byAge.get(r.band), r);
    add(byDecile.get(decile), r);
    add(byAgeAndDecile.get(`${r.band}|${decile}`), r);
    add(byAgeAndQuintile.get(`${r.band}|${quintile}`), r);
  }
  const strip = <T extends AgeRow>({ band: _band, ...rest }: T): Omit<T, 'band'> => rest;

  const frailtyRows = model.filter((r) => Number(r.alive) === 1 && r.efi_category !== null);
  const frailty =
    asOf && panels.has('frailty')
      ? {
          asOf,
          people: frailtyRows.reduce((n, r) => n + Number(r.people), 0),
          categories: FRAILTY_CATEGORIES.map((category) => ({
            category,
            people: frailtyRows
              .filter((r) => r.efi_category === category)
              .reduce((n, r) => n + Number(r.people), 0),
          })),
        }
      : null;
  const segments = [...new Set(model.map((r) => String(r.segment ?? 'unknown')))].sort();
  const costs =
    asOf && panels.has('costs')
      ? {
          asOf,
          segments: segments.map((segment) => {
            const of = model.filter((r) => String(r.segment ?? 'unknown') === segment);
            return {
              segment,
              people: of.reduce((n, r) => n + Number(r.people), 0),
              cost: Object.fromEntries(
                COST_SETTINGS.map((k) => [
                  k,
                  exactSum(
                    of.map((r) => Number(r[`cost_${k}`] ?? 0)),
                    2,
                  ),
                ]),
              ) as Record<CostSetting, number>,
            };
          }),
        }
      : null;

  return {
    day,
    scope,
    people,
    pyramid: [...pyramid.values()],
    unknownAge,
    prevalence: registerOfConditions().map((list) => ({
      condition: list.id,
      title: list.title,
      people: Number(perCondition.find((c) => c.condition === list.id)?.people ?? 0),
    })),
    byAge: [...byAge.values()],
    byImdDecile: [...byDecile.values()].map((r) => ({ decile: r.band, ...strip(r) })),
    byAgeAndDecile: [...byAgeAndDecile.values()],
    byAgeAndQuintile: [...byAgeAndQuintile.values()],
    frailty,
    costs,
  };
}

/** A group's mean, shown only where its count of people is: to one decimal place. */
export type ControlledMean = number | '*' | null;

interface ControlledAgeRow {
  people: ControlledCount;
  meanConditions: ControlledMean;
  multimorbidity: ControlledRate;
  complexMultimorbidity: ControlledRate;
}

/** The dashboard as published: every count and rate under disclosure control. */
export interface PopulationHealth {
  day: string;
  scope: { kind: ScopeKind; code: string | null; text: string };
  rule: string;
  useCase: { id: string; title: string; purpose: string };
  optOutApplied: boolean;
  /** panels left out, and why (no model built yet, or the use case does not cover their sources) */
  leftOut: { panel: Panel; reason: string }[];
  people: ControlledCount;
  pyramid: { band: string; female: ControlledCount; male: ControlledCount; other: ControlledCount }[] | null;
  prevalence: { condition: string; title: string; people: ControlledCount; percent: ControlledRate }[] | null;
  byAge: ({ band: string } & ControlledAgeRow)[] | null;
  byImdDecile: ({ decile: string } & ControlledAgeRow)[] | null;
  byAgeAndQuintile: ({ band: string; quintile: string } & ControlledAgeRow)[] | null;
  frailty: {
    asOf: string;
    people: ControlledCount;
    categories: { category: string; people: ControlledCount; percent: ControlledRate }[];
  } | null;
  costs: {
    asOf: string;
    settings: CostSetting[];
    /** cost per person in pounds, per setting and in total: `*` where the segment's people are suppressed */
    segments: {
      segment: string;
      people: ControlledCount;
      perPerson: Record<CostSetting, number | '*' | null>;
      total: number | '*' | null;
    }[];
  } | null;
}

function controlMean(total: number, people: number, control: KidDisclosure): ControlledMean {
  if (control.count(people) === '*') return '*';
  if (people === 0) return null;
  return Math.round((total / people) * 10) / 10;
}

function controlAgeRow(r: AgeRow, control: KidDisclosure): ControlledAgeRow {
  return {
    people: control.count(r.people),
    meanConditions: controlMean(r.conditions, r.people, control),
    multimorbidity: control.percent(r.multimorbidity, r.people),
    complexMultimorbidity: control.percent(r.complex, r.people),
  };
}

/** Applies disclosure control to the raw figures; panels not in `shown` are null. */
export function controlPopulationHealth(
  f: PopulationHealthFigures,
  policy: DisclosurePolicy,
  shown: ReadonlySet<Panel>,
): Omit<PopulationHealth, 'useCase' | 'optOutApplied' | 'leftOut'> {
  const control = kidDisclosure(policy);
  const { count, percent } = control;
  const costPerPerson = (total: number, people: number): number | '*' | null => {
    const mean = controlMean(total, people, control);
    return typeof mean === 'number' ? Math.round(total / people) : mean;
  };
  return {
    day: f.day,
    scope: { ...f.scope, text: scopeText(f.scope) },
    rule: control.rule,
    people: count(f.people),
    pyramid: shown.has('pyramid')
      ? f.pyramid.map((p) => ({
          band: p.band,
          female: count(p.female),
          male: count(p.male),
          other: count(p.other),
        }))
      : null,
    prevalence: shown.has('prevalence')
      ? f.prevalence.map((p) => ({
          ...p,
          people: count(p.people),
          percent: percent(p.people, f.people),
        }))
      : null,
    byAge: shown.has('conditionsByAge')
      ? f.byAge.map((r) => ({ band: r.band, ...controlAgeRow(r, control) }))
      : null,
    byImdDecile: shown.has('deprivation')
      ? f.byImdDecile.map((r) => ({ decile: r.decile, ...controlAgeRow({ ...r, band: r.decile }, control) }))
      : null,
    byAgeAndQuintile: shown.has('deprivation')
      ? f.byAgeAndQuintile
          .filter((r) => r.quintile !== 'unknown')
          .map((r) => ({ band: r.band, quintile: r.quintile, ...controlAgeRow(r, control) }))
      : null,
    frailty:
      shown.has('frailty') && f.frailty
        ? {
            asOf: f.frailty.asOf,
            people: count(f.frailty.people),
            categories: f.frailty.categories.map((c) => ({
              category: c.category,
              people: count(c.people),
              percent: percent(c.people, f.frailty?.people ?? 0),
            })),
          }
        : null,
    costs:
      shown.has('costs') && f.costs
        ? {
            asOf: f.costs.asOf,
            settings: [...COST_SETTINGS],
            segments: f.costs.segments.map((s) => ({
              segment: s.segment,
              people: count(s.people),
              perPerson: Object.fromEntries(
                COST_SETTINGS.map((k) => [k, costPerPerson(s.cost[k], s.people)]),
              ) as Record<CostSetting, number | '*' | null>,
              total: costPerPerson(
                exactSum(
                  COST_SETTINGS.map((k) => s.cost[k]),
                  2,
                ),
                s.people,
              ),
            })),
          }
        : null,
  };
}

const capitalise = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);

const PANEL_TITLES: Record<Panel, string> = {
  pyramid: 'the population pyramid',
  prevalence: 'condition prevalence',
  conditionsByAge: 'conditions by age',
  deprivation: 'conditions by deprivation',
  frailty: 'frailty',
  costs: 'cost by segment and setting',
};

/**
 * The population and its conditions are the dashboard: a use case whose read of these the
 * policy refuses opens nothing (the other panels are left out one by one).
 */
const DASHBOARD_CORE: readonly KidFieldGroup[] = ['population', 'conditions'];

/** Field groups the panels need that do not exist in the KID yet (the model's, before it is built). */
const MODEL_GROUPS = ['frailty', 'activity', 'segments'] as const;

/** What the policy decided for one user under one use case: the panels shown, and the read. */
interface Decision {
  read: KidRead;
  shown: Set<Panel>;
  leftOut: PopulationHealth['leftOut'];
  modelDate: string | null;
}

/**
 * Decides which panels the use case covers (each source once, without side effects) and
 * opens one audited KID read of their field groups. Refuses (audited) when the use case
 * covers not even the population and conditions.
 */
async function decide(q: Queryable, access: ReadAccess): Promise<Decision> {
  const modelDate = await builtModelDate(q);
  const known = new Set<string>(Object.keys(KID_LINEAGE));
  const leftOut: PopulationHealth['leftOut'] = [];
  const refusals = new Map<string, string | null>();
  const covers = async (group: string): Promise<boolean> => {
    let all = true;
    for (const dataset of KID_LINEAGE[group as KidFieldGroup] as readonly string[]) {
      if (!refusals.has(dataset)) {
        const decision = await decideAccess(q, access, dataset);
        refusals.set(dataset, decision.allowed ? null : decision.reason);
      }
      if (refusals.get(dataset) !== null) all = false;
    }
    return all;
  };
  const shown = new Set<Panel>();
  for (const [panel, groups] of Object.entries(PANELS) as [Panel, readonly string[]][]) {
    if (groups.some((g) => !known.has(g))) {
      leftOut.push({
        panel,
        reason: `The Kent Integrated Dataset does not derive ${PANEL_TITLES[panel]} yet`,
      });
      continue;
    }
    if (groups.some((g) => (MODEL_GROUPS as readonly string[]).includes(g)) && modelDate === null) {
      leftOut.push({
        panel,
        reason: `The person-level model that ${PANEL_TITLES[panel]} comes from is not built yet (kernel kid build)`,
      });
      continue;
    }
    const uncovered: string[] = [];
    for (const g of groups) if (!(await covers(g))) uncovered.push(g);
    if (uncovered.length) {
      const reasons = [
        ...new Set(
          uncovered
            .flatMap((g) => KID_LINEAGE[g as KidFieldGroup] as readonly string[])
            .map((d) => refusals.get(d))
            .filter((r): r is string => typeof r === 'string'),
        ),
      ];
      leftOut.push({
        panel,
        reason: `${capitalise(PANEL_TITLES[panel])} needs data this read may not use: ${reasons.join('; ')}`,
      });
    } else shown.add(panel);
  }
  // Without its core the read is refused (openKidRead audits the refusal and says which
  // source is missing).
  const fields = new Set<KidFieldGroup>(DASHBOARD_CORE);
  for (const panel of shown) for (const g of PANELS[panel]) fields.add(g as KidFieldGroup);
  const read = await openKidRead(q, access, [...fields]);
  return { read, shown, leftOut, modelDate };
}

/**
 * Decisions kept per user, use case, policy version, day and KID version, as the maternity
 * dashboard keeps its grants (src/analytics/maternity-dashboard.ts): any change to what the
 * policy decides from, a new day or a new KID build makes the policy decide (and audit)
 * again. The figures are never kept: every request counts them afresh.
 */
const decisions = new Map<string, Promise<Decision>>();
const DECISION_LIMIT = 1024;
/** How long the policy's version is reused before it is read again (as the maternity dashboard's). */
export const POLICY_VERSION_MAX_AGE_MS = 1000;

/**
 * `read` of a version a cache keys on, reused per store for up to `POLICY_VERSION_MAX_AGE_MS`
 * (a read that fails is not kept), so a busy page reads it about once a second.
 */
function reusedBriefly(read: (q: Queryable) => Promise<string>): (q: Queryable) => Promise<string> {
  const memo = new WeakMap<Queryable, { at: number; version: Promise<string> }>();
  return (q) => {
    const kept = memo.get(q);
    const now = performance.now();
    if (kept && now - kept.at <= POLICY_VERSION_MAX_AGE_MS) return kept.version;
    const version = read(q);
    memo.set(q, { at: now, version });
    version.catch(() => memo.delete(q));
    return version;
  };
}

export const currentPolicyVersion = reusedBriefly(policyVersion);

async function kidVersion(q: Queryable): Promise<string> {
  const [row] = await q.query<{ version: number | null }>('SELECT max(version) AS version FROM kid_current');
  return String(row?.version ?? '-');
}

/**
 * The dashboard for `scope` on `day` (default: the model's date, or `defaultDashboardDay`),
 * read under the use case in `access`: the panels whose sources the use case covers, in one
 * audited KID read, disclosure-controlled. A request that reuses a decision is still checked
 * against the current policy version and recorded (`dashboard.viewed`, group commit).
 */
export async function readPopulationHealth(
  store: Store,
  access: ReadAccess,
  request: { scope: DashboardScope; day?: string },
  policy: DisclosurePolicy = HES_2018,
): Promise<PopulationHealth> {
  return (await readAtKidVersion(store, access, request, policy)).answer;
}

/**
 * What the page shows: the answer (`readPopulationHealth`'s, audited alike) and the areas its
 * picker lists on the answer's day, both of the KID version read once for the two. Reading
 * the version again for the areas was a statement per page that the API does not run.
 */
export async function readPopulationHealthPage(
  store: Store,
  access: ReadAccess,
  request: { scope: DashboardScope; day?: string },
  policy: DisclosurePolicy = HES_2018,
): Promise<{ answer: PopulationHealth; areas: DashboardAreas }> {
  const { answer, version } = await readAtKidVersion(store, access, request, policy);
  return { answer, areas: await areasOfVersion(store, answer.day, version) };
}

async function readAtKidVersion(
  store: Store,
  access: ReadAccess,
  request: { scope: DashboardScope; day?: string },
  policy: DisclosurePolicy,
): Promise<{ answer: PopulationHealth; version: string }> {
  if (request.day !== undefined) await checkDayInData(store, request.day);
  const { user } = access;
  const version = await kidVersion(store);
  const key = JSON.stringify([
    user.id,
    user.role,
    user.org,
    access.useCaseId,
    await currentPolicyVersion(store),
    new Date().toISOString().slice(0, 10),
    version,
  ]);
  let pending = decisions.get(key);
  let audited = false;
  if (!pending) {
    pending = decide(store, access);
    audited = true;
    if (decisions.size >= DECISION_LIMIT) decisions.delete(decisions.keys().next().value as string);
    decisions.set(key, pending);
    pending.catch(() => decisions.delete(key));
  }
  const { read, shown, leftOut, modelDate } = await pending;
  if (request.scope.kind === 'lsoa' && !shown.has('deprivation'))
    throw new KernelError(
      'forbidden',
      'An LSOA is where people live, and the use case does not cover residence',
      {
        where: { field: 'scope' },
        hint: 'Choose a practice, or a use case that covers the residence datasets',
      },
    );
  const day = request.day ?? modelDate ?? (await defaultDashboardDay(store));
  if (day === null)
    throw new KernelError('not-found', 'The Kent Integrated Dataset has not been built yet', {
      hint: 'Run kernel kid build',
    });
  const figures = await populationHealthFigures(store, day, request.scope, {
    optOut: read.optOutApplies,
    panels: [...shown],
    modelDate,
    kidVersion: version,
  });
  if (!audited)
    await viewRecorder(store).record({
      audit: {
        actor: access.actor ?? `user:${user.id}`,
        action: 'dashboard.viewed',
        target: 'dashboard:population-health',
        purpose: read.useCase.id,
        details: {
          role: user.role,
          purpose: read.useCase.purpose,
          fields: read.fields.join('+'),
          scope: scopeText(request.scope),
          day,
          optOutApplied: read.optOutApplies,
        },
      },
      access: [],
    });
  const answer = {
    ...controlPopulationHealth(figures, policy, shown),
    useCase: { id: read.useCase.id, title: read.useCase.title, purpose: read.useCase.purpose },
    optOutApplied: read.optOutApplies,
    leftOut,
  };
  return { answer, version };
}

/**
 * The use cases under which `user` may open the dashboard today: the active ones they are on
 * whose read of the dashboard's core the policy allows (`decideKidRead`: the decision
 * `openKidRead` audits, taken here without reading or auditing anything). The page offers
 * these in its picker and opens the first by default; the portal's menu shows the dashboard
 * only to someone with one (`mayOpenPopulationHealth`), so the menu and the page cannot
 * disagree. Kept per user, role, organisation, policy version, day and KID version, as the
 * decisions above are: the menu asks on every page drawn.
 */
export async function populationHealthUseCases(q: Queryable, user: ReadUser): Promise<UseCase[]> {
  const key = JSON.stringify([
    user.id,
    user.role,
    user.org,
    await currentPolicyVersion(q),
    new Date().toISOString().slice(0, 10),
    await currentKidVersion(q),
  ]);
  let memo = openableMemos.get(q);
  if (!memo) openableMemos.set(q, (memo = new Map()));
  let useCases = memo.get(key);
  if (!useCases) {
    useCases = (async () => {
      const open: UseCase[] = [];
      for (const useCase of await readableUseCases(q, user))
        if ((await decideKidRead(q, { user, useCaseId: useCase.id }, DASHBOARD_CORE)).allowed)
          open.push(useCase);
      return open;
    })();
    if (memo.size >= DECISION_LIMIT) memo.delete(memo.keys().next().value as string);
    memo.set(key, useCases);
    const kept = memo;
    useCases.catch(() => kept.delete(key));
  }
  return useCases;
}
const openableMemos = new WeakMap<Queryable, Map<string, Promise<UseCase[]>>>();

/** Whether `user` may open the dashboard: they are on a use case it opens under (above). */
export async function mayOpenPopulationHealth(q: Queryable, user: ReadUser): Promise<boolean> {
  return (await populationHealthUseCases(q, user)).length > 0;
}

/**
 * The KID's version, reused for up to `POLICY_VERSION_MAX_AGE_MS`, for the key above: the
 * policy also refuses a dataset nothing has been loaded into, which its own version does not
 * see, and a first load of pmi or gp-events is followed by a build, a new KID version.
 */
const currentKidVersion = reusedBriefly(kidVersion);

/** The codes of the areas the page's picker lists. */
export interface DashboardAreas {
  practices: string[];
  pcns: string[];
}

/** The areas a user can choose: practices and (with a model) PCNs in the population on the day. */
export async function dashboardAreas(q: Queryable, day: string): Promise<DashboardAreas> {
  checkDay(day);
  return areasOfVersion(q, day, await kidVersion(q));
}

/** `dashboardAreas` of the KID version the caller has read. */
async function areasOfVersion(q: Queryable, day: string, version: string): Promise<DashboardAreas> {
  // Organisation codes, not people: kept per KID version and day.
  const key = `${version}|${day}`;
  const memo = areasMemo.get(q);
  if (memo?.key === key) return memo.areas;
  const fromModel = (await builtModelDate(q)) === day;
  const practices = await q.query<{ code: string }>(
    fromModel
      ? 'SELECT DISTINCT practice_code AS code FROM kid_person_model WHERE death_date IS NULL ORDER BY code'
      : `SELECT DISTINCT practice_code AS code FROM (${populationOnSql('$1')}) p ORDER BY code`,
    fromModel ? [] : [day],
  );
  const pcns = (await tableExists(q, 'kid_person_model'))
    ? await q.query<{ code: string }>(
        'SELECT DISTINCT pcn_code AS code FROM kid_person_model WHERE pcn_code IS NOT NULL ORDER BY code',
      )
    : [];
  const areas = { practices: practices.map((p) => p.code), pcns: pcns.map((p) => p.code) };
  areasMemo.set(q, { key, areas });
  return areas;
}
const areasMemo = new WeakMap<Queryable, { key: string; areas: DashboardAreas }>();
