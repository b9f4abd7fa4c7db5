/**
 * Findings and reconciliation (findings.ts), on both engines, over a few rows loaded: each
 * control total of the manifest that the rows loaded do not match is a finding with what
 * was expected and what was found; the checks failed, the copies dropped and the NHS
 * numbers the agent found wrong are counted; completeness leaves out what the copies held.
 */
import { describe, expect, it } from 'vitest';
import { openForSuite, testStores } from '../../../test/stores.ts';
import { stageFeed, stageOf } from '../../../test/load-stage.ts';
import type { ControlTotals, FeedManifest } from '../../privacy/manifest.ts';
import type { Store } from '../../store/store.ts';
import { loadFindings, type CheckFailures } from './findings.ts';
import type { LoadStage } from './load-stage.ts';

describe.each(testStores())('the findings of a load on $engine', (engine) => {
  let store: Store;
  openForSuite(engine, (s) => (store = s));

  /** Findings for three rows loaded (n 1, 2 and 4; two in April, one in May). */
  const findingsOf = (
    loadId: string,
    controlTotals: ControlTotals,
    more: {
      failures?: (stage: LoadStage) => CheckFailures;
      copies?: number;
      nhsNumberProblems?: FeedManifest['nhsNumberProblems'];
    } = {},
  ) => {
    const feed = stageFeed([]);
    return store.transaction(async (tx) => {
      const stage = await stageOf(tx, feed.file, loadId);
      await tx.run(
        `${stage.insertInto}VALUES ($1, 'RWF', 2, 'A1', 1, DATE '2025-04-01'), ($1, 'RWF', 3, 'B2', 2, DATE '2025-04-30'), ` +
          `($1, 'RWF', 4, 'C3', 4, DATE '2025-05-01')`,
        [loadId],
      );
      const copies = more.copies ?? 0;
      return loadFindings(stage, {
        scan: { rows: 3 + copies, filled: [3 + copies, 2 + copies, 3 + copies] },
        repeats: { rows: copies, firstLine: copies ? 5 : 0, filled: [copies, copies, copies] },
        failures: more.failures?.(stage) ?? {
          rows: 0,
          byCheck: stage.checks.map(() => ({ count: 0, firstLine: 0 })),
        },
        manifest: {
          nhsNumberProblems: more.nhsNumberProblems ?? {},
          nhsNumberField: 'NHS_Number',
          controlTotals,
        },
      });
    });
  };

  it('finds nothing when the sender’s totals match the rows loaded', async () => {
    const { findings } = await findingsOf('ld-totals-match', {
      rows: 3,
      sums: { n: 7 },
      byMonth: { field: 'seen', rows: { '2025-04': 2, '2025-05': 1 } },
    });
    expect(findings).toEqual([]);
  });

  it('gives a control-total finding for each total that does not match', async () => {
    const { findings } = await findingsOf('ld-totals-differ', {
      rows: 5,
      sums: { n: 8, missing: 1 },
      byMonth: { field: 'seen', rows: { '2025-04': 3 } },
    });
    expect(findings).toEqual([
      { rule: 'control-total', field: null, count: 2, firstLine: null, expected: 5, actual: 3 },
      { rule: 'control-total', field: 'n', count: 1, firstLine: null, expected: 8, actual: 7 },
      { rule: 'control-total', field: 'missing', count: 1, firstLine: null, expected: 1, actual: 0 },
      {
        rule: 'control-total',
        field: 'month:2025-04:seen',
        count: 1,
        firstLine: null,
        expected: 3,
        actual: 2,
      },
      {
        rule: 'control-total',
        field: 'month:2025-05:seen',
        count: 1,
        firstLine: null,
        expected: 0,
        actual: 1,
      },
    ]);
  });

  it('gives a finding, not a store error, for a sum of a field that holds text', async () => {
    const { findings } = await findingsOf('ld-totals-text', { sums: { code: 1 } });
    expect(findings).toEqual([
      { rule: 'control-total', field: 'code', count: 1, firstLine: null, expected: 1, actual: 0 },
    ]);
  });

  it('counts the checks failed, the copies dropped and the NHS numbers the agent found wrong; completeness leaves the copies out', async () => {
    const { findings, completeness, rowsRead, rowsKept } = await findingsOf(
      'ld-failed-checks',
      { rows: 5 },
      {
        copies: 2,
        nhsNumberProblems: { missing: { count: 2, firstLine: 7 }, 'check-digit': { count: 1, firstLine: 4 } },
        failures: (stage) => ({
          rows: 1,
          byCheck: stage.checks.map((c) =>
            c.field === 'n' ? { count: 1, firstLine: 9 } : { count: 0, firstLine: 0 },
          ),
        }),
      },
    );
    expect(findings).toEqual([
      { rule: 'type', field: 'n', count: 1, firstLine: 9 },
      { rule: 'duplicate', field: null, count: 2, firstLine: 5 },
      { rule: 'nhs-number', field: 'NHS_Number', count: 3, firstLine: 4 },
    ]);
    expect([rowsRead, rowsKept]).toEqual([5, 3]);
    expect(completeness).toEqual([
      { field: 'code', filled: 3, percent: 100 },
      { field: 'n', filled: 2, percent: 66.7 },
      { field: 'seen', filled: 3, percent: 100 },
    ]);
  });
});
