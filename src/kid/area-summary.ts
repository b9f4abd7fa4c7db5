/**
 * The population health dashboard's summary of the person-level model (docs/kid.md,
 * "Population health dashboard", "What is counted ahead"): a mart of the model written with
 * every KID build version, after the model, so it is swapped in with the version and a
 * reader never sees half of it. Per area (the whole system, each practice, PCN and LSOA of
 * the model) it holds the model's people on its date grouped exactly as the dashboard
 * groups them — by sex, fine age band, IMD decile and number of conditions; the people with
 * each condition; by segment, eFI category and whether alive, with cost per setting.
 *
 * It counts everyone, opted out or not. The national data opt-out list changes without a
 * build (`kernel optouts load`), so a planning or research read takes the people on the list
 * *at the time of the read* out by subtracting their groups, counted from the model in the
 * same statement (`areaSummaryRead`): the answer equals counting the model afresh without
 * them (src/kid/area-summary.int.test.ts keeps that statement as the oracle). Disclosure
 * control, the policy's decision and the audit stay per request (population-health.ts).
 */
import type { Queryable } from '../store/store.ts';
import { AGE_BANDS } from './conditions.ts';
import { COST_SETTINGS } from './person-model.ts';
import { inVersion } from '../store/version-range.ts';
import { gatherStatistics } from './gather-statistics.ts';
import type { ModelScope } from './incremental-build.ts';
import { quoteLiteral } from '../store/sql.ts';

/** The dashboard's sex groups, from the PMI's stated gender code (NHS Data Dictionary: 1 male, 2 female). */
export const sexKeySql = (column: string): string =>
  `CASE ${column} WHEN '2' THEN 'female' WHEN '1' THEN 'male' ELSE 'other' END`;

/**
 * Ages grouped in SQL as finely as both sets of bands need, each group named by its lowest
 * age: five-year bands (the pyramid's), with 15-19 split at 18 (the conditions' bands).
 * A few hundred rows for any scope, rather than one per year of age.
 */
export const fineBandSql = (
  age: string,
): string => `CASE WHEN ${age} IS NULL THEN NULL WHEN ${age} >= 90 THEN 90
  WHEN ${age} BETWEEN 15 AND 17 THEN 15 WHEN ${age} BETWEEN 18 AND 19 THEN 18 ELSE ${age} - ${age} % 5 END`;

/** The pyramid's five-year band of an age ('0-4' … '85-89', '90+'; null without an age). */
export const pyramidBand = (age: number): string =>
  age >= 90 ? '90+' : `${Math.floor(age / 5) * 5}-${Math.floor(age / 5) * 5 + 4}`;
const pyramidBandSql = (age: string): string =>
  `CASE WHEN ${age} IS NULL THEN NULL WHEN ${age} >= 90 THEN '90+'
   ELSE CAST(${age} - ${age} % 5 AS TEXT) || '-' || CAST(${age} - ${age} % 5 + 4 AS TEXT) END`;

/** The conditions panels' age band of an age (the KID's bands, conditions.ts, and 85+). */
export const conditionBand = (age: number): string => AGE_BANDS.find((b) => age < b.below)?.band ?? '85+';
const conditionBandSql = (age: string): string =>
  `CASE WHEN ${age} IS NULL THEN 'unknown' ${AGE_BANDS.map((b) => `WHEN ${age} < ${b.below} THEN '${b.band}'`).join(' ')} ELSE '85+' END`;

/** The model's columns that name an area of each kind ('ics' is everyone). */
export const AREA_COLUMN = { practice: 'practice_code', pcn: 'pcn_code', lsoa: 'lsoa_code' } as const;

/**
 * Which of the model's rows a part of the summary counts (`rows`, SQL on the alias `m`, `$1`
 * the version built) and which version's conditions they had (`conditions`, SQL). People on
 * the opt-out list now are counted with the rest, alone (`IN` a list rather than a correlated
 * `EXISTS`, which DuckDB ran as a join over every token of the model, four times), or left out.
 */
interface ModelRows {
  rows: string;
  conditions: string;
  optOut: 'everyone' | 'opted-out' | 'not-opted-out';
}

/** The model's rows `of` once per area they fall in, with the dashboard's groups worked out. */
function areasOf(of: ModelRows): string {
  const m = `SELECT person_token, as_of, ${sexKeySql('sex')} AS sex_key, ${pyramidBandSql('age')} AS pyramid_band,
                ${conditionBandSql('age')} AS band, imd_decile AS decile, conditions, segment, efi_category,
                CASE WHEN death_date IS NULL THEN 1 ELSE 0 END AS alive,
                practice_code, pcn_code, lsoa_code,
                ${COST_SETTINGS.map((k) => `COALESCE(cost_${k}, 0) AS cost_${k}`).join(', ')}
             FROM kid_model m WHERE ${of.rows}
             ${of.optOut === 'everyone' ? '' : `AND person_token ${of.optOut === 'opted-out' ? '' : 'NOT '}IN (SELECT x.token FROM optouts x)`}`;
  const columns = `person_token, as_of, sex_key, pyramid_band, band, decile, conditions, segment, efi_category, alive,
                   ${COST_SETTINGS.map((k) => `cost_${k}`).join(', ')}`;
  return `WITH m AS (${m}),
    a AS (SELECT CAST('ics' AS TEXT) AS scope_kind, CAST('' AS TEXT) AS scope_code, ${columns} FROM m
      ${Object.entries(AREA_COLUMN)
        .map(
          ([kind, column]) =>
            `UNION ALL SELECT '${kind}', ${column}, ${columns} FROM m WHERE ${column} IS NOT NULL`,
        )
        .join('\n      ')})`;
}

/**
 * SQL for a cost summed in whole pence (the model's costs are to the penny), back in pounds: a
 * sum of integers is the same in any order, so a part added and taken away again leaves the
 * total exactly as counting it afresh would (a sum of doubles differs in its last bits).
 */
const pence = (expression: string): string => `CAST(round(${expression} * 100) AS BIGINT)`;
const poundsOf = (pennies: string): string => `CAST(${pennies} AS DOUBLE PRECISION) / 100`;

/**
 * SQL naming the opt-out list as it is now: its batch (each `kernel optouts load` replaces the
 * whole list under a new random batch id) and size. Equal names, equal lists.
 */
export const OPTOUT_TAG_SQL = `SELECT COALESCE(min(batch_id), '') || '|' || COALESCE(max(batch_id), '') || '|' || CAST(count(*) AS TEXT) AS tag FROM optouts`;

export async function optOutTag(q: Queryable): Promise<string> {
  const [row] = await q.query<{ tag: string }>(OPTOUT_TAG_SQL);
  return String(row?.tag ?? '');
}

/**
 * Writes the summary of build `version` from its model and conditions (before the version
 * is made current): everyone's groups as four INSERT … SELECTs (the groups, the conditions,
 * the model's segments and costs), then the people not on the opt-out list as everyone's
 * groups less those of the people on it (a few in a hundred, counted by the same four
 * statements), each part with the row that says it was written. Counting the second part
 * afresh took as long as the first. The second part says which list it left out; when the
 * list changed while it was counted it is not marked written, and planning reads take the
 * people on the list out of everyone's counts afresh.
 *
 * Every group is a sum over people, so a build that computed the model of a few people only
 * (`scope`: the model's date stayed, src/kid/incremental-build.ts) writes each part by
 * difference: the version before's groups, less those of its rows of those people (the rows
 * this build retired), plus those of their new rows. At 1.9 million people, a late feed's
 * 7,448 people. The part without the opt-out list goes the same way while the list is the one
 * the version before left out; otherwise it is counted as in a full build.
 */
export async function buildAreaSummary(
  q: Queryable,
  version: number,
  options: { scope?: ModelScope } = {},
): Promise<{ rows: number; byDifference: boolean }> {
  await q.run('DELETE FROM kid_area_summary WHERE version = $1', [version]);
  await q.run('DELETE FROM kid_area_panels WHERE version = $1', [version]);
  // The model was written moments ago and the list may have been replaced since they were
  // last counted: planned on a model of one row, PostgreSQL matched each of its people against
  // the whole list (20 s at 100,000 people with 5% on it; hours at 1.9 million).
  await gatherStatistics(q, ['kid_model', 'optouts']);
  const write = async (variant: string, of: ModelRows): Promise<void> => {
    const into = (columns: string): string =>
      `INSERT INTO kid_area_summary (version, as_of, scope_kind, scope_code, variant, optout_tag, panel, ${columns}, people`;
    const head = `CAST($1 AS INTEGER), as_of, scope_kind, scope_code, '${variant}', CAST(NULL AS TEXT)`;
    const areas = areasOf(of);
    await q.run(
      `${into('sex_key, band')})
       ${areas}
       SELECT ${head}, 'pyramid', sex_key, pyramid_band, count(*)
       FROM a WHERE alive = 1 GROUP BY as_of, scope_kind, scope_code, sex_key, pyramid_band`,
      [version],
    );
    await q.run(
      `${into('band, decile')}, conditions, multimorbidity, complex)
       ${areas}
       SELECT ${head}, 'ages', band, decile, count(*), CAST(sum(conditions) AS BIGINT),
              sum(CASE WHEN conditions >= 2 THEN 1 ELSE 0 END), sum(CASE WHEN conditions >= 4 THEN 1 ELSE 0 END)
       FROM a WHERE alive = 1 GROUP BY as_of, scope_kind, scope_code, band, decile`,
      [version],
    );
    await q.run(
      `${into('condition')})
       ${areas}
       SELECT ${head.replace('as_of, scope_kind, scope_code', 'a.as_of, a.scope_kind, a.scope_code')}, 'condition', k.condition, count(*)
       FROM a JOIN kid_condition k ON ${inVersion('k', of.conditions)} AND k.person_token = a.person_token AND k.first_date <= a.as_of
       WHERE a.alive = 1 GROUP BY a.as_of, a.scope_kind, a.scope_code, k.condition`,
      [version],
    );
    await q.run(
      `${into('segment, efi_category, alive')}, ${COST_SETTINGS.map((k) => `cost_${k}`).join(', ')})
       ${areas}
       SELECT ${head}, 'model', segment, efi_category, alive, count(*),
              ${COST_SETTINGS.map((k) => poundsOf(`sum(${pence(`cost_${k}`)})`)).join(', ')}
       FROM a GROUP BY as_of, scope_kind, scope_code, segment, efi_category, alive`,
      [version],
    );
  };
  const marker = async (variant: string, tag: string | null): Promise<number> =>
    // An empty model (no GP events loaded yet) has no date, and the dashboard counts from the spine.
    q.run(
      `INSERT INTO kid_area_summary (version, as_of, scope_kind, scope_code, variant, optout_tag, panel, people)
       SELECT CAST($1 AS INTEGER), max(as_of), 'ics', '', '${variant}', CAST($2 AS TEXT), 'built', count(*)
       FROM kid_model m WHERE ${inVersion('m', '$1')} HAVING count(*) > 0`,
      [version, tag],
    );
  const previous = await previousSummary(q, options.scope);
  // A part by difference: the version `before`'s, less the scope's old rows, plus their new.
  const byDifference = async (
    before: number,
    variant: 'everyone' | 'not-opted-out',
    tag: string | null,
  ): Promise<void> => {
    await write('scope-before', { rows: 'm.retired = $1', conditions: String(before), optOut: variant });
    await write('scope-now', { rows: 'm.version = $1', conditions: '$1', optOut: variant });
    await combine(q, version, variant, tag, [
      { version: before, variant, sign: 1 },
      { version, variant: 'scope-before', sign: -1 },
      { version, variant: 'scope-now', sign: 1 },
    ]);
    await q.run(
      `DELETE FROM kid_area_summary WHERE version = $1 AND variant IN ('scope-before', 'scope-now')`,
      [version],
    );
  };
  const everyone: ModelRows = { rows: inVersion('m', '$1'), conditions: '$1', optOut: 'everyone' };
  if (previous) await byDifference(previous.version, 'everyone', null);
  else await write('everyone', everyone);
  await marker('everyone', null);
  const tag = await optOutTag(q);
  if (previous && previous.optOutTag === tag) await byDifference(previous.version, 'not-opted-out', tag);
  else {
    await write('opted-out', { ...everyone, optOut: 'opted-out' });
    await combine(q, version, 'not-opted-out', tag, [
      { version, variant: 'everyone', sign: 1 },
      { version, variant: 'opted-out', sign: -1 },
    ]);
    await q.run(`DELETE FROM kid_area_summary WHERE version = $1 AND variant = 'opted-out'`, [version]);
  }
  if ((await optOutTag(q)) === tag) await marker('not-opted-out', tag);
  await packAreaSummary(q, version);
  const [row] = await q.query<{ n: number }>(
    'SELECT count(*) AS n FROM kid_area_summary WHERE version = $1',
    [version],
  );
  return { rows: Number(row?.n ?? 0), byDifference: previous !== null };
}

/**
 * The version before's summary, when build `scope` computed the model of a few people only
 * and that summary was written whole (its 'everyone' part marked built): with the opt-out
 * list its 'not-opted-out' part left out, or null where that part is not there.
 */
async function previousSummary(
  q: Queryable,
  scope: ModelScope | undefined,
): Promise<{ version: number; optOutTag: string | null } | null> {
  if (!scope || !('people' in scope)) return null;
  const built = await q.query<{ variant: string; optout_tag: string | null }>(
    `SELECT variant, optout_tag FROM kid_area_summary WHERE version = $1 AND panel = 'built'`,
    [scope.previous],
  );
  if (!built.some((b) => b.variant === 'everyone')) return null;
  const notOptedOut = built.find((b) => b.variant === 'not-opted-out');
  return { version: scope.previous, optOutTag: notOptedOut ? String(notOptedOut.optout_tag) : null };
}

/**
 * Writes build `version`'s part `variant` (tagged `tag`) as the sum of other parts' groups, each
 * times its sign (everyone's less the opted-out's; the version before's less and plus the
 * scope's), leaving out a group with no one left in it (a fresh count has no such row). The
 * parts are summed by group rather than joined: a join of the table with itself, planned by
 * PostgreSQL from statistics taken before this version had rows, read the whole table once per
 * row (326 s at 100,000 people). Costs are summed in whole pence.
 */
async function combine(
  q: Queryable,
  version: number,
  variant: string,
  tag: string | null,
  parts: readonly { version: number; variant: string; sign: 1 | -1 }[],
): Promise<void> {
  const groups = `as_of, scope_kind, scope_code, ${GROUPS}`;
  const costs = new Set(COST_SETTINGS.map((k) => `cost_${k}`));
  const signed = (part: (typeof parts)[number]): string =>
    `SELECT ${groups}, ${summed()
      .map((c) => `${part.sign} * ${costs.has(c) ? pence(c) : c} AS ${c}`)
      .join(', ')}
     FROM kid_area_summary
     WHERE version = ${Number(part.version)} AND variant = ${quoteLiteral(part.variant)} AND panel <> 'built'`;
  await q.run(
    `INSERT INTO kid_area_summary (version, variant, optout_tag, ${groups}, ${summed().join(', ')})
     SELECT CAST($1 AS INTEGER), ${quoteLiteral(variant)}, CAST($2 AS TEXT), ${groups}, ${summed()
       .map((c) => (costs.has(c) ? poundsOf(`sum(${c})`) : `sum(${c})`))
       .join(', ')}
     FROM (${parts.map(signed).join(' UNION ALL ')}) s
     GROUP BY ${groups}
     HAVING sum(people) > 0`,
    [version, tag],
  );
}

/**
 * Writes the summary of build `version` again packed for reading (migration 147): each area's
 * rows of a variant and panel as one JSON array (in the order of their text, so equal
 * summaries pack equal), so a request reads the few rows of its area by key rather than
 * scanning every area's.
 */
export async function packAreaSummary(q: Queryable, version: number): Promise<void> {
  await q.run('DELETE FROM kid_area_panels WHERE version = $1', [version]);
  const row = q.dialect.rowJson(
    ['variant', ...GROUPS.split(', '), ...summed()].map((c) => ({ name: c, value: `s.${c}` })),
  );
  await q.run(
    `INSERT INTO kid_area_panels (area_key, version, as_of, scope_kind, scope_code, variant, optout_tag, panel, rows)
     SELECT ${AREA_KEY_SQL}, version, as_of, scope_kind, scope_code, variant, optout_tag, panel,
            '[' || string_agg(${row}, ',' ORDER BY ${row}) || ']'
     FROM kid_area_summary s WHERE version = $1
     GROUP BY version, as_of, scope_kind, scope_code, variant, optout_tag, panel`,
    [version],
  );
}

/** The summary's rows as read from kid_area_panels (`areaSummaryRead`), unpacked. */
export function unpackAreaSummary(packed: readonly { rows: string }[]): AreaSummaryRow[] {
  return packed.flatMap((p) => JSON.parse(p.rows) as AreaSummaryRow[]);
}

/** A row of the summary read: one of a panel's groups, its people and what is summed over them. */
export type AreaSummaryRow = {
  /** on 'built' rows: the part of the summary that was written */
  variant: 'everyone' | 'not-opted-out' | 'opted-out' | null;
  panel: 'pyramid' | 'ages' | 'condition' | 'model' | 'built';
  sex_key: string | null;
  band: string | null;
  decile: number | null;
  condition: string | null;
  segment: string | null;
  efi_category: string | null;
  alive: number | null;
  people: number;
  conditions: number | null;
  multimorbidity: number | null;
  complex: number | null;
  [cost: `cost_${string}`]: number | null;
};

const GROUPS = 'panel, sex_key, band, decile, condition, segment, efi_category, alive';
/**
 * The summed columns. A function, not a constant: person-model.ts reaches this module through
 * person-spine.ts, so COST_SETTINGS is not made yet while this module loads when it loads first.
 */
const summed = (): string[] => [
  'people',
  'conditions',
  'multimorbidity',
  'complex',
  ...COST_SETTINGS.map((k) => `cost_${k}`),
];
/**
 * The key kid_area_panels finds a packed row by (migration 147): the KID version, the day,
 * the area (or 'built' for the rows that say which parts were written), the variant and the
 * opt-out list's tag. One text column with an index of its own, because DuckDB reads by an
 * index only for an equality on one column: any other filter beside it, or a key of several
 * columns, and it scans every row, fetching the packed text of every row near the area's.
 */
export const AREA_KEY_SQL = `CAST(version AS TEXT) || '|' || CAST(as_of AS TEXT) || '|' ||
  CASE WHEN panel = 'built' THEN 'built' ELSE scope_kind || '|' || scope_code END || '|' ||
  variant || '|' || COALESCE(optout_tag, '')`;
function areaKey(version: number, day: string, area: string, variant: string, tag: string | null): string {
  return `${version}|${day}|${area}|${variant}|${tag ?? ''}`;
}

/**
 * A read of KID version `version`'s summary of the area (`kind`, `code`, '' for the system)
 * on `day`, packed (`unpackAreaSummary` gives its rows): of everyone, or, given the opt-out
 * list's tag now (`optOutTag`), of the people not on the list where that part left out the
 * list as it is now. One statement finding a few rows by their key. Its 'built' rows say
 * which parts are there: none (a version built before the summary existed: count from the
 * model), or no 'not-opted-out' one with a tag (the list has changed since the build:
 * everyone's, less `areaSummaryOptedOutSql`'s).
 */
export function areaSummaryRead(
  version: number,
  day: string,
  kind: string,
  code: string,
  optOutTag: string | null,
): { sql: string; params: string[] } {
  const area = `${kind}|${code}`;
  const keys =
    optOutTag === null
      ? [areaKey(version, day, area, 'everyone', null), areaKey(version, day, 'built', 'everyone', null)]
      : [
          areaKey(version, day, area, 'not-opted-out', optOutTag),
          areaKey(version, day, 'built', 'everyone', null),
          areaKey(version, day, 'built', 'not-opted-out', optOutTag),
        ];
  return {
    sql: `SELECT rows FROM kid_area_panels WHERE area_key IN (${keys.map((_, i) => `$${i + 1}`).join(', ')})`,
    params: keys,
  };
}

/**
 * SQL (parameters: $1 the day, and $2 the area's code unless `kind` is 'ics'): the groups of the people of the
 * area on the opt-out list now (variant 'opted-out', for the caller to subtract from
 * everyone's), counted from the model with the same expressions — exactly those a planning
 * read of the model leaves out (NOT EXISTS there, EXISTS here). For when the list has changed
 * since the build.
 */
export function areaSummaryOptedOutSql(kind: keyof typeof AREA_COLUMN | 'ics'): string {
  const costs = COST_SETTINGS.map((k) => `cost_${k}`);
  const o = `SELECT m.person_token, ${sexKeySql('m.sex')} AS sex_key, ${pyramidBandSql('m.age')} AS pyramid_band,
               ${conditionBandSql('m.age')} AS band, m.imd_decile AS decile, m.conditions, m.segment, m.efi_category,
               CASE WHEN m.death_date IS NULL THEN 1 ELSE 0 END AS alive,
               ${costs.map((c) => `COALESCE(m.${c}, 0) AS ${c}`).join(', ')}
             FROM kid_person_model m
             WHERE m.as_of = CAST($1 AS DATE) ${kind === 'ics' ? '' : `AND m.${AREA_COLUMN[kind]} = $2`}
               AND EXISTS (SELECT 1 FROM optouts x WHERE x.token = m.person_token)`;
  const none = (n: number): string => Array.from({ length: n }, () => 'NULL').join(', ');
  const out = "'opted-out'";
  return `WITH o AS (${o})
    SELECT CAST(${out} AS TEXT) AS variant, CAST('pyramid' AS TEXT) AS panel, sex_key, pyramid_band AS band,
           CAST(NULL AS INTEGER) AS decile, CAST(NULL AS TEXT) AS condition, CAST(NULL AS TEXT) AS segment,
           CAST(NULL AS TEXT) AS efi_category, CAST(NULL AS INTEGER) AS alive, count(*) AS people,
           CAST(NULL AS BIGINT) AS conditions, CAST(NULL AS BIGINT) AS multimorbidity, CAST(NULL AS BIGINT) AS complex,
           ${costs.map((c) => `CAST(NULL AS DOUBLE PRECISION) AS ${c}`).join(', ')}
    FROM o WHERE alive = 1 GROUP BY sex_key, pyramid_band
    UNION ALL
    SELECT ${out}, 'ages', NULL, band, decile, ${none(4)}, count(*), CAST(sum(conditions) AS BIGINT),
           CAST(sum(CASE WHEN conditions >= 2 THEN 1 ELSE 0 END) AS BIGINT), CAST(sum(CASE WHEN conditions >= 4 THEN 1 ELSE 0 END) AS BIGINT),
           ${none(costs.length)}
    FROM o WHERE alive = 1 GROUP BY band, decile
    UNION ALL
    SELECT ${out}, 'condition', ${none(3)}, k.condition, ${none(3)}, count(*), ${none(3 + costs.length)}
    FROM o JOIN kid_condition_current k ON k.person_token = o.person_token AND k.first_date <= CAST($1 AS DATE)
    WHERE o.alive = 1 GROUP BY k.condition
    UNION ALL
    SELECT ${out}, 'model', ${none(4)}, segment, efi_category, alive, count(*), ${none(3)},
           ${costs.map((c) => `sum(${c})`).join(', ')}
    FROM o GROUP BY segment, efi_category, alive`;
}
