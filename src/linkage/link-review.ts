/**
 * Clerical review of `kernel link`'s uncertain pairs, in the store: the queue (the latest
 * run's pairs in the uncertain band that nobody has decided), a person's decision on a pair
 * (kept in `link_decisions`, audited, and honoured by every later run while the record's
 * load is current), and a pair's waterfall from the run's stored model.
 *
 * What a reviewer sees is the pair's id, the sending organisation, the month and line of the
 * record (which the sender can look up at source) and the model's evidence, comparison by
 * comparison. No encoding and no person token leaves here; audit details carry the pair id,
 * the decision and counts only.
 */
import { randomUUID } from 'node:crypto';
import { appendAudit } from '../audit/audit-log.ts';
import { KernelError } from '../errors.ts';
import type { Queryable, Store } from '../store/store.ts';
import { bindModel, type LinkageModel, type PairExplanation } from './fellegi-sunter.ts';
import { linkableDataset } from './link-people.ts';
import { encodingColumns, sideFromRows } from './linkage-store.ts';
import { personLinkageSetup } from './person-linkage.ts';

export interface ReviewPair {
  pairId: string;
  dataset: string;
  /** the organisation that sent the record */
  org: string;
  /** the record's month and line in the file its sender sent */
  period: string;
  sourceLine: number;
  probability: number;
  weight: number;
  /** whether the run linked the record to this pair's person */
  linked: boolean;
}

export interface ReviewQueue {
  dataset: string;
  runId: string | null;
  runStartedAt: string | null;
  /** the band of match probability the queue holds */
  band: [number, number] | null;
  pairs: ReviewPair[];
}

async function latestRun(q: Queryable, dataset: string) {
  const rows = await q.query<{ run_id: string; started_at: string; review_low: number; review_high: number }>(
    `SELECT run_id, started_at, review_low, review_high FROM link_runs WHERE dataset = $1
     ORDER BY started_at DESC, run_id DESC LIMIT 1`,
    [dataset],
  );
  return rows[0];
}

const reviewPairOf = (r: Record<string, unknown>): ReviewPair => ({
  pairId: String(r.pair_id),
  dataset: String(r.dataset),
  org: String(r.org_code),
  period: String(r.period),
  sourceLine: Number(r.source_line),
  probability: Number(r.match_probability),
  weight: Number(r.match_weight),
  linked: r.linked === true || String(r.linked) === 'true',
});

/** The latest run's undecided pairs in the uncertain band, surest first (one organisation's, given `org`). */
export async function reviewQueue(
  q: Queryable,
  filter: { dataset: string; org?: string; limit?: number },
): Promise<ReviewQueue> {
  const spec = linkableDataset(filter.dataset);
  const run = await latestRun(q, spec.id);
  if (!run) return { dataset: spec.id, runId: null, runStartedAt: null, band: null, pairs: [] };
  const rows = await q.query(
    `SELECT r.*, l.period FROM link_review r JOIN loads l ON l.load_id = r.load_id
     WHERE r.run_id = $1 AND ($2 = '' OR r.org_code = $2)
       AND NOT EXISTS (SELECT 1 FROM link_decisions d WHERE d.pair_id = r.pair_id)
     ORDER BY r.match_weight DESC, r.pair_id
     LIMIT ${Math.max(1, Math.min(filter.limit ?? 1000, 10_000))}`,
    [run.run_id, filter.org ?? ''],
  );
  return {
    dataset: spec.id,
    runId: run.run_id,
    runStartedAt: String(run.started_at),
    band: run.review_low === null ? null : [Number(run.review_low), Number(run.review_high)],
    pairs: rows.map(reviewPairOf),
  };
}

/**
 * The latest queued row of a pair (any run), or a not-found error naming what to do. Given
 * `org`, a pair whose record another organisation sent is not found either: a sender reviews
 * only its own records.
 */
async function queuedPair(q: Queryable, pairId: string, org?: string): Promise<Record<string, unknown>> {
  if (!/^pr-[0-9a-f]{20}$/.test(pairId)) {
    throw new KernelError('usage', `"${pairId}" is not a pair id`, {
      where: { field: 'pair' },
      hint: 'Pair ids look like pr- and 20 hex digits; kernel linkage review lists them',
    });
  }
  const rows = await q.query(
    `SELECT r.*, l.period, k.model FROM link_review r
     JOIN link_runs k ON k.run_id = r.run_id
     JOIN loads l ON l.load_id = r.load_id
     WHERE r.pair_id = $1 ORDER BY k.started_at DESC, k.run_id DESC LIMIT 1`,
    [pairId],
  );
  if (!rows[0] || (org !== undefined && rows[0].org_code !== org)) {
    throw new KernelError('not-found', `No run queued the pair ${pairId} for review`, {
      where: { field: 'pair' },
      hint: 'Run kernel linkage review to list the pairs awaiting a decision',
    });
  }
  return rows[0];
}

export interface PairDecision {
  decisionId: string;
  pairId: string;
  dataset: string;
  match: boolean;
  /** the model's probability when the pair was queued */
  modelProbability: number;
}

/**
 * A person's decision on a queued pair: the record is, or is not, the pair's person. Kept in
 * `link_decisions` (the latest decision on a pair wins) and audited; the next `kernel link`
 * run of the dataset honours it.
 */
export async function decidePair(
  store: Store,
  options: { pairId: string; match: boolean; actor: string; org?: string },
): Promise<PairDecision> {
  return store.transaction(async (tx) => {
    const row = await queuedPair(tx, options.pairId, options.org);
    const decision: PairDecision = {
      decisionId: `dc-${randomUUID().replace(/-/g, '')}`,
      pairId: options.pairId,
      dataset: String(row.dataset),
      match: options.match,
      modelProbability: Number(row.match_probability),
    };
    await tx.insertRows(
      'link_decisions',
      [
        'decision_id',
        'pair_id',
        'dataset',
        'org_code',
        'load_id',
        'source_line',
        'person_token',
        'is_match',
        'model_probability',
        'run_id',
        'decided_at',
        'actor',
      ],
      [
        [
          decision.decisionId,
          decision.pairId,
          decision.dataset,
          String(row.org_code),
          String(row.load_id),
          Number(row.source_line),
          String(row.person_token),
          options.match,
          decision.modelProbability,
          String(row.run_id),
          new Date().toISOString(),
          options.actor,
        ],
      ],
    );
    await appendAudit(tx, {
      actor: options.actor,
      action: 'linkage.pair-decided',
      target: `dataset:${decision.dataset}`,
      details: {
        decision: decision.decisionId,
        pair: decision.pairId,
        match: options.match,
        run: String(row.run_id),
      },
    });
    return decision;
  });
}

export interface PairWaterfall extends PairExplanation {
  pair: ReviewPair;
  runId: string;
  /** the decisions people made on the pair, latest last */
  decisions: { match: boolean; decidedAt: string }[];
}

/**
 * A queued pair's match weight as a waterfall (the prior, then each comparison's level, m,
 * u, weight and running total), from the model of the run that queued it and the two
 * records' encodings, read here and not returned.
 */
export async function explainQueuedPair(
  q: Queryable,
  pairId: string,
  filter: { org?: string } = {},
): Promise<PairWaterfall> {
  const row = await queuedPair(q, pairId, filter.org);
  if (!row.model) {
    throw new KernelError('not-found', `The run that queued ${pairId} kept no model`, {
      hint: 'Run kernel link again, then review the new queue',
    });
  }
  const model = JSON.parse(String(row.model)) as LinkageModel;
  const encodingOf = async (loadId: string, sourceLine: number) => {
    const rows = await q.query<Record<string, string | number | null>>(
      `SELECT ${encodingColumns('e')} FROM linkage_encodings e
       JOIN loads l ON l.org_code = e.org_code AND l.dataset_id = e.dataset AND l.period = e.period
       WHERE l.load_id = $1 AND e.source_line = $2`,
      [loadId, sourceLine],
    );
    if (!rows[0]) {
      throw new KernelError('not-found', `The encodings of pair ${pairId} are no longer held`, {
        hint: 'A record’s encodings go when its load is superseded or withdrawn; review the latest run’s queue',
      });
    }
    return sideFromRows(rows);
  };
  const left = await encodingOf(String(row.index_load_id), Number(row.index_source_line));
  const right = await encodingOf(String(row.load_id), Number(row.source_line));
  const explanation = bindModel(model, personLinkageSetup().comparisons, left, right).explain(0, 0);
  const decisions = await q.query<{ is_match: boolean; decided_at: string }>(
    'SELECT is_match, decided_at FROM link_decisions WHERE pair_id = $1 ORDER BY decided_at, decision_id',
    [pairId],
  );
  return {
    ...explanation,
    pair: reviewPairOf(row),
    runId: String(row.run_id),
    decisions: decisions.map((d) => ({
      match: d.is_match === true || String(d.is_match) === 'true',
      decidedAt: String(d.decided_at),
    })),
  };
}
