/**
 * The load: a pseudonymised feed file into the warehouse, all or nothing.
 *
 *   loadFeed(store, { org, dataset, period?, file, actor, displayName?, identifiable? }, onProgress?)
 *     → Promise<LoadReport>   status 'loaded' or 'duplicate'
 *     throws LoadRefusedError (a KernelError with `.report`, status 'refused') when the file
 *     is refused, and KernelError for a mistake in the request itself.
 *
 * The CLI (`kernel load`), the demo and the portal's upload page all call this; its
 * signature is stable.
 *
 * Steps: the manifest is verified (signature from the organisation's trusted key, then the
 * file's SHA-256 and row count); a file already loaded is reported `duplicate` and nothing
 * changes. Otherwise a `running` row is committed to `loads` on its own, so that a load
 * killed at any moment leaves exactly a failed-load record (see markStaleLoads). Then,
 * inside ONE transaction, the stages of src/ingest/load/ (writeLoad below lists them):
 * one pass over the file in JavaScript (structure, checksum, line numbers, leftover
 * identifiers: scan-feed.ts) beside the engine's first write of every row that passes the
 * checks (stage-rows.ts), less the rows that may repeat another (repeat-candidates.ts); the
 * rows it left out set aside, with the check each failed (set-aside.ts); repeats dropped
 * (repeats.ts) and the held rows that pass written after all; findings and reconciliation
 * (findings.ts); bad rows into `load_quarantine` (quarantine.ts); the previous load of the
 * same organisation, dataset and period superseded, the `loads` row and the audit event
 * (publish.ts). The transaction commits only if the scan agreed with the manifest and every
 * row read was either loaded or set aside.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CodeList, DatasetSpec } from '../catalogue/dataset-spec.ts';
import { KernelError } from '../errors.ts';
import { assertAgreementInForce } from '../governance/agreements.ts';
import { linkAfterLoad } from '../linkage/link-people.ts';
import { deidPlan, type DeidPlan } from '../privacy/deid-plan.ts';
import { deidentifyFile } from '../privacy/deidentify-file.ts';
import type { LinkKey } from '../privacy/link-key.ts';
import { manifestPathFor, readManifest, type FeedManifest } from '../privacy/manifest.ts';
import type { PostcodeLookup } from '../privacy/postcode-lookup.ts';
import { hmacTokeniser } from '../privacy/token-scheme.ts';
import type { Queryable, Store } from '../store/store.ts';
import { catalogueSpecs } from './catalogue-specs.ts';
import { noteLoadHistoryChanged, type LoadFinding, type LoadReport } from './load-history.ts';
import { countFailures, loadFindings } from './load/findings.ts';
import { isRefusal, newLoadId, recordFailedAttempt, recordRunning } from './load/load-record.ts';
import { dropScratch, openLoadStage } from './load/load-stage.ts';
import { publishLoad, type LinkageFile } from './load/publish.ts';
import { quarantineRows } from './load/quarantine.ts';
import { removeRepeats } from './load/repeats.ts';
import { setAside } from './load/set-aside.ts';
import { stageHeldRows, stageRows, type FeedToStage } from './load/stage-rows.ts';
import {
  checkRequest,
  checkScanAgainstManifest,
  earlierLoadOf,
  linkageFileOf,
  sha256File,
  unsignedFile,
  verifyManifest,
} from './load/verify-feed.ts';
import { scanFeedFile, type FeedScan, type ScanOptions } from './scan-feed.ts';

export { newLoadId };

export interface LoadRequest {
  /** the sending organisation's ODS code */
  org: string;
  dataset: string;
  /** the reporting month YYYY-MM; defaults to the manifest's */
  period?: string;
  file: string;
  /** who is loading, for the audit log */
  actor: string;
  /** the file's name as the sender knows it (an upload's original name); default its base name */
  displayName?: string;
  /**
   * Set only where configuration allows identifiable loads (`allowIdentifiableLoads`): an
   * extract with no manifest is then pseudonymised in-process with this key before loading.
   */
  identifiable?: { linkKey: LinkKey; postcodes?: PostcodeLookup; workDir?: string };
}

export interface LoadProgress {
  /** `commit`: everything is written and the transaction is about to commit */
  phase: 'pseudonymise' | 'check' | 'write' | 'commit';
  done: number;
  total: number;
}

/** How the load finds a dataset's specification and code lists (the catalogue, normally). */
export interface SpecSource {
  spec(datasetId: string): DatasetSpec;
  codeList(listId: string): CodeList | undefined;
}

/** A refused load: the KernelError to show, with the report to print. */
export class LoadRefusedError extends KernelError {
  readonly report: LoadReport;
  constructor(cause: KernelError, report: LoadReport) {
    super(cause.code, cause.message, {
      ...(cause.where ? { where: cause.where } : {}),
      ...(cause.hint ? { hint: cause.hint } : {}),
      cause,
    });
    this.report = report;
  }
}

/** Loads one feed file with the specifications `specs` gives. See the top of this file. */
export async function loadFeedWith(
  specs: SpecSource,
  store: Store,
  request: LoadRequest,
  onProgress?: (progress: LoadProgress) => void,
): Promise<LoadReport> {
  const started = performance.now();
  const org = request.org.trim().toUpperCase();
  const spec = specs.spec(request.dataset);
  const plan = deidPlan(spec);
  const displayName = request.displayName ?? path.basename(request.file);
  const report: LoadReport = {
    status: 'refused',
    loadId: null,
    org,
    dataset: spec.id,
    period: request.period ?? null,
    file: displayName,
    sha256: null,
    rowsRead: 0,
    rowsLoaded: 0,
    rowsRejected: 0,
    findings: [],
    seconds: 0,
  };
  const elapsed = (): number => Math.round((performance.now() - started) / 10) / 100;
  checkRequest(request.period, request.file);

  let file = request.file;
  let workDir: string | undefined;
  let loadId: string | null = null;
  let pseudonymisedInProcess = false;
  try {
    // 1. The manifest, or (where allowed) pseudonymisation in-process.
    let manifest = readManifest(manifestPathFor(request.file));
    if (!manifest) {
      if (!request.identifiable) throw unsignedFile(plan, request.file, displayName);
      report.sha256 = await sha256File(request.file);
      const earlier = await earlierLoadOf(store, {
        org,
        dataset: spec.id,
        sha256: report.sha256,
        displayName,
      });
      if (earlier) return { ...report, status: 'duplicate', loadId: earlier, seconds: elapsed() };
      workDir = mkdtempSync(path.join(request.identifiable.workDir ?? os.tmpdir(), 'kernel-load-'));
      file = path.join(workDir, `${spec.id}.csv`);
      const result = await deidentifyFile({
        spec,
        org,
        input: request.file,
        output: file,
        tokeniser: hmacTokeniser(request.identifiable.linkKey),
        ...(request.identifiable.postcodes ? { postcodes: request.identifiable.postcodes } : {}),
        ...(request.period ? { period: request.period } : {}),
        onProgress: (done, total) => onProgress?.({ phase: 'pseudonymise', done, total }),
      });
      manifest = result.manifest;
      pseudonymisedInProcess = true;
    } else {
      await verifyManifest(store, manifest, { org, spec, period: request.period, displayName });
    }
    report.period = manifest.period;
    const linkage = spec.linkageEncoding
      ? await linkageFileOf(manifest, request.file, displayName)
      : undefined;
    const fileSha = pseudonymisedInProcess ? (report.sha256 as string) : manifest.sha256;
    report.sha256 = fileSha;

    // 2. The same file again changes nothing.
    const duplicateOf = await earlierLoadOf(store, {
      org,
      dataset: spec.id,
      sha256: fileSha,
      displayName,
      ...(pseudonymisedInProcess ? {} : { unhashed: file }),
    });
    if (duplicateOf) return { ...report, status: 'duplicate', loadId: duplicateOf, seconds: elapsed() };

    // 3. A `running` record, committed on its own.
    loadId = newLoadId();
    report.loadId = loadId;
    const { actor } = request;
    await recordRunning(store, {
      loadId,
      org,
      dataset: spec.id,
      manifest,
      displayName,
      sha256: fileSha,
      actor,
    });

    // 4. Scan and load at once; commit only if the scan agrees. The scan starts with the
    // engine's first pass over the file (writeLoad), not before: it keeps this thread busy,
    // and would hold up each of the small statements the transaction runs first.
    const total = statSync(file).size;
    let scanning: Promise<FeedScan> | undefined;
    const startScan = (options: Pick<ScanOptions, 'onRow' | 'onChunk'> = {}): Promise<FeedScan> => {
      if (!scanning) {
        scanning = scanFeedFile(file, plan, {
          displayName,
          onProgress: (done) => onProgress?.({ phase: 'check', done, total }),
          ...options,
        }).then((scan) => {
          checkScanAgainstManifest(scan, manifest, displayName);
          return scan;
        });
        scanning.catch(() => undefined);
      }
      return scanning;
    };
    const id = loadId;
    // Settings for speed and bounded memory only: a load goes ahead without them.
    const bulk = store.dialect.bulkLoad;
    if (bulk) await store.exec(bulk.before).catch(() => undefined);
    const outcome = await store
      .transaction(async (tx) => {
        await assertAgreementInForce(tx, org, spec.id, manifest.period);
        return writeLoad(tx, specs, plan, {
          loadId: id,
          org,
          period: manifest.period,
          manifest,
          file,
          startScan,
          actor,
          pseudonymisedInProcess,
          elapsed,
          onProgress,
          linkage,
        });
      })
      .finally(() => (bulk ? store.exec(bulk.after).catch(() => undefined) : undefined));
    // The load has committed. Linking its records runs after, on its own: a failure there is
    // recorded (audited) and never undoes the load (src/linkage/link-people.ts).
    if (linkage?.file) await linkAfterLoad(store, { dataset: spec.id, loadId: id, actor });
    return {
      ...report,
      status: 'loaded',
      rowsRead: outcome.rowsRead,
      rowsLoaded: outcome.rowsLoaded,
      rowsRejected: outcome.rowsQuarantined + outcome.rowsDropped,
      findings: outcome.findings,
      seconds: outcome.seconds,
    };
  } catch (error) {
    report.seconds = elapsed();
    const failure = await recordFailedAttempt(store, loadId, report, error, request.actor);
    if (!isRefusal(failure)) throw error;
    throw new LoadRefusedError(failure, report);
  } finally {
    noteLoadHistoryChanged();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  }
}

/** What the stages need of the load beyond the plan: the feed file and its scan, the manifest, who and when. */
interface WriteContext extends FeedToStage {
  loadId: string;
  org: string;
  period: string;
  manifest: FeedManifest;
  actor: string;
  pseudonymisedInProcess: boolean;
  elapsed: () => number;
  onProgress: ((progress: LoadProgress) => void) | undefined;
  linkage: LinkageFile | undefined;
}

interface WriteOutcome {
  rowsRead: number;
  rowsLoaded: number;
  rowsQuarantined: number;
  rowsDropped: number;
  findings: LoadFinding[];
  seconds: number;
}

/**
 * The load's stages, in its one transaction (src/ingest/load/, and docs/feeds.md, "The load,
 * stage by stage").
 */
async function writeLoad(
  tx: Queryable,
  specs: SpecSource,
  plan: DeidPlan,
  ctx: WriteContext,
): Promise<WriteOutcome> {
  const stage = await openLoadStage(tx, plan, { ...ctx, codeList: (id) => specs.codeList(id) });
  const staged = await stageRows(stage, ctx);
  await setAside(stage, staged, ctx.file);
  const repeats = await removeRepeats(stage);
  const rowsLoaded = staged.rowsLoaded + (await stageHeldRows(stage, staged.tally));
  const failures = await countFailures(stage);

  ctx.onProgress?.({ phase: 'write', done: 0, total: 1 });
  await staged.source?.release();
  const found = await loadFindings(stage, { scan: staged.scan, repeats, failures, manifest: ctx.manifest });
  await quarantineRows(stage, failures.rows);
  await dropScratch(stage);

  const { seconds } = await publishLoad(stage, {
    ...found,
    rowsLoaded,
    rowsQuarantined: failures.rows,
    rowsDropped: repeats.rows,
    sha256: staged.scan.sha256,
    manifest: ctx.manifest,
    actor: ctx.actor,
    pseudonymisedInProcess: ctx.pseudonymisedInProcess,
    linkage: ctx.linkage,
    tally: staged.tally,
    elapsed: ctx.elapsed,
  });
  ctx.onProgress?.({ phase: 'commit', done: 0, total: 1 });
  return {
    rowsRead: found.rowsRead,
    rowsLoaded,
    rowsQuarantined: failures.rows,
    rowsDropped: repeats.rows,
    findings: found.findings,
    seconds,
  };
}

/** Loads one feed file; the dataset comes from the catalogue. See the top of this file. */
export async function loadFeed(
  store: Store,
  request: LoadRequest,
  onProgress?: (progress: LoadProgress) => void,
): Promise<LoadReport> {
  return loadFeedWith(catalogueSpecs, store, request, onProgress);
}
