/**
 * Automatic disclosure control for aggregate outputs leaving the analyst workspace (issue
 * 15): the HES 2018 rule on every figure (`analytics/disclosure-control.ts`), and secondary
 * suppression so no suppressed figure can be recovered from the totals or from another
 * table in the same release (`secondary-suppression.ts`).
 *
 * Totals are rounded from the true totals, not added up from the rounded cells. That is the
 * published HES method (reference digest §10: totals "are calculated from unrounded values
 * and then rounded"), and it keeps every total within 2 of the truth where a sum of rounded
 * cells drifts by up to 2 per cell. The price is that a row of rounded cells need not add up
 * to its rounded total, which the note on the output says. It gives an attacker nothing
 * extra: the suppression audit already assumes every published figure is known exactly.
 */
import {
  checkPolicy,
  controlCount,
  describePolicy,
  HES_2018,
  type ControlledCount,
  type DisclosurePolicy,
} from '../analytics/disclosure-control.ts';
import { KernelError } from '../errors.ts';
import type { AggregateTable } from './aggregate-table.ts';
import { linkTables, type TableSystem } from './linked-tables.ts';
import { planSuppression } from './secondary-suppression.ts';
import type { FeasibleInterval } from './suppression-audit.ts';

/** A table as it leaves: figures under the policy, `*` where suppressed. */
export interface ReleasedTable {
  name: string;
  rowDimension: string;
  columnDimension: string;
  rowKeys: string[];
  columnKeys: string[];
  cells: ControlledCount[][];
  rowTotals: ControlledCount[];
  columnTotals: ControlledCount[];
  grandTotal: ControlledCount;
}

/** One suppressed figure, for the output checkers (it stays with the request). */
export interface SuppressionRecord {
  label: string;
  reason: 'small count' | 'protects a small count';
  /** for a small count: what an attacker can still narrow it to from the release */
  attackerInterval?: FeasibleInterval;
}

export interface ControlledRelease {
  tables: ReleasedTable[];
  policy: DisclosurePolicy;
  /** the narrowest interval an attacker is left for any small count */
  protectionWidth: number;
  suppressions: SuppressionRecord[];
  /** plain English for the output, under the tables */
  note: string;
}

/**
 * A release cannot be bigger than this many figures: the audit solves two linear programs
 * per small count over the whole release, and beyond this a request would hold a core for
 * minutes. Tables of 50 × 20 with their linked partners fit comfortably.
 */
export const MAX_RELEASE_FIGURES = 5000;

export interface ReleaseOptions {
  /** the narrowest interval an attacker may be left for a small count (default: the threshold) */
  protectionWidth?: number;
}

/**
 * Disclosure control for the tables of one release. Tables sharing a dimension name are
 * treated as linked (their shared totals must agree); the default protection leaves an
 * attacker an interval at least as wide as the threshold, i.e. no narrower than what `*`
 * itself says (1 to 7).
 */
export function controlAggregateTables(
  tables: readonly AggregateTable[],
  policy: DisclosurePolicy = HES_2018,
  options: ReleaseOptions = {},
): ControlledRelease {
  checkPolicy(policy);
  const protectionWidth = options.protectionWidth ?? policy.threshold;
  if (!Number.isInteger(protectionWidth) || protectionWidth < 0) {
    throw new KernelError('usage', `The protection width must be a whole number of 0 or more`, {
      where: { field: 'protectionWidth' },
      hint: `Leave it out to use the threshold (${policy.threshold})`,
    });
  }
  const system = linkTables(tables);
  if (system.entries.length > MAX_RELEASE_FIGURES) {
    throw new KernelError(
      'too-large',
      `The release has ${system.entries.length} figures; automatic disclosure control takes up to ${MAX_RELEASE_FIGURES}`,
      { hint: 'Split it into separate outputs, or group rare categories together' },
    );
  }
  const plan = planSuppression(system, policy, protectionWidth);
  return {
    tables: releaseTables(system, plan.suppressed, policy),
    policy,
    protectionWidth,
    suppressions: [...plan.suppressed].map((entry) => {
      const interval = plan.intervals.get(entry);
      return {
        label: system.entries[entry]?.label ?? '',
        reason: plan.primary.has(entry) ? 'small count' : 'protects a small count',
        ...(interval ? { attackerInterval: interval } : {}),
      };
    }),
    note: releaseNote(policy),
  };
}

/** The tables with `suppressed` entries as `*` and every other figure under the policy. */
export function releaseTables(
  system: TableSystem,
  suppressed: ReadonlySet<number>,
  policy: DisclosurePolicy,
): ReleasedTable[] {
  const show = (entry: number): ControlledCount =>
    suppressed.has(entry) ? '*' : controlCount(system.entries[entry]?.count ?? 0, policy);
  return system.tables.map((table, t) => {
    const layout = system.layouts[t];
    if (!layout) throw new KernelError('internal', `Table ${table.name} has no layout`);
    return {
      name: table.name,
      rowDimension: table.rowDimension,
      columnDimension: table.columnDimension,
      rowKeys: [...table.rowKeys],
      columnKeys: [...table.columnKeys],
      cells: layout.cells.map((row) => row.map(show)),
      rowTotals: layout.rowTotals.map(show),
      columnTotals: layout.columnTotals.map(show),
      grandTotal: show(layout.grandTotal),
    };
  });
}

function releaseNote(policy: DisclosurePolicy): string {
  if (policy.id === 'none') return describePolicy(policy);
  return (
    `${describePolicy(policy)} Totals are rounded from the true totals, so rounded figures need not add up to them. ` +
    'Some larger counts are also shown as * so that a small count cannot be worked out from the totals or from the other tables in this output.'
  );
}
