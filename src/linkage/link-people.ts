/**
 * `kernel link`: gives records that arrived without an NHS number the person_token of the
 * person on the spine (src/kid/person-spine.ts) their encodings match. The master index is
 * every pmi encoding, in a current pmi load, whose row's person_token is a person of the
 * current spine version; a person with several PMI records is several index records, and a
 * link names the person.
 *
 * The run reads encodings and tokens only (no identifier exists in the store to read),
 * trains the model on the two sides (deterministic: same data, same links), applies the
 * clerical decisions kept in `link_decisions`, links each record to its best index record at
 * probability ≥ threshold (many to one: a council may hold several records of one person),
 * queues the pairs in the uncertain band for review, and writes a new version — a
 * `link_runs` row (with the model, for explaining pairs later), its `person_links`, its
 * `link_review` queue and its estimates of precision and recall per organisation — in one
 * audited transaction.
 */
import { createHash, randomUUID } from 'node:crypto';
import { appendAudit } from '../audit/audit-log.ts';
import { getDataset } from '../catalogue/catalogue.ts';
import { tableName } from '../catalogue/shapes.ts';
import { KernelError } from '../errors.ts';
import type { Queryable, Store } from '../store/store.ts';
import { blockPairs } from './blocking.ts';
import { bindModel, probabilityOf, trainModel, type LinkageModel } from './fellegi-sunter.ts';
import { bestForEachRight, DECIDED_WEIGHT } from './link-decisions.ts';
import { deleteOrphanEncodings, encodingColumns, sideFromRows } from './linkage-store.ts';
import { personLinkageSetup } from './person-linkage.ts';
import { inVersion } from '../store/version-range.ts';

export interface LinkEstimate {
  org: string;
  records: number;
  linked: number;
  /** the model's: the mean probability of the links */
  modelPrecision: number | null;
  /** the model's: the links' probability mass over that of every record's best candidate */
  modelRecall: number | null;
  /** pairs people decided (latest decision each) among this run's records */
  reviewedPairs: number;
  decidedMatches: number;
  /** of the reviewed pairs the model alone would have linked, the share people called a match */
  clericalPrecision: number | null;
  /** of the reviewed pairs people called a match, the share the model alone would have linked */
  clericalRecall: number | null;
}

export interface LinkRunReport {
  runId: string;
  dataset: string;
  /** 'spine': the current person spine version's people */
  against: string;
  spineVersion: number;
  /** records of the dataset without a person_token that have encodings */
  records: number;
  masterIndexRecords: number;
  candidatePairs: number;
  linked: number;
  estimatedPrecision: number | null;
  estimatedRecall: number | null;
  /** clerical decisions this run honoured */
  decisionsApplied: number;
  /** pairs queued for clerical review */
  reviewQueue: number;
  /** per organisation that sent the records */
  estimates: LinkEstimate[];
}

export const AGAINST = 'spine';
const INDEX_DATASET = 'pmi';
export const DEFAULT_REVIEW_BAND: readonly [number, number] = [0.1, 0.9];

/** A pair's stable id: the same record and person give the same id on every run. */
export function pairIdOf(dataset: string, loadId: string, sourceLine: number, personToken: string): string {
  const hash = createHash('sha256').update(
    `${dataset}\u0000${loadId}\u0000${sourceLine}\u0000${personToken}`,
  );
  return `pr-${hash.digest('hex').slice(0, 20)}`;
}

/** The current spine version, or null before the first build. */
export async function currentSpineVersion(q: Queryable): Promise<number | null> {
  const rows = await q.query<{ version: number }>('SELECT version FROM kid_current WHERE id = 1');
  return rows[0] ? Number(rows[0].version) : null;
}

type EncodedRow = Record<string, string | number | null>;

/** The master index: pmi encodings of current loads whose person is on spine `version`. */
async function indexRows(q: Queryable, version: number): Promise<EncodedRow[]> {
  if (!(await hasLoads(q, INDEX_DATASET))) return [];
  // The spine's people filter in JavaScript: joined in SQL, PostgreSQL's planner (before
  // ANALYZE has seen fresh tables) chose a nested loop over ds_pmi × kid_person, 40 s here.
  const spine = new Set(
    (
      await q.query<{ person_token: string }>(
        `SELECT p.person_token FROM kid_person p WHERE ${inVersion('p', '$1')}`,
        [version],
      )
    ).map((r) => r.person_token),
  );
  const rows = await q.query<EncodedRow>(
    `SELECT l.load_id, e.source_line, d.person_token, ${encodingColumns('e')}
     FROM linkage_encodings e
     JOIN loads l ON l.org_code = e.org_code AND l.dataset_id = e.dataset AND l.period = e.period
       AND l.status = 'loaded' AND (e.load_id IS NULL OR e.load_id = l.load_id)
     JOIN ${tableName(INDEX_DATASET)} d ON d.load_id = l.load_id AND d.source_line = e.source_line
     WHERE e.dataset = $1 AND d.person_token IS NOT NULL
     ORDER BY l.load_id, e.source_line`,
    [INDEX_DATASET],
  );
  return rows.filter((r) => spine.has(String(r.person_token)));
}

/** The dataset's rows in current loads that have encodings and no person_token. */
async function recordRows(q: Queryable, dataset: string): Promise<EncodedRow[]> {
  if (!(await hasLoads(q, dataset))) return [];
  return q.query<EncodedRow>(
    `SELECT l.load_id, l.org_code, e.source_line, ${encodingColumns('e')}
     FROM linkage_encodings e
     JOIN loads l ON l.org_code = e.org_code AND l.dataset_id = e.dataset AND l.period = e.period
       AND l.status = 'loaded' AND (e.load_id IS NULL OR e.load_id = l.load_id)
     JOIN ${tableName(dataset)} d ON d.load_id = l.load_id AND d.source_line = e.source_line
     WHERE e.dataset = $1 AND d.person_token IS NULL
     ORDER BY l.load_id, e.source_line`,
    [dataset],
  );
}

async function hasLoads(q: Queryable, dataset: string): Promise<boolean> {
  const loaded = await q.query<{ n: number }>(
    "SELECT count(*) AS n FROM loads WHERE dataset_id = $1 AND status = 'loaded'",
    [dataset],
  );
  return Number(loaded[0]?.n ?? 0) > 0;
}

/** The latest decision on each pair of the dataset: pair id → match or not. */
export async function keptDecisions(q: Queryable, dataset: string): Promise<Map<string, boolean>> {
  const rows = await q.query<{ pair_id: string; is_match: boolean }>(
    `SELECT pair_id, is_match FROM link_decisions WHERE dataset = $1 ORDER BY decided_at, decision_id`,
    [dataset],
  );
  const decisions = new Map<string, boolean>();
  for (const row of rows)
    decisions.set(row.pair_id, row.is_match === true || String(row.is_match) === 'true');
  return decisions;
}

/** An organisation's running totals while a run decides its links. */
interface OrgTally extends LinkEstimate {
  linkedMass: number;
  bestMass: number;
  /** reviewed pairs the model alone linked, and of them those people called a match */
  modelLinked: number;
  modelRight: number;
}

const ratio = (a: number, b: number): number | null => (b > 0 ? a / b : null);

export function linkableDataset(datasetId: string) {
  const spec = getDataset(datasetId);
  if (!spec.linkageEncoding || spec.id === INDEX_DATASET) {
    throw new KernelError(
      'usage',
      `The dataset ${spec.id} is not one whose records are linked by encodings`,
      {
        hint: 'Give a dataset whose specification declares linkageEncoding, other than pmi',
      },
    );
  }
  return spec;
}

export async function linkPeople(
  store: Store,
  options: {
    dataset: string;
    threshold?: number;
    actor: string;
    reviewBand?: readonly [number, number];
    /** the load whose commit started this run, if one did */
    startedByLoad?: string;
    /** the spine version to link into (a build about to make it current); default the current one */
    spineVersion?: number;
  },
): Promise<LinkRunReport> {
  const spec = linkableDataset(options.dataset);
  const threshold = options.threshold ?? 0.5;
  const [low, high] = options.reviewBand ?? DEFAULT_REVIEW_BAND;
  // Encodings whose load was withdrawn or failed are no one's: they go before anything reads.
  await store.transaction((tx) => deleteOrphanEncodings(tx, options.actor));
  const spineVersion = options.spineVersion ?? (await currentSpineVersion(store));
  const index = spineVersion === null ? [] : await indexRows(store, spineVersion);
  if (spineVersion === null || index.length === 0) {
    throw new KernelError(
      'not-found',
      spineVersion === null
        ? 'The warehouse holds no master-index encodings to link against: no person spine has been built'
        : 'The warehouse holds no master-index encodings to link against',
      {
        hint:
          spineVersion === null
            ? 'Load the pmi feeds with their linkage files, then run kernel kid build'
            : 'Load the pmi feeds with their linkage files (kernel deid --linkage-secret), then kernel kid build',
      },
    );
  }
  const records = await recordRows(store, spec.id);
  const left = sideFromRows(index);
  const right = sideFromRows(records);
  const runId = randomUUID();
  const tokenOf = (i: number): string => String(index[i]!.person_token);
  const recordKey = (j: number) => {
    const r = records[j]!;
    return { loadId: String(r.load_id), line: Number(r.source_line), org: String(r.org_code) };
  };
  const pairIdFor = (i: number, j: number): string => {
    const r = recordKey(j);
    return pairIdOf(spec.id, r.loadId, r.line, tokenOf(i));
  };

  let candidatePairs = 0;
  let model: LinkageModel | null = null;
  const links: (string | number)[][] = [];
  const review: (string | number | boolean)[][] = [];
  const perOrg = new Map<string, OrgTally>();
  const orgOf = (org: string): OrgTally => {
    let e = perOrg.get(org);
    if (!e) {
      e = {
        org,
        records: 0,
        linked: 0,
        modelPrecision: null,
        modelRecall: null,
        reviewedPairs: 0,
        decidedMatches: 0,
        clericalPrecision: null,
        clericalRecall: null,
        linkedMass: 0,
        bestMass: 0,
        modelLinked: 0,
        modelRight: 0,
      };
      perOrg.set(org, e);
    }
    return e;
  };
  for (let j = 0; j < records.length; j++) orgOf(recordKey(j).org).records++;
  let decisionsApplied = 0;

  if (records.length > 0) {
    const setup = personLinkageSetup();
    model = trainModel(left, right, {
      comparisons: setup.comparisons,
      ...setup.training,
      randomPairs: Math.min(1_000_000, index.length * records.length),
    }).model;
    const { pairs } = blockPairs(left, right, setup.blocking);
    candidatePairs = pairs.length;
    const modelWeights = bindModel(model, setup.comparisons, left, right).weights(pairs);

    // Clerical decisions: a decided pair weighs beyond anything the model gives, either way;
    // a decided match blocking missed is added as a pair.
    const decisions = await keptDecisions(store, spec.id);
    const weights = Float64Array.from(modelWeights);
    const seen = new Set<string>();
    const firstIndexOf = new Map<string, number>();
    index.forEach((_, i) => {
      if (!firstIndexOf.has(tokenOf(i))) firstIndexOf.set(tokenOf(i), i);
    });
    for (let p = 0; p < pairs.length; p++) {
      const id = pairIdFor(pairs.left[p]!, pairs.right[p]!);
      const decided = decisions.get(id);
      if (decided === undefined) continue;
      weights[p] = decided ? DECIDED_WEIGHT : -DECIDED_WEIGHT;
      seen.add(id);
    }
    const extraLeft: number[] = [];
    const extraRight: number[] = [];
    const recordIndex = new Map(records.map((_, j) => [`${recordKey(j).loadId}:${recordKey(j).line}`, j]));
    const decidedRows = await store.query<{
      pair_id: string;
      load_id: string;
      source_line: number;
      person_token: string;
    }>(
      'SELECT DISTINCT pair_id, load_id, source_line, person_token FROM link_decisions WHERE dataset = $1 ORDER BY pair_id',
      [spec.id],
    );
    const decidedHere: { id: string; j: number }[] = [];
    for (const row of decidedRows) {
      const j = recordIndex.get(`${row.load_id}:${Number(row.source_line)}`);
      const i = firstIndexOf.get(row.person_token);
      if (j === undefined || i === undefined) continue; // the record or the person is gone
      decidedHere.push({ id: row.pair_id, j });
      if (decisions.get(row.pair_id) === true && !seen.has(row.pair_id)) {
        extraLeft.push(i);
        extraRight.push(j);
      }
    }
    decisionsApplied = decidedHere.length;
    const all = {
      left: Int32Array.from([...pairs.left, ...extraLeft]),
      right: Int32Array.from([...pairs.right, ...extraRight]),
      length: pairs.length + extraLeft.length,
    };
    const allWeights = Float64Array.from([...weights, ...extraLeft.map(() => DECIDED_WEIGHT)]);

    // What the model alone would have linked: for the clerical estimates.
    const modelBest = bestForEachRight(pairs, modelWeights, threshold, records.length);
    const modelLinkedPair = new Set<string>();
    modelBest.forEach((p) => {
      if (p >= 0) modelLinkedPair.add(pairIdFor(pairs.left[p]!, pairs.right[p]!));
    });
    for (const { id, j } of decidedHere) {
      const e = orgOf(recordKey(j).org);
      const match = decisions.get(id) === true;
      const byModel = modelLinkedPair.has(id);
      e.reviewedPairs++;
      if (match) e.decidedMatches++;
      if (byModel) e.modelLinked++;
      if (byModel && match) e.modelRight++;
    }

    for (const p of bestForEachRight(all, allWeights, 0, records.length)) {
      if (p >= 0) orgOf(recordKey(all.right[p]!).org).bestMass += probabilityOf(allWeights[p]!);
    }
    const best = bestForEachRight(all, allWeights, threshold, records.length);
    best.forEach((p, j) => {
      if (p < 0) return;
      const probability = probabilityOf(allWeights[p]!);
      const r = recordKey(j);
      const e = orgOf(r.org);
      e.linked++;
      e.linkedMass += probability;
      links.push([runId, spec.id, r.loadId, r.line, tokenOf(all.left[p]!), probability, allWeights[p]!]);
    });

    // The review queue: undecided pairs in the uncertain band, one per record and person.
    const queued = new Map<string, number>();
    for (let p = 0; p < pairs.length; p++) {
      const probability = probabilityOf(modelWeights[p]!);
      if (probability < low || probability >= high) continue;
      const id = pairIdFor(pairs.left[p]!, pairs.right[p]!);
      if (decisions.has(id)) continue;
      const before = queued.get(id);
      if (before === undefined || modelWeights[p]! > modelWeights[before]!) queued.set(id, p);
    }
    for (const [id, p] of [...queued].sort(([, a], [, b]) => modelWeights[b]! - modelWeights[a]! || a - b)) {
      const i = pairs.left[p]!;
      const j = pairs.right[p]!;
      const r = recordKey(j);
      const chosen = best[j]!;
      review.push([
        runId,
        id,
        spec.id,
        r.org,
        r.loadId,
        r.line,
        String(index[i]!.load_id),
        Number(index[i]!.source_line),
        tokenOf(i),
        probabilityOf(modelWeights[p]!),
        modelWeights[p]!,
        chosen >= 0 && tokenOf(all.left[chosen]!) === tokenOf(i),
      ]);
    }
  }

  const estimates: LinkEstimate[] = [...perOrg.values()]
    .sort((a, b) => (a.org < b.org ? -1 : a.org > b.org ? 1 : 0))
    .map((e) => ({
      org: e.org,
      records: e.records,
      linked: e.linked,
      modelPrecision: ratio(e.linkedMass, e.linked),
      modelRecall: ratio(e.linkedMass, e.bestMass),
      reviewedPairs: e.reviewedPairs,
      decidedMatches: e.decidedMatches,
      clericalPrecision: ratio(e.modelRight, e.modelLinked),
      clericalRecall: ratio(e.modelRight, e.decidedMatches),
    }));
  const sum = (pick: (e: OrgTally) => number): number =>
    [...perOrg.values()].reduce((n, e) => n + pick(e), 0);
  const report: LinkRunReport = {
    runId,
    dataset: spec.id,
    against: AGAINST,
    spineVersion,
    records: records.length,
    masterIndexRecords: index.length,
    candidatePairs,
    linked: links.length,
    estimatedPrecision: ratio(
      sum((e) => e.linkedMass),
      links.length,
    ),
    estimatedRecall: ratio(
      sum((e) => e.linkedMass),
      sum((e) => e.bestMass),
    ),
    decisionsApplied,
    reviewQueue: review.length,
    estimates,
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
        'spine_version',
        'started_by_load',
        'model',
        'review_low',
        'review_high',
        'decisions_applied',
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
          model?.lambda ?? 0,
          spineVersion,
          options.startedByLoad ?? null,
          model ? JSON.stringify(model) : null,
          low,
          high,
          decisionsApplied,
        ],
      ],
    );
    await tx.insertRows(
      'person_links',
      ['run_id', 'dataset', 'load_id', 'source_line', 'person_token', 'match_probability', 'match_weight'],
      links,
    );
    await tx.insertRows(
      'link_review',
      [
        'run_id',
        'pair_id',
        'dataset',
        'org_code',
        'load_id',
        'source_line',
        'index_load_id',
        'index_source_line',
        'person_token',
        'match_probability',
        'match_weight',
        'linked',
      ],
      review,
    );
    await tx.insertRows(
      'link_run_estimates',
      [
        'run_id',
        'dataset',
        'org_code',
        'records',
        'linked',
        'model_precision',
        'model_recall',
        'reviewed_pairs',
        'decided_matches',
        'clerical_precision',
        'clerical_recall',
      ],
      estimates.map((e) => [
        runId,
        spec.id,
        e.org,
        e.records,
        e.linked,
        e.modelPrecision,
        e.modelRecall,
        e.reviewedPairs,
        e.decidedMatches,
        e.clericalPrecision,
        e.clericalRecall,
      ]),
    );
    await appendAudit(tx, {
      actor: options.actor,
      action: 'linkage.people-linked',
      target: `dataset:${spec.id}`,
      details: {
        run: runId,
        against: AGAINST,
        spineVersion,
        records: report.records,
        linked: report.linked,
        candidatePairs,
        decisionsApplied,
        reviewQueue: review.length,
        ...(options.startedByLoad ? { load: options.startedByLoad } : {}),
      },
    });
  });
  return report;
}

/**
 * Audits a link that failed after what started it (a load, a spine build) had committed
 * (`linkage.link-failed`, with the error's code only, never its message) and gives the code
 * to answer with. An audit that fails too is let go: what started the link stands either way.
 */
async function auditLinkFailure(
  store: Store,
  actor: string,
  dataset: string,
  error: unknown,
  startedBy: { load: string } | { spineVersion: number },
): Promise<string> {
  const code = error instanceof KernelError ? error.code : 'internal';
  await store
    .transaction((tx) =>
      appendAudit(tx, {
        actor,
        action: 'linkage.link-failed',
        target: `dataset:${dataset}`,
        details: { ...startedBy, code },
      }),
    )
    .catch(() => undefined);
  return code;
}

export type LinkAfterLoad =
  | { status: 'linked'; run: LinkRunReport }
  | { status: 'skipped'; reason: 'not-linked-by-encodings' | 'no-spine' }
  | { status: 'failed'; code: string };

/**
 * Called once a load of a dataset whose records may lack an NHS number has committed with
 * its encodings: links the dataset into the spine. Before the first spine build there is
 * nothing to link into (skipped). A failure is audited (`linkage.link-failed`, with the
 * error's code only) and answered, never thrown: the load stands.
 */
export async function linkAfterLoad(
  store: Store,
  load: { dataset: string; loadId: string; actor: string },
): Promise<LinkAfterLoad> {
  const spec = getDataset(load.dataset);
  if (!spec.linkageEncoding || spec.id === INDEX_DATASET)
    return { status: 'skipped', reason: 'not-linked-by-encodings' };
  try {
    if ((await currentSpineVersion(store)) === null) return { status: 'skipped', reason: 'no-spine' };
    const run = await linkPeople(store, { dataset: spec.id, actor: load.actor, startedByLoad: load.loadId });
    return { status: 'linked', run };
  } catch (error) {
    const code = await auditLinkFailure(store, load.actor, spec.id, error, { load: load.loadId });
    return { status: 'failed', code };
  }
}

/**
 * A new spine version changes who can be linked to: every dataset linked before is linked
 * again into `version` (called by the spine build before it makes the version current, so
 * its linkage report counts links into itself). A dataset never linked waits for its next
 * load or `kernel link`. A failure is audited and answered, never thrown: the build stands.
 */
export async function relinkIntoSpine(
  store: Store,
  options: { version: number; actor: string },
): Promise<{ dataset: string; status: 'linked' | 'failed'; code?: string }[]> {
  const linked = await store.query<{ dataset: string }>(
    'SELECT DISTINCT dataset FROM link_runs ORDER BY dataset',
  );
  const outcomes: { dataset: string; status: 'linked' | 'failed'; code?: string }[] = [];
  for (const { dataset } of linked) {
    try {
      await linkPeople(store, { dataset, actor: options.actor, spineVersion: options.version });
      outcomes.push({ dataset, status: 'linked' });
    } catch (error) {
      const code = await auditLinkFailure(store, options.actor, dataset, error, {
        spineVersion: options.version,
      });
      outcomes.push({ dataset, status: 'failed', code });
    }
  }
  return outcomes;
}
