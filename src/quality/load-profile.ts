/**
 * A load's profile (issue 16; docs/data-quality.md): what the check catalogue needs to judge
 * the month, and to compare it with the month before and the same month last year, stored
 * with the load (`load_profiles`, in the load's own transaction) so no check ever reads the
 * warehouse rows again:
 *
 * - rows read, kept and loaded; rows quarantined per field (from the load's findings);
 * - filled values per accepted field (completeness);
 * - smallest, largest and mean of every number and date field;
 * - the five most frequent values of each key field (checks.json `keyFields`), with counts;
 * - rows breaking each plausibility rule, and rows repeating each unique key, of checks.json.
 *
 * One aggregate over the load's rows for ranges and plausibility, one grouping-sets scan for
 * the key fields' frequencies, and one hash aggregation per unique key.
 */
import type { AcceptedColumn, DeidPlan } from '../privacy/deid-plan.ts';
import { quoteIdentifier } from '../store/sql.ts';
import type { Queryable } from '../store/store.ts';
import type { FieldCompleteness, LoadFinding } from './load-findings.ts';
import { datasetEntry, type LoadProfile } from './check-catalogue.ts';
import type { TalliedProfile } from './profile-tally.ts';
import type { RuleId } from './row-rules.ts';

const q = quoteIdentifier;
const TOP_VALUES = 5;
/** Findings that are not rows quarantined for a field. */
const NOT_QUARANTINE: readonly RuleId[] = ['duplicate', 'control-total', 'nhs-number', 'birth-date'];

const isNumber = (c: AcceptedColumn): boolean => c.type === 'integer' || c.type === 'decimal';

export interface ProfileInput {
  plan: DeidPlan;
  table: string;
  loadId: string;
  rowsRead: number;
  rowsKept: number;
  rowsLoaded: number;
  findings: readonly LoadFinding[];
  completeness: readonly FieldCompleteness[];
  /** what the load's scan tallied already (profile-tally.ts): not asked of SQL again */
  tallied?: TalliedProfile;
}

export async function profileLoad(tx: Queryable, input: ProfileInput): Promise<LoadProfile> {
  const { plan, table, loadId } = input;
  const entry = datasetEntry(plan.spec.id);
  const columns = new Map(plan.columns.map((c) => [c.name, c]));
  const has = (name: string): boolean => columns.has(name);
  const parts: string[] = ['COUNT(*) AS kernel_rows'];
  const ranged = plan.columns.filter((c) => isNumber(c) || c.type === 'date');
  ranged.forEach((c, k) => {
    parts.push(`MIN(${q(c.name)}) AS min${k}`, `MAX(${q(c.name)}) AS max${k}`);
    if (isNumber(c)) parts.push(`AVG(CAST(${q(c.name)} AS DOUBLE PRECISION)) AS mean${k}`);
  });
  const plausibility = (entry.plausibility ?? []).filter((r) =>
    r.kind === 'range' ? has(r.field) : has(r.from) && has(r.to),
  );
  plausibility.forEach((rule, k) => {
    const condition =
      rule.kind === 'range'
        ? `${q(rule.field)} < ${Number(rule.min)} OR ${q(rule.field)} > ${Number(rule.max)}`
        : `CAST(${q(rule.to)} AS DATE) - CAST(${q(rule.from)} AS DATE) > ${Number(rule.max)}`;
    parts.push(`SUM(CASE WHEN ${condition} THEN 1 ELSE 0 END) AS p${k}`);
  });
  // Tallied by the load's scan (profile-tally.ts), or one aggregate over the load's rows.
  const tallied = input.tallied?.ranges;
  const [row] = tallied
    ? []
    : await tx.query<Record<string, number | string | null>>(
        `SELECT ${parts.join(', ')} FROM ${q(table)} WHERE load_id = $1`,
        [loadId],
      );
  const value = (v: unknown): number | string | null =>
    v === null || v === undefined
      ? null
      : typeof v === 'number' || typeof v === 'bigint'
        ? Number(v)
        : String(v).slice(0, 10);
  const ranges: LoadProfile['ranges'] = tallied ? { ...tallied.ranges } : {};
  if (!tallied)
    ranged.forEach((c, k) => {
      ranges[c.name] = {
        min: value(row?.[`min${k}`]),
        max: value(row?.[`max${k}`]),
        ...(isNumber(c)
          ? { mean: row?.[`mean${k}`] == null ? null : Math.round(Number(row[`mean${k}`]) * 100) / 100 }
          : {}),
      };
    });

  // Repeated keys: rows beyond the first of each key, by hash aggregation (cheaper than
  // COUNT(DISTINCT) on PostgreSQL, which sorts).
  const duplicates: Record<string, number> = {};
  for (const u of (entry.unique ?? []).filter((r) => r.fields.every(has))) {
    const tallied = input.tallied?.duplicates[u.id];
    if (tallied !== undefined) {
      duplicates[u.id] = tallied;
      continue;
    }
    const key = u.fields.map((f) => q(f)).join(', ');
    const [d] = await tx.query<{ extra: number | null }>(
      `SELECT SUM(n - 1) AS extra FROM (SELECT COUNT(*) AS n FROM ${q(table)} WHERE load_id = $1 GROUP BY ${key} HAVING COUNT(*) > 1) AS k`,
      [loadId],
    );
    duplicates[u.id] = Number(d?.extra ?? 0);
  }

  // The key fields' distributions, in one scan: a grouping set per field.
  const talliedCounts = input.tallied?.counts ?? {};
  const keyFields = (entry.keyFields ?? []).filter((f) => has(f) && !talliedCounts[f]);
  const top: LoadProfile['top'] = {};
  const byField = new Map<string, { value: string; count: number }[]>();
  for (const [name, counts] of Object.entries(talliedCounts)) {
    if (counts.size === 0) continue; // as SQL: a field with no values has no entry
    byField.set(
      name,
      [...counts].map(([value, count]) => ({ value, count })),
    );
  }
  if (keyFields.length > 0) {
    const which = keyFields.map((f, k) => `WHEN GROUPING(${q(f)}) = 0 THEN ${k}`).join(' ');
    const value = keyFields.map((f) => `CAST(${q(f)} AS TEXT)`).join(', ');
    const rows = await tx.query<{ f: number; v: string | null; n: number }>(
      `SELECT CASE ${which} END AS f, COALESCE(${value}) AS v, COUNT(*) AS n FROM ${q(table)} WHERE load_id = $1
        GROUP BY GROUPING SETS (${keyFields.map((f) => `(${q(f)})`).join(', ')})`,
      [loadId],
    );
    for (const r of rows) {
      const name = keyFields[Number(r.f)];
      if (name === undefined || r.v === null) continue; // the field's empty values
      const list = byField.get(name) ?? [];
      list.push({ value: String(r.v), count: Number(r.n) });
      byField.set(name, list);
    }
  }
  for (const [name, list] of byField) {
    top[name] = list.sort((a, b) => b.count - a.count || a.value.localeCompare(b.value)).slice(0, TOP_VALUES);
  }

  const quarantinedByField: Record<string, number> = {};
  for (const f of input.findings) {
    if (f.field === null || NOT_QUARANTINE.includes(f.rule)) continue;
    quarantinedByField[f.field] = (quarantinedByField[f.field] ?? 0) + f.count;
  }
  return {
    rowsRead: input.rowsRead,
    rowsKept: input.rowsKept,
    rowsLoaded: input.rowsLoaded,
    quarantinedByField,
    filled: Object.fromEntries(input.completeness.map((c) => [c.field, c.filled])),
    ranges,
    top,
    implausible: Object.fromEntries(
      plausibility.map((r, k) => [
        r.id,
        tallied ? (tallied.implausible[r.id] ?? 0) : Number(row?.[`p${k}`] ?? 0),
      ]),
    ),
    duplicates,
  };
}

/** Stores a load's profile, in the load's transaction. */
export async function storeProfile(tx: Queryable, loadId: string, profile: LoadProfile): Promise<void> {
  await tx.run('INSERT INTO load_profiles (load_id, profile) VALUES ($1, $2)', [
    loadId,
    JSON.stringify(profile),
  ]);
}

/**
 * A profile for a load that has none (loaded before profiles were kept): what its stored
 * report says — rows and completeness — and nothing of ranges, values or rules.
 */
export function profileFromReport(load: {
  rowsRead: number;
  rowsLoaded: number;
  rowsDropped: number;
  findings: readonly LoadFinding[];
  completeness: readonly FieldCompleteness[];
}): LoadProfile {
  const quarantinedByField: Record<string, number> = {};
  for (const f of load.findings) {
    if (f.field !== null && !NOT_QUARANTINE.includes(f.rule)) {
      quarantinedByField[f.field] = (quarantinedByField[f.field] ?? 0) + f.count;
    }
  }
  return {
    rowsRead: load.rowsRead,
    rowsKept: load.rowsRead - load.rowsDropped,
    rowsLoaded: load.rowsLoaded,
    quarantinedByField,
    filled: Object.fromEntries(load.completeness.map((c) => [c.field, c.filled])),
    ranges: {},
    top: {},
    implausible: {},
    duplicates: {},
  };
}
