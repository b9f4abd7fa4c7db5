/**
 * A small feed for tests of the load's stages one at a time (src/ingest/load/): a three-field
 * dataset, a file of its accepted rows written as given, and the stage context for a load of
 * it, so that a test can run one stage on a few rows and look at its scratch tables.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deidPlan } from '../src/privacy/deid-plan.ts';
import { openLoadStage, type LoadStage } from '../src/ingest/load/load-stage.ts';
import { scanFeedFile, type FeedScan } from '../src/ingest/scan-feed.ts';
import type { FeedToStage } from '../src/ingest/load/stage-rows.ts';
import type { Queryable } from '../src/store/store.ts';
import { contentField, testSpec } from './test-spec.ts';

export const stageSpec = testSpec(
  'stage-test',
  [
    contentField('code', 'string', { required: true, maxLength: 4 }),
    contentField('n', 'integer', { minimum: 0, maximum: 10 }),
    contentField('seen', 'date'),
  ],
  { periodField: 'seen', dateOrder: [] },
);
export const stagePlan = deidPlan(stageSpec);

/**
 * A feed file of `rows` (each `code,n,seen` as the sender wrote it, padding and all), their
 * source lines counting up from 2 as a file with a header's would.
 */
export function stageFeed(rows: string[]): FeedToStage {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'kernel-stage-')), 'stage-test.csv');
  writeFileSync(
    file,
    [stagePlan.accepted.join(','), ...rows.map((r, i) => `${i + 2},${r}`)].join('\n') + '\n',
  );
  let scanning: Promise<FeedScan> | undefined;
  return {
    file,
    startScan: (options = {}) =>
      (scanning ??= scanFeedFile(file, stagePlan, { displayName: 'stage-test.csv', ...options })),
  };
}

/** The stages' context for load `loadId` of `file`, RWF's April 2025. */
export function stageOf(tx: Queryable, file: string, loadId: string): Promise<LoadStage> {
  return openLoadStage(tx, stagePlan, {
    loadId,
    org: 'RWF',
    period: '2025-04',
    file,
    codeList: () => undefined,
  });
}
