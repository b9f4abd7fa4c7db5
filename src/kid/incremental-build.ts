/**
 * Incremental builds of the Kent Integrated Dataset (docs/kid.md, "Building it"): after a
 * load, rebuild only the people whose inputs changed, keep everyone else's rows from the
 * version before, and recompute what is population-wide — all into a new version, swapped in
 * whole as a full build is, so a reader never sees half a rebuild.
 *
 * The people rebuilt (the build's scope, `kid_build_scope`) are everyone with a row in a load
 * of `pmi`, `gp-events` or `asc` that the version before did not read, or with a row in a load
 * that a new one superseded (whose rows are gone, so the load recorded their tokens:
 * src/ingest/superseded-people.ts). Those three datasets are the inputs of the person-scoped
 * tables: the spine (person, registrations, residence, disagreements) and conditions. A
 * person's rows there depend on their own records only, so keeping the others' rows gives what
 * a full build would; those tables keep a row by a range of versions (VERSION_RANGED_TABLES),
 * so the others' rows are not even copied. Households need no scope of their own: residence is
 * kept per person, and what joins people into households (fire visits, household measures) is
 * recomputed or read on demand. The person-level model, its eFI and risk scores depend on
 * the model's date as well: while it stays, they are computed again only for the people whose
 * inputs changed (`planModelScope`), and everyone else's rows kept where they are (kept by a
 * range of versions too); when it moves, for everyone. What depends on the whole population is
 * rebuilt whole (fire visits), or by difference: the linkage report (src/kid/linkage-report.ts),
 * and the area summary while the model's date stays (src/kid/area-summary.ts).
 */
import { createHash } from 'node:crypto';
import type { Queryable } from '../store/store.ts';
import { conditionLists } from './conditions.ts';
import { efiCodes } from './frailty.ts';
import { readUnitCosts } from './person-model.ts';
import { currentReleases } from '../reference/geography-lookups.ts';
import { gatherStatistics } from './gather-statistics.ts';
import { inVersion } from '../store/version-range.ts';
import { quoteLiteral } from '../store/sql.ts';
import { tableExists } from './person-spine.ts';

/** The datasets whose rows the person-scoped tables are built from. */
export const PERSON_SCOPED_INPUTS = ['pmi', 'gp-events', 'asc'] as const;
const INPUT_TABLES: Record<(typeof PERSON_SCOPED_INPUTS)[number], string> = {
  pmi: 'ds_pmi',
  'gp-events': 'ds_gp_events',
  asc: 'ds_asc',
};

/**
 * Above this share of the spine's people, an incremental build rebuilds so much that copying
 * the rest costs more than it saves: a full build runs instead (the same result either way).
 */
export const INCREMENTAL_MOST_SHARE = 0.5;

/**
 * The people whose model, eFI and risk score a build computes again (`kid_model_scope`;
 * everyone else's are kept from version `previous`, whose model was of the same date), or why
 * it computes everyone's.
 */
export type ModelScope = { people: number; previous: number } | { reason: string };

export type BuildPlan =
  { mode: 'incremental'; previous: number; people: number } | { mode: 'full'; reason: string };

/**
 * The revision of how Kernel itself derives the KID's rows (its statements, where the digest
 * below covers the data they read): raised with a change that gives anyone's rows another
 * value, so that the first build after an upgrade is full rather than keeping rows made the old
 * way beside rows made the new. 2: social care's cost to the penny, and the area summary's
 * costs in whole pence (7 December 2026).
 */
export const DERIVATIONS_REVISION = 2;

/**
 * A digest of what every person's rows are derived by besides the loads: Kernel's own
 * derivations, the code lists, the eFI codes, the unit costs and which organisations are GP
 * practices. A change to any of them changes everyone's rows, so the next build is full.
 */
export async function definitionsDigest(q: Queryable): Promise<string> {
  const practices = await q.query<{ org_code: string }>(
    `SELECT org_code FROM organisations WHERE org_type = 'gp' ORDER BY org_code`,
  );
  return createHash('sha256')
    .update(
      JSON.stringify({
        derivations: DERIVATIONS_REVISION,
        conditions: conditionLists().map((c) => [c.id, c.codes.map((code) => code.code)]),
        efi: efiCodes(),
        costs: readUnitCosts().costs,
        practices: practices.map((p) => p.org_code),
        // a new geography release (e.g. this month's ePCN) moves people between areas: rebuild whole
        reference: await currentReleases(q),
      }),
    )
    .digest('hex')
    .slice(0, 32);
}

/** Records the loads build `version` reads: every load 'loaded' as it begins. */
export async function recordBuildLoads(q: Queryable, version: number): Promise<void> {
  await q.run(
    `INSERT INTO kid_build_loads (version, load_id) SELECT $1, load_id FROM loads WHERE status = 'loaded'`,
    [version],
  );
}

/**
 * Decides how build `version` is made. Incremental when the current version `previous`
 * recorded its loads and was made by the same definitions, and the people whose inputs changed
 * are few enough; it then writes them to `kid_build_scope`. Otherwise full, saying why.
 */
export async function planBuild(
  q: Queryable,
  options: {
    version: number;
    previous: { version: number; definitions?: string } | null;
    definitions: string;
  },
): Promise<BuildPlan> {
  const { version, previous } = options;
  if (!previous) return { mode: 'full', reason: 'no version built before' };
  const recorded = await q.query<{ n: number }>(
    'SELECT count(*) AS n FROM kid_build_loads WHERE version = $1',
    [previous.version],
  );
  if (Number(recorded[0]?.n ?? 0) === 0)
    return { mode: 'full', reason: `version ${previous.version} did not record the loads it read` };
  if (previous.definitions !== options.definitions)
    return {
      mode: 'full',
      reason:
        'Kernel\u2019s derivations, the code lists, unit costs, GP practices or reference geography changed since the version before',
    };

  // Loads this build reads that the version before did not, and loads superseded since.
  const newLoads = `SELECT load_id FROM kid_build_loads WHERE version = $1
                    EXCEPT SELECT load_id FROM kid_build_loads WHERE version = $2`;
  const parts: string[] = [];
  for (const dataset of PERSON_SCOPED_INPUTS) {
    const table = INPUT_TABLES[dataset];
    const exists = await q.query<{ n: number }>(
      `SELECT count(*) AS n FROM information_schema.tables WHERE table_name = $1`,
      [table],
    );
    if (Number(exists[0]?.n ?? 0) > 0)
      parts.push(
        `SELECT person_token FROM ${table} WHERE person_token IS NOT NULL AND load_id IN (${newLoads})`,
      );
  }
  parts.push(
    `SELECT person_token FROM load_superseded_people
     WHERE dataset_id IN (${PERSON_SCOPED_INPUTS.map((d) => `'${d}'`).join(', ')})
       AND superseded_by NOT IN (SELECT load_id FROM kid_build_loads WHERE version = $2)`,
  );
  await q.run(
    `INSERT INTO kid_build_scope (version, person_token)
     SELECT DISTINCT $1, person_token FROM (${parts.join(' UNION ALL ')}) changed`,
    [version, previous.version],
  );
  // Every person-scoped statement after this joins the scope: planned without statistics on
  // it, PostgreSQL guessed its size and read the datasets once per person in it.
  await gatherStatistics(q, ['kid_build_scope']);
  const [counts] = await q.query<{ scope: number; people: number }>(
    `SELECT (SELECT count(*) FROM kid_build_scope WHERE version = $1) AS scope,
            (SELECT count(*) FROM kid_person p WHERE ${inVersion('p', '$2')}) AS people`,
    [version, previous.version],
  );
  const people = Number(counts?.scope ?? 0);
  if (people > INCREMENTAL_MOST_SHARE * Number(counts?.people ?? 0)) {
    await q.run('DELETE FROM kid_build_scope WHERE version = $1', [version]);
    return {
      mode: 'full',
      reason: `${people} people's inputs changed, more than ${100 * INCREMENTAL_MOST_SHARE}% of the spine`,
    };
  }
  return { mode: 'incremental', previous: previous.version, people };
}

/** SQL for "this person is rebuilt by build `$1`" (the scope), for `alias.person_token`. */
const inScope = (token: string): string =>
  `${token} IN (SELECT s.person_token FROM kid_build_scope s WHERE s.version = $1)`;

/**
 * `table` (a ds_* input) as a build reads it: whole for a full build; for an incremental one,
 * only the rows of the people it rebuilds, and none when it rebuilds no one (a late activity
 * feed's build), which PostgreSQL then does not read at all: matching the conditions' GP events
 * against an empty scope took it 1.4 s at 100,000 people.
 * The statement's `$1` is the build's version.
 */
export function scopedInput(table: string, plan: BuildPlan): string {
  if (plan.mode === 'full') return table;
  return `(SELECT * FROM ${table} WHERE ${plan.people === 0 ? 'FALSE' : inScope('person_token')})`;
}

/**
 * The person-scoped tables, whose rows depend on their person's own records only. Each row is
 * kept by a range of versions: from the build that wrote it (`version`) until the build that
 * rebuilt its person (`retired`, null while current). So an incremental build writes the rows
 * of the people it rebuilds and retires their old ones, and leaves everyone else's where they
 * are: at 1.9 million people, copying them into each version was a third of the build. Every
 * read of them asks for a version through `inVersion` (src/store/version-range.ts).
 */
export const VERSION_RANGED_TABLES = [
  'kid_person',
  'kid_person_disagreement',
  'kid_registration',
  'kid_residence',
  'kid_condition',
] as const;
export type VersionRangedTable = (typeof VERSION_RANGED_TABLES)[number];

/**
 * Every table whose rows are kept by a range of versions: the person-scoped tables above,
 * retired by the build's scope, and the person-level model, its eFI and its risk scores,
 * retired by the model's (src/kid/person-model.ts, frailty.ts and risk.ts).
 */
export const ALL_VERSION_RANGED_TABLES = [
  ...VERSION_RANGED_TABLES,
  'kid_model',
  'kid_frailty',
  'kid_frailty_deficit',
  'kid_risk',
] as const;

/**
 * Retires the rows of `table` (version-ranged) that build `version` writes again: everyone's for
 * a full build, the scope's (`kid_build_scope`) for an incremental one. The version before keeps
 * reading them until the swap (src/kid/person-spine.ts), which deletes them.
 */
export async function retireRebuiltPeople(
  q: Queryable,
  table: VersionRangedTable,
  version: number,
  plan: BuildPlan,
): Promise<void> {
  await retireRows(q, table, version, plan.mode === 'full' ? null : inScope('person_token'));
}

/**
 * Retires the rows of `table` (kept by a range of versions) that build `version` writes again:
 * everyone's, or, given `only` (SQL on `person_token`, `$1` the version), those it picks.
 */
export async function retireRows(
  q: Queryable,
  table: (typeof ALL_VERSION_RANGED_TABLES)[number],
  version: number,
  only: string | null,
): Promise<void> {
  await q.run(
    `UPDATE ${table} SET retired = $1 WHERE retired IS NULL AND version < $1 ${only ? `AND ${only}` : ''}`,
    [version],
  );
}

/**
 * The rows of `table` (kept by a range of versions) that build `version` reads: after the scope's
 * were retired and before theirs are written, the rows it keeps.
 */
export async function rowsInVersion(
  q: Queryable,
  table: (typeof ALL_VERSION_RANGED_TABLES)[number],
  version: number,
): Promise<number> {
  const [row] = await q.query<{ n: number }>(
    `SELECT count(*) AS n FROM ${table} t WHERE ${inVersion('t', '$1')}`,
    [version],
  );
  return Number(row?.n ?? 0);
}

/** SQL for "this person's model is computed again by build `$1`" (kid_model_scope), for `column`. */
export const inModelScope = (column: string): string =>
  `${column} IN (SELECT ms.person_token FROM kid_model_scope ms WHERE ms.version = $1)`;

/**
 * The superseded loads' people that build `version` has read (their superseding load was among
 * its loads): no later build needs them.
 */
export async function forgetSupersededPeople(q: Queryable, version: number): Promise<void> {
  await q.run(
    `DELETE FROM load_superseded_people
     WHERE superseded_by IN (SELECT load_id FROM kid_build_loads WHERE version = $1)
        OR superseded_by IN (SELECT load_id FROM loads WHERE status = 'superseded'
                              AND superseded_by IN (SELECT load_id FROM kid_build_loads WHERE version = $1))`,
    [version],
  );
}

/**
 * The people whose person-level model, eFI and risk score build `version` computes again,
 * written to `kid_model_scope`; everyone else's model row, eFI and risk score are kept (each
 * table keeps a row by a range of versions).
 * Only when the build is incremental and the model's date (`asOf`) is the version before's:
 * a new month of `gp-events` moves it, and with it every person's 12-month window, age and
 * reference day, so everyone is computed (trying otherwise found over a third of the people
 * changed by the move, and computing them cost more than computing all: docs/kid.md, "How far
 * a new month can be incremental"). While the date stays, a person's rows depend on their
 * own records only. So the scope is the build's scope (their spine rows or GP events
 * changed), the people with rows in a load of an activity dataset (`tables`) the version
 * before did not read, those of a load superseded since, and the residents of the
 * households a new fire-safety load visited. A superseded fire-safety load (whose rows, and
 * so their households, are gone), the first load of a dataset the model reads (everyone's
 * count of it turns from null to a number) or any link run of adult social care (a build
 * links it again) computes everyone.
 */
export async function planModelScope(
  q: Queryable,
  options: { version: number; plan: BuildPlan; asOf: string; tables: readonly string[] },
): Promise<ModelScope> {
  const { version, plan, asOf } = options;
  await q.run('DELETE FROM kid_model_scope WHERE version = $1', [version]);
  if (plan.mode !== 'incremental') return { reason: plan.reason };
  const previous = plan.previous;
  const [before] = await q.query<{ as_of: string | null; people: number }>(
    `SELECT CAST(max(as_of) AS TEXT) AS as_of, count(*) AS people FROM kid_model m WHERE ${inVersion('m', '$1')}`,
    [previous],
  );
  if (!before?.as_of || String(before.as_of).slice(0, 10) !== asOf)
    return { reason: 'the model’s date moved' };
  const readBy = (param: string): string =>
    `SELECT b.load_id FROM kid_build_loads b WHERE b.version = ${param}`;
  const readBefore = readBy('$2');
  const [changed] = await q.query<{ superseded: number; links: number }>(
    `SELECT (SELECT count(*) FROM loads WHERE dataset_id = 'fire-safety' AND status = 'superseded'
               AND superseded_by NOT IN (${readBy('$1')})) AS superseded,
            (SELECT count(*) FROM link_runs WHERE dataset = 'asc') AS links`,
    [previous],
  );
  if (Number(changed?.superseded ?? 0) > 0) return { reason: 'a fire-safety load was superseded' };
  // A dataset's column is null for everyone until its first load, and 0 for those without rows after.
  const firstLoaded = await q.query<{ dataset_id: string }>(
    `SELECT DISTINCT l.dataset_id FROM loads l
     WHERE l.status = 'loaded' AND 'ds_' || replace(l.dataset_id, '-', '_') IN (${[...options.tables, 'ds_fire_safety'].map(quoteLiteral).join(', ')})
       AND l.dataset_id NOT IN (SELECT r.dataset_id FROM loads r WHERE r.load_id IN (${readBy('$1')}))
     ORDER BY l.dataset_id`,
    [previous],
  );
  if (firstLoaded.length > 0)
    return { reason: `${firstLoaded.map((d) => d.dataset_id).join(', ')} loaded for the first time` };
  if (Number(changed?.links ?? 0) > 0)
    return { reason: 'adult social care records are linked by kernel link, which each build runs again' };
  const fresh = options.tables.map(
    (table) => `SELECT person_token FROM ${table}
                WHERE person_token IS NOT NULL AND load_id NOT IN (${readBefore})`,
  );
  if (await tableExists(q, 'ds_fire_safety'))
    fresh.push(residentsVisited(`f.load_id NOT IN (${readBefore})`));
  await q.run(
    `INSERT INTO kid_model_scope (version, person_token)
     SELECT DISTINCT $1, person_token FROM (
       SELECT s.person_token FROM kid_build_scope s WHERE s.version = $1
       ${fresh.map((sql) => `UNION ALL ${sql}`).join('\n       ')}
       UNION ALL
       SELECT x.person_token FROM load_superseded_people x
       WHERE x.superseded_by NOT IN (${readBefore})) changed
     WHERE person_token IS NOT NULL`,
    [version, previous],
  );
  await gatherStatistics(q, ['kid_model_scope']);
  const [scoped] = await q.query<{ n: number }>(
    'SELECT count(*) AS n FROM kid_model_scope WHERE version = $1',
    [version],
  );
  const people = Number(scoped?.n ?? 0);
  if (people > INCREMENTAL_MOST_SHARE * Number(before.people)) {
    await q.run('DELETE FROM kid_model_scope WHERE version = $1', [version]);
    return {
      reason: `${people} people's model inputs changed, more than ${100 * INCREMENTAL_MOST_SHARE}% of the model`,
    };
  }
  return { people, previous };
}

/** SQL: the residents (any time) of the households of fire-safety visits `f` that meet `where`. */
const residentsVisited = (where: string): string =>
  `SELECT h.person_token FROM kid_residence h
   WHERE ${inVersion('h', '$1')} AND h.uprn_token IN (
     SELECT f.uprn_token FROM ds_fire_safety f WHERE f.uprn_token IS NOT NULL AND ${where})`;
