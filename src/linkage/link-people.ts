/**
 * `kernel link`: gives records that arrived without an NHS number the person_token of the
 * master-index record their encodings match. Until the person spine (issue 13) is there,
 * the master index is the `pmi` feeds the warehouse holds: each pmi encoding reaches its
 * person_token through the current pmi load's row (`ds_pmi`, by load and source line).
 *
 * The run reads encodings and tokens only (no identifier exists in the store to read),
 * trains the model on the two sides (deterministic: same data, same links), links each
 * record to its best master-index record at probability ≥ threshold (many to one), and
 * writes a new version — a `link_runs` row and its `person_links` — with the model's own
 * estimate of precision (mean probability of the links) and recall (their probability mass
 * over that of every record's best candidate), in one audited transaction.
 */
import { randomUUID } from 'node:crypto';
import { appendAudit } from '../audit/audit-log.ts';
import { getDataset } from '../catalogue/catalogue.ts';
import { tableName } from '../catalogue/shapes.ts';
import { KernelError } from '../errors.ts';
import type { Store } from '../store/store.ts';
import { blockPairs } from './blocking.ts';
import { bindModel, probabilityOf, trainModel } from './fellegi-sunter.ts';
import { bestForEachRight } from './link-decisions.ts';
import { encodingColumns, sideFromRows } from './linkage-store.ts';
import { personLinkageSetup } from './person-linkage.ts';

export interface LinkRunReport {
  runId: string;
  dataset: string;
  against: string;
  /** records of the dataset without a person_token that have encodings */
  records: number;
  masterIndexRecords: number;
  candidatePairs: number;
  linked: number;
  estimatedPrecision: number | null;
  estimatedRecall: number | null;
}

const AGAINST = 'pmi';

/** The current loads' rows of a dataset that have encodings, with their token and encodings. */
async function encodedRows(store: Store, dataset: string, withToken: boolean) {
  const loaded = await store.query<{ n: number }>(
    "SELECT count(*) AS n FROM loads WHERE dataset_id = $1 AND status = 'loaded'",
    [dataset],
  );
  if (Number(loaded[0]?.n ?? 0) === 0) return [];
  return store.query<Record<string, string | number | null>>(
    `SELECT l.load_id, e.source_line, d.person_token, ${encodingColumns('e')}
     FROM linkage_encodings e
     JOIN loads l ON l.org_code = e.org_code AND l.dataset_id = e.dataset AND l.period = e.period
       AND l.status = 'loaded'
     JOIN ${tableName(dataset)} d ON d.load_id = l.load_id AND d.source_line = e.source_line
     WHERE e.dataset = $1 AND d.person_token IS ${withToken ? 'NOT NULL' : 'NULL'}
     ORDER BY l.load_id, e.source_line`,
    [dataset],
  );
}

export async function linkPeople(
  store: Store,
  options: { dataset: string; threshold?: number; actor: string },
): Promise<LinkRunReport> {
  const spec = getDataset(options.dataset);
  if (!spec.linkageEncoding || spec.id === AGAINST) {
    throw new KernelError(
      'usage',
      `The dataset ${spec.id} is not one whose records are linked by encodings`,
      {
        hint: 'Give a dataset whose specification declares linkageEncoding, other than pmi',
      },
    );
  }
  const threshold = options.threshold ?? 0.5;
  const index = await encodedRows(store, AGAINST, true);
  if (index.length === 0) {
    throw new KernelError('not-found', 'The warehouse holds no master-index encodings to link against', {
      hint: 'Load the pmi feeds and their linkage files (kernel linkage load) first',
    });
  }
  const records = await encodedRows(store, spec.id, false);
  const left = sideFromRows(index);
  const right = sideFromRows(records);
  const runId = randomUUID();
  let candidatePairs = 0;
  const links: (string | number)[][] = [];
  let linkedMass = 0;
  let bestMass = 0;
  let lambda = 0;
  if (records.length > 0) {
    const setup = personLinkageSetup();
    const { model } = trainModel(left, right, {
      comparisons: setup.comparisons,
      ...setup.training,
      randomPairs: Math.min(1_000_000, index.length * records.length),
    });
    lambda = model.lambda;
    const { pairs } = blockPairs(left, right, setup.blocking);
    candidatePairs = pairs.length;
    const weights = bindModel(model, setup.comparisons, left, right).weights(pairs);
    for (const p of bestForEachRight(pairs, weights, 0, records.length)) {
      if (p >= 0) bestMass += probabilityOf(weights[p]!);
    }
    bestForEachRight(pairs, weights, threshold, records.length).forEach((p, j) => {
      if (p < 0) return;
      const probability = probabilityOf(weights[p]!);
      linkedMass += probability;
      const record = records[j]!;
      links.push([
        runId,
        spec.id,
        String(record.load_id),
        Number(record.source_line),
        String(index[pairs.left[p]!]!.person_token),
        probability,
        weights[p]!,
      ]);
    });
  }
  const report: LinkRunReport = {
    runId,
    dataset: spec.id,
    against: AGAINST,
    records: records.length,
    masterIndexRecords: index.length,
    candidatePairs,
    linked: links.length,
    estimatedPrecision: links.length > 0 ? linkedMass / links.length : null,
    estimatedRecall: bestMass > 0 ? linkedMass / bestMass : null,
  };
  await store.transaction(async (tx) => {
    await tx.insertRows(
      'link_runs',
      [
        'run_id',
        'dataset',
        'against',
        'started_at',
        'actor',
        'threshold',
        'records',
        'candidate_pairs',
        'linked',
        'estimated_precision',
        'estimated_recall',
        'match_prior',
      ],
      [
        [
          runId,
          spec.id,
          AGAINST,
          new Date().toISOString(),
          options.actor,
          threshold,
          report.records,
          candidatePairs,
          report.linked,
          report.estimatedPrecision,
          report.estimatedRecall,
          lambda,
        ],
      ],
    );
    await tx.insertRows(
      'person_links',
      ['run_id', 'dataset', 'load_id', 'source_line', 'person_token', 'match_probability', 'match_weight'],
      links,
    );
    await appendAudit(tx, {
      actor: options.actor,
      action: 'linkage.people-linked',
      target: `dataset:${spec.id}`,
      details: {
        run: runId,
        against: AGAINST,
        records: report.records,
        linked: report.linked,
        candidatePairs,
      },
    });
  });
  return report;
}
