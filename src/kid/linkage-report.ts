/**
 * The linkage report: for every dataset whose rows carry a `person_token`, per provider and
 * month of activity, how many rows reach the person spine, and why the rest do not — no
 * token (the sender had no NHS number), a token the spine does not know (no PMI of any
 * member holds the person), or a person not registered with a Kent and Medway practice
 * (alive) on the activity date. Rows with no token that the dataset's latest `kernel link`
 * run linked by their encodings to a person on the spine are counted beside (linked
 * probabilistically). Built with each spine version, so it reads as that version.
 */
import {
  controlCount,
  controlRate,
  type ControlledCount,
  type DisclosurePolicy,
} from '../analytics/disclosure-control.ts';
import { listDatasets } from '../catalogue/catalogue.ts';
import { tableName } from '../catalogue/shapes.ts';
import { deidPlan } from '../privacy/deid-plan.ts';
import { quoteIdentifier, quoteLiteral } from '../store/sql.ts';
import type { Queryable } from '../store/store.ts';
import type { BuildPlan } from './incremental-build.ts';
import { inVersion } from '../store/version-range.ts';
import { gatherStatistics } from './gather-statistics.ts';

export interface LinkageRow {
  dataset: string;
  org: string;
  month: string;
  rows: number;
  withToken: number;
  onSpine: number;
  matched: number;
  /** matched ÷ rows, 0–1 */
  matchRate: number;
  unmatched: { noToken: number; notOnSpine: number; notRegistered: number };
  /**
   * of the rows with no token, those the dataset's latest `kernel link` run linked by their
   * encodings to a person on the spine (docs/linkage.md); not counted in `matched`
   */
  linkedProbabilistically: number;
}

async function existingTables(q: Queryable): Promise<Set<string>> {
  const rows = await q.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'ds_%'`,
  );
  return new Set(rows.map((r) => r.table_name));
}

/** The datasets a linkage report covers: those whose accepted rows carry a person token. */
export function linkedDatasets(): { id: string; table: string; activityDate: string }[] {
  return listDatasets()
    .filter((spec) => deidPlan(spec).columns.some((c) => c.name === 'person_token') && spec.periodField)
    .map((spec) => ({ id: spec.id, table: tableName(spec), activityDate: spec.periodField as string }));
}

/**
 * Writes the linkage report of spine `version` (before that version is made current).
 *
 * A row with a token is counted once per load, provider and month into `kid_linkage_load`
 * (migration 145): whether it reaches the spine depends only on its person's rows of the
 * spine. So an incremental build (src/kid/incremental-build.ts) carries the counts of the
 * loads the version before read, takes off what the people whose spine rows it changed counted
 * against that version and adds what they count against this one, adds the counts of the new
 * loads, and leaves the superseded loads' out: the same counts a full build makes, from the
 * rows of those people and the new loads only. The rows without a token are few and are
 * counted afresh every build, as the latest `kernel link` run decides which of them are linked.
 * Answers the cells written and, for an incremental build, how many people's rows it counted
 * again.
 */
export async function buildLinkage(
  q: Queryable,
  version: number,
  plan: BuildPlan,
): Promise<{ cells: number; recounted: number | null }> {
  const tables = await existingTables(q);
  // A version before this table was made has no counts per load: count every load afresh.
  const previous =
    plan.mode === 'incremental' &&
    Number(
      (
        await q.query<{ n: number }>('SELECT count(*) AS n FROM kid_linkage_load WHERE version = $1', [
          plan.previous,
        ])
      )[0]?.n ?? 0,
    ) > 0
      ? plan.previous
      : null;
  const recounted = previous === null ? null : await writeLinkageScope(q, version);
  let cells = 0;
  for (const spec of linkedDatasets()) {
    if (!tables.has(spec.table)) continue;
    const dataset = { ...spec, activityIsDate: await isDateColumn(q, spec.table, spec.activityDate) };
    if (previous === null) {
      await q.run(
        `INSERT INTO kid_linkage_load (version, load_id, dataset_id, org_code, month, rows_with_token,
                                       rows_on_spine, rows_matched, not_on_spine, not_registered)
         SELECT $1, load_id, $2, org_code, month, n, on_spine, matched, not_on_spine, not_registered
         FROM (${tokenRowCounts(q, dataset, (d) => `${d}.person_token IS NOT NULL`, [{ spine: '$1', sign: 1 }])}) c`,
        [version, dataset.id],
      );
    } else await countByDifference(q, dataset, version, previous, recounted ?? 0);
    // The dataset's latest kernel link run, looked up once: as a correlated subquery in the
    // statement below, PostgreSQL ran it row by row.
    const latestRun = await q.query<{ run_id: string }>(
      'SELECT run_id FROM link_runs WHERE dataset = $1 ORDER BY started_at DESC, run_id DESC LIMIT 1',
      [dataset.id],
    );
    cells += await q.run(
      `INSERT INTO kid_linkage (version, dataset_id, org_code, month, rows_total, rows_with_token,
                                rows_on_spine, rows_matched, no_token, not_on_spine, not_registered,
                                linked_probabilistically)
       SELECT $1, $2, org_code, month, sum(n) + sum(no_token), sum(n), sum(on_spine), sum(matched),
              sum(no_token), sum(not_on_spine), sum(not_registered), sum(linked)
       FROM (
         SELECT org_code, month, rows_with_token AS n, rows_on_spine AS on_spine, rows_matched AS matched,
                0 AS no_token, not_on_spine, not_registered, 0 AS linked
         FROM kid_linkage_load WHERE version = $1 AND dataset_id = $2
         UNION ALL
         SELECT d.org_code, ${monthOf(q, dataset, 'd')}, 0, 0, 0, 1, 0, 0,
                CASE WHEN lk.load_id IS NOT NULL THEN 1 ELSE 0 END
         FROM ${quoteIdentifier(dataset.table)} d
         LEFT JOIN (
           SELECT DISTINCT pl.load_id, pl.source_line FROM person_links pl
           JOIN kid_person lp ON ${inVersion('lp', '$1')} AND lp.person_token = pl.person_token
           WHERE pl.run_id = $3) lk ON lk.load_id = d.load_id AND lk.source_line = d.source_line
         WHERE d.person_token IS NULL) c
       GROUP BY org_code, month`,
      [version, dataset.id, latestRun[0]?.run_id ?? ''],
    );
  }
  return { cells, recounted };
}

/**
 * Writes `kid_linkage_scope` of incremental build `version`: the people it rebuilt whose spine
 * rows, as the report reads them, differ from the version before's (on the spine or not, the
 * date of death, the registration periods' dates). A row's count depends on nothing else of the
 * spine, so everyone else's rows count the same against both versions, and only these people's
 * are counted again. Their rows are found by the range of versions (src/store/version-range.ts):
 * those this build wrote (`version`) and those it retired (`retired`). Answers how many.
 */
async function writeLinkageScope(q: Queryable, version: number): Promise<number> {
  const read = (which: 'version' | 'retired'): string => `
    SELECT person_token, 'person' AS kind, CAST(death_date AS TEXT) AS a, CAST(NULL AS TEXT) AS b
    FROM kid_person WHERE ${which} = $1
    UNION ALL
    SELECT person_token, 'registration', CAST(from_date AS TEXT), CAST(to_date AS TEXT)
    FROM kid_registration WHERE ${which} = $1`;
  const written = await q.run(
    `INSERT INTO kid_linkage_scope (version, person_token)
     WITH now_rows AS (${read('version')}), before_rows AS (${read('retired')})
     SELECT DISTINCT $1, person_token FROM (
       (SELECT * FROM now_rows EXCEPT SELECT * FROM before_rows)
       UNION ALL
       (SELECT * FROM before_rows EXCEPT SELECT * FROM now_rows)) changed`,
    [version],
  );
  // The counts below join it: planned without statistics on it, PostgreSQL guessed its size.
  await gatherStatistics(q, ['kid_linkage_scope']);
  return written;
}

/** A dataset the report counts, and whether its activity date is stored as a date. */
type LinkedDataset = ReturnType<typeof linkedDatasets>[number] & { activityIsDate: boolean };

/**
 * Whether `table`'s `column` is stored as a date (a spec's `date` field) rather than text (a
 * `datetime`, stored as ISO text): a date is read as it is, where text is parsed a row at a
 * time, which on PostgreSQL was most of the report's time.
 */
async function isDateColumn(q: Queryable, table: string, column: string): Promise<boolean> {
  const rows = await q.query<{ data_type: string }>(
    `SELECT data_type FROM information_schema.columns
     WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2`,
    [table, column],
  );
  return rows.some((r) => String(r.data_type).toLowerCase() === 'date');
}

/**
 * Writes `kid_linkage_load` of build `version` for `dataset` from the counts of the version
 * `previous`: those of its loads still loaded; the rows of the loads read for the first time,
 * counted against the version before; and every row of the people whose spine rows changed
 * (`kid_linkage_scope`, `recounted` of them), counted against this version less against the
 * version before. Everyone else's spine rows read the same in both versions, so for each row
 * that sums to its count against this version.
 *
 * Only those rows are read: the new loads' by their ids as constants, which lets DuckDB skip
 * the row groups of every other load (a load's rows are written together), and the changed
 * people's picked out of the dataset once, into a relation both spines' counts read
 * (`MATERIALIZED`), where each count would otherwise read the whole dataset again.
 */
async function countByDifference(
  q: Queryable,
  dataset: LinkedDataset,
  version: number,
  previous: number,
  recounted: number,
): Promise<void> {
  const fresh = await q.query<{ load_id: string }>(
    `SELECT l.load_id FROM loads l WHERE l.dataset_id = $1 AND l.status = 'loaded'
       AND l.load_id NOT IN (SELECT b.load_id FROM kid_build_loads b WHERE b.version = $2)`,
    [dataset.id, previous],
  );
  const table = quoteIdentifier(dataset.table);
  const freshSource =
    fresh.length === 0
      ? `(SELECT * FROM ${table} WHERE FALSE)`
      : `(SELECT * FROM ${table} WHERE load_id IN (${fresh.map((l) => quoteLiteral(l.load_id)).join(', ')}))`;
  const withToken = (d: string): string => `${d}.person_token IS NOT NULL`;
  const rebuilt = (d: string): string =>
    `${d}.person_token IN (SELECT s.person_token FROM kid_linkage_scope s WHERE s.version = $1)`;
  // With no one's spine rows changed, no row's count moved: the dataset is not read for them.
  const recount =
    recounted === 0
      ? ''
      : `UNION ALL ${tokenRowCounts(
          q,
          dataset,
          () => 'TRUE',
          [
            { spine: '$1', sign: 1 },
            { spine: '$3', sign: -1 },
          ],
          { source: 'rebuilt_rows', people: rebuilt },
        )}`;
  await q.run(
    `INSERT INTO kid_linkage_load (version, load_id, dataset_id, org_code, month, rows_with_token,
                                   rows_on_spine, rows_matched, not_on_spine, not_registered)
     ${recounted === 0 ? '' : `WITH rebuilt_rows AS MATERIALIZED (SELECT * FROM ${table} d WHERE ${rebuilt('d')})`}
     SELECT $1, load_id, $2, org_code, month, sum(n), sum(on_spine), sum(matched), sum(not_on_spine),
            sum(not_registered)
     FROM (
       SELECT k.load_id, k.org_code, k.month, k.rows_with_token AS n, k.rows_on_spine AS on_spine,
              k.rows_matched AS matched, k.not_on_spine, k.not_registered
       FROM kid_linkage_load k JOIN loads l ON l.load_id = k.load_id AND l.status = 'loaded'
       WHERE k.version = $3 AND k.dataset_id = $2
       UNION ALL ${tokenRowCounts(q, dataset, withToken, [{ spine: '$3', sign: 1 }], { source: freshSource })}
       ${recount}) c
     GROUP BY load_id, org_code, month`,
    [version, dataset.id, previous],
  );
}

/** A row's activity day: its date, or the first ten characters of a date-time stored as ISO text. */
const dayOf = (q: Queryable, dataset: LinkedDataset, alias: string): string =>
  dataset.activityIsDate
    ? `${alias}.${quoteIdentifier(dataset.activityDate)}`
    : q.dialect.tryDate(`substr(CAST(${alias}.${quoteIdentifier(dataset.activityDate)} AS TEXT), 1, 10)`);
const monthOf = (q: Queryable, dataset: LinkedDataset, alias: string): string =>
  `COALESCE(substr(CAST(${dayOf(q, dataset, alias)} AS TEXT), 1, 7), 'unknown')`;

/**
 * SQL counting the dataset's rows with a token that `rows` (a condition on an alias) keeps,
 * per load, provider and month: rows, rows on the spine, matched (registered and alive on the
 * activity date), and unmatched by reason. Each count is summed over `spines` (versions, as
 * SQL), each times its sign: with the version built and the one before (+1, −1), one pass
 * over the rows gives how their counts changed. `source` is what is read in place of the
 * dataset's table (a subset of its rows); `people` narrows the spine's rows read to those the
 * rows can meet (the rebuilt people's: a small hash table, not the whole spine's).
 */
function tokenRowCounts(
  q: Queryable,
  dataset: LinkedDataset,
  rows: (alias: string) => string,
  spines: readonly { spine: string; sign: 1 | -1 }[],
  options: { source?: string; people?: (alias: string) => string } = {},
): string {
  const table = options.source ?? quoteIdentifier(dataset.table);
  const people = options.people ?? (() => 'TRUE');
  const day = dayOf(q, dataset, 'd');
  // Registered on the day: a join on the person's token, not a correlated EXISTS, which
  // PostgreSQL ran as a scan of kid_registration for every row (30 s for 24,000 PMI rows).
  const registeredDay = dayOf(q, dataset, 'r_d');
  const joins = spines.map(
    (
      { spine },
      i,
    ) => `LEFT JOIN (SELECT * FROM kid_person sp WHERE ${inVersion('sp', spine)} AND ${people('sp')}) p${i}
        ON p${i}.person_token = d.person_token
      LEFT JOIN (
        SELECT DISTINCT r_d.load_id, r_d.source_line
        FROM ${table} r_d
        JOIN (SELECT * FROM kid_registration sr WHERE ${inVersion('sr', spine)} AND ${people('sr')}) r
          ON r.person_token = r_d.person_token
        WHERE ${rows('r_d')} AND r.from_date <= ${registeredDay} AND (r.to_date IS NULL OR r.to_date >= ${registeredDay})
      ) reg${i} ON reg${i}.load_id = d.load_id AND reg${i}.source_line = d.source_line`,
  );
  const columns = spines.map(
    (_, i) => `p${i}.person_token AS spine_token${i},
       (reg${i}.load_id IS NOT NULL AND (p${i}.death_date IS NULL OR p${i}.death_date >= ${day})) AS registered${i}`,
  );
  const summed = (count: (i: number) => string): string =>
    spines.map(({ sign }, i) => `${sign === 1 ? (i === 0 ? '' : '+ ') : '- '}${count(i)}`).join(' ');
  return `SELECT load_id, org_code, month, ${summed(() => 'count(*)')} AS n,
                 ${summed((i) => `count(spine_token${i})`)} AS on_spine,
                 ${summed((i) => `sum(CASE WHEN registered${i} THEN 1 ELSE 0 END)`)} AS matched,
                 ${summed((i) => `sum(CASE WHEN spine_token${i} IS NULL THEN 1 ELSE 0 END)`)} AS not_on_spine,
                 ${summed((i) => `sum(CASE WHEN spine_token${i} IS NOT NULL AND NOT registered${i} THEN 1 ELSE 0 END)`)} AS not_registered
    FROM (
      SELECT d.load_id, d.org_code, ${monthOf(q, dataset, 'd')} AS month, ${columns.join(',\n             ')}
      FROM ${table} d
      ${joins.join('\n      ')}
      WHERE ${rows('d')}) token_rows
    GROUP BY load_id, org_code, month`;
}

/** The current version's linkage report, by dataset, provider and month (one provider's, given `org`). */
export async function linkageReport(q: Queryable, filter: { org?: string } = {}): Promise<LinkageRow[]> {
  const rows = await q.query<Record<string, string | number>>(
    `SELECT * FROM kid_linkage_current WHERE $1 = '' OR org_code = $1 ORDER BY dataset_id, org_code, month`,
    [filter.org ?? ''],
  );
  return rows.map((r) => {
    const total = Number(r.rows_total);
    const matched = Number(r.rows_matched);
    return {
      dataset: String(r.dataset_id),
      org: String(r.org_code),
      month: String(r.month),
      rows: total,
      withToken: Number(r.rows_with_token),
      onSpine: Number(r.rows_on_spine),
      matched,
      matchRate: total === 0 ? 0 : matched / total,
      unmatched: {
        noToken: Number(r.no_token),
        notOnSpine: Number(r.not_on_spine),
        notRegistered: Number(r.not_registered),
      },
      linkedProbabilistically: Number(r.linked_probabilistically ?? 0),
    };
  });
}

/** The report grouped for reading: one table per dataset, with its totals. */
export function linkageByDataset(
  rows: readonly LinkageRow[],
): { dataset: string; rows: LinkageRow[]; total: LinkageRow }[] {
  const groups = new Map<string, LinkageRow[]>();
  for (const row of rows) groups.set(row.dataset, [...(groups.get(row.dataset) ?? []), row]);
  return [...groups].map(([dataset, list]) => {
    const sum = (pick: (r: LinkageRow) => number): number => list.reduce((n, r) => n + pick(r), 0);
    const total = sum((r) => r.rows);
    const matched = sum((r) => r.matched);
    return {
      dataset,
      rows: list,
      total: {
        dataset,
        org: 'All',
        month: 'All',
        rows: total,
        withToken: sum((r) => r.withToken),
        onSpine: sum((r) => r.onSpine),
        matched,
        matchRate: total === 0 ? 0 : matched / total,
        unmatched: {
          noToken: sum((r) => r.unmatched.noToken),
          notOnSpine: sum((r) => r.unmatched.notOnSpine),
          notRegistered: sum((r) => r.unmatched.notRegistered),
        },
        linkedProbabilistically: sum((r) => r.linkedProbabilistically),
      },
    };
  });
}

/** A linkage row as a viewer may see it: counts under disclosure control. */
export interface ControlledLinkageRow {
  dataset: string;
  org: string;
  month: string;
  rows: ControlledCount;
  withToken: ControlledCount;
  onSpine: ControlledCount;
  matched: ControlledCount;
  /** 0–1 from the controlled counts; `*` where either is suppressed */
  matchRate: number | '*';
  unmatched: { noToken: ControlledCount; notOnSpine: ControlledCount; notRegistered: ControlledCount };
  linkedProbabilistically: ControlledCount;
}

/**
 * The row's counts under `policy` (issue 23, H1): rows per provider and month are counts of
 * patients' records, as small in a month of baby records as any dashboard cell. The match
 * rate is worked from the controlled counts, as a published percentage is.
 */
export function controlLinkageRow(row: LinkageRow, policy: DisclosurePolicy): ControlledLinkageRow {
  const c = (n: number) => controlCount(n, policy);
  const rate = controlRate(row.matched, row.rows, 'percent', policy).value;
  return {
    dataset: row.dataset,
    org: row.org,
    month: row.month,
    rows: c(row.rows),
    withToken: c(row.withToken),
    onSpine: c(row.onSpine),
    matched: c(row.matched),
    matchRate: policy.id === 'none' ? row.matchRate : rate === '*' ? '*' : (rate ?? 0) / 100,
    unmatched: {
      noToken: c(row.unmatched.noToken),
      notOnSpine: c(row.unmatched.notOnSpine),
      notRegistered: c(row.unmatched.notRegistered),
    },
    linkedProbabilistically: c(row.linkedProbabilistically),
  };
}

/**
 * The estimated precision and recall of one `kernel link` run's links, for one dataset and
 * sending organisation (docs/linkage.md, "How good the links are"): the model's own estimate
 * (the links' mean probability; their probability mass over that of every record's best
 * candidate) and, where people reviewed pairs, the clerical one (of the reviewed pairs the
 * model alone linked, the share people called a match; of those people called a match, the
 * share the model alone linked). Null where there is nothing to divide by.
 */
export interface LinkageEstimate {
  dataset: string;
  org: string;
  runId: string;
  runStartedAt: string;
  /** the spine version the run linked into */
  spineVersion: number | null;
  records: number;
  linked: number;
  model: { precision: number | null; recall: number | null };
  clerical: {
    reviewedPairs: number;
    decidedMatches: number;
    precision: number | null;
    recall: number | null;
  };
}

const numberOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/**
 * Each run's estimates per dataset and organisation, latest run first (only each dataset's
 * latest run unless `allRuns`; one organisation's, given `org`).
 */
export async function linkageEstimates(
  q: Queryable,
  filter: { org?: string; allRuns?: boolean } = {},
): Promise<LinkageEstimate[]> {
  const latestOnly = filter.allRuns
    ? ''
    : `AND r.run_id = (SELECT x.run_id FROM link_runs x WHERE x.dataset = r.dataset
                       ORDER BY x.started_at DESC, x.run_id DESC LIMIT 1)`;
  const rows = await q.query(
    `SELECT e.*, r.started_at, r.spine_version FROM link_run_estimates e
     JOIN link_runs r ON r.run_id = e.run_id
     WHERE ($1 = '' OR e.org_code = $1) ${latestOnly}
     ORDER BY r.started_at DESC, r.run_id DESC, e.dataset, e.org_code`,
    [filter.org ?? ''],
  );
  return rows.map((r) => ({
    dataset: String(r.dataset),
    org: String(r.org_code),
    runId: String(r.run_id),
    runStartedAt: String(r.started_at),
    spineVersion: numberOrNull(r.spine_version),
    records: Number(r.records),
    linked: Number(r.linked),
    model: { precision: numberOrNull(r.model_precision), recall: numberOrNull(r.model_recall) },
    clerical: {
      reviewedPairs: Number(r.reviewed_pairs),
      decidedMatches: Number(r.decided_matches),
      precision: numberOrNull(r.clerical_precision),
      recall: numberOrNull(r.clerical_recall),
    },
  }));
}
