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
 * The load, stage by stage (the modules of src/ingest/load/; docs/feeds.md):
 *  1. The manifest checked against the request, and its signature against the organisation's
 *     trusted keys (verify-feed.ts); or, where configuration allows, an extract with no
 *     manifest pseudonymised here.
 *  2. A file already loaded is reported `duplicate`, and nothing changes (verify-feed.ts).
 *  3. A `running` row committed to `loads` on its own, so that a load killed at any moment
 *     leaves exactly a failed-load record (load-record.ts).
 *  4. In ONE transaction, the stages writeLoad lists: the scan beside the first write of the
 *     rows, the rows left out set aside, repeats dropped, the held rows written, findings,
 *     quarantine, publish. It commits only if the scan found the file the manifest describes
 *     (verify-feed.ts) and every row read was either loaded or set aside.
 *  5. After the commit, the new records linked. An attempt refused or failed at any step is
 *     recorded and audited (load-record.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CodeList, DatasetSpec } from '../catalogue/dataset-spec.ts';
import { assertAgreementInForce } from '../governance/agreements.ts';
import { linkAfterLoad } from '../linkage/link-people.ts';
import { parsePeriod } from '../months.ts';
import { deidPlan, type DeidPlan } from '../privacy/deid-plan.ts';
import { deidentifyFile } from '../privacy/deidentify-file.ts';
import type { LinkKey } from '../privacy/link-key.ts';
import { manifestPathFor, readManifest, type FeedManifest } from '../privacy/manifest.ts';
import type { PostcodeLookup } from '../privacy/postcode-lookup.ts';
import { hmacTokeniser } from '../privacy/token-scheme.ts';
import type { Queryable, Store } from '../store/store.ts';
import { catalogueSpecs } from './catalogue-specs.ts';
import { noteLoadHistoryChanged, type LoadReport } from './load-history.ts';
import { countFailures, loadFindings } from './load/findings.ts';
import { LoadRefusedError, newLoadId, recordFailedAttempt, recordRunning } from './load/load-record.ts';
import { dropScratch, openLoadStage } from './load/load-stage.ts';
import { refuseRowsOfAnotherMonth } from './load/period-rows.ts';
import { publishLoad, type LinkageFile } from './load/publish.ts';
import { quarantineRows } from './load/quarantine.ts';
import { removeRepeats } from './load/repeats.ts';
import { setAside } from './load/set-aside.ts';
import { stageHeldRows, stageRows, type FeedToStage } from './load/stage-rows.ts';
import {
  checkRequest,
  earlierLoadOf,
  linkageFileOf,
  scanAgainstManifest,
  sha256File,
  unsignedFile,
  verifyManifest,
} from './load/verify-feed.ts';
import { withSessionSettings } from '../store/session-settings.ts';

export { LoadRefusedError, newLoadId };

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

/** Loads one feed file with the specifications `specs` gives. See the top of this file. */
export async function loadFeedWith(
  specs: SpecSource,
  store: Store,
  request: LoadRequest,
  onProgress?: (progress: LoadProgress) => void,
): Promise<LoadReport> {
  const started = performance.now();
  // The reporting month asked for (`kernel load --period`), where one was: the manifest's must be it.
  const period = request.period === undefined ? undefined : parsePeriod(request.period);
  const org = request.org.trim().toUpperCase();
  const spec = specs.spec(request.dataset);
  const plan = deidPlan(spec);
  const displayName = request.displayName ?? path.basename(request.file);
  const report: LoadReport = {
    status: 'refused',
    loadId: null,
    org,
    dataset: spec.id,
    period: period ?? null,
    file: displayName,
    sha256: null,
    rowsRead: 0,
    rowsLoaded: 0,
    rowsRejected: 0,
    findings: [],
    seconds: 0,
  };
  const elapsed = (): number => Math.round((performance.now() - started) / 10) / 100;
  checkRequest(request.file);

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
      const earlier = await earlierLoadOf(store, report);
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
        ...(period ? { period } : {}),
        onProgress: (done, total) => onProgress?.({ phase: 'pseudonymise', done, total }),
      });
      manifest = result.manifest;
      pseudonymisedInProcess = true;
    } else {
      await verifyManifest(store, manifest, { org, spec, period, displayName });
    }
    report.period = manifest.period;
    const linkage = spec.linkageEncoding
      ? await linkageFileOf(manifest, request.file, displayName)
      : undefined;
    if (!pseudonymisedInProcess) report.sha256 = manifest.sha256;

    // 2. The same file again changes nothing.
    const duplicateOf = await earlierLoadOf(store, report, pseudonymisedInProcess ? undefined : file);
    if (duplicateOf) return { ...report, status: 'duplicate', loadId: duplicateOf, seconds: elapsed() };

    // 3. A `running` record, committed on its own.
    loadId = newLoadId();
    report.loadId = loadId;
    const { actor } = request;
    await recordRunning(store, report, manifest, actor);

    // 4. Scan and load at once; commit only if the scan agrees. The scan starts with the
    // engine's first pass over the file (writeLoad), not before: it keeps this thread busy,
    // and would hold up each of the small statements the transaction runs first.
    const startScan = scanAgainstManifest(file, plan, {
      manifest,
      displayName,
      onProgress: (done, total) => onProgress?.({ phase: 'check', done, total }),
    });
    const id = loadId;
    const outcome = await withSessionSettings(store, store.dialect.bulkLoad, () =>
      store.transaction(async (tx) => {
        await assertAgreementInForce(tx, org, spec.id, manifest.period);
        return writeLoad(tx, specs, plan, {
          loadId: id,
          displayName,
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
      }),
    );
    // The load has committed. Linking its records runs after, on its own: a failure there is
    // recorded (audited) and never undoes the load (src/linkage/link-people.ts).
    if (linkage?.file) await linkAfterLoad(store, { dataset: spec.id, loadId: id, actor });
    return { ...report, status: 'loaded', ...outcome };
  } catch (error) {
    report.seconds = elapsed();
    throw await recordFailedAttempt(store, loadId, report, error, request.actor);
  } finally {
    noteLoadHistoryChanged();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  }
}

/** What the stages need of the load beyond the plan: the feed file and its scan, the manifest, who and when. */
interface WriteContext extends FeedToStage {
  loadId: string;
  /** the file's name as the sender gave it, for messages */
  displayName: string;
  org: string;
  period: string;
  manifest: FeedManifest;
  actor: string;
  pseudonymisedInProcess: boolean;
  elapsed: () => number;
  onProgress: ((progress: LoadProgress) => void) | undefined;
  linkage: LinkageFile | undefined;
}

/** What the load's transaction wrote, for its report. */
type WriteOutcome = Pick<LoadReport, 'rowsRead' | 'rowsLoaded' | 'rowsRejected' | 'findings' | 'seconds'>;

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
  await refuseRowsOfAnotherMonth(stage, { displayName: ctx.displayName, rowsRead: staged.scan.rows });
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
    rowsRejected: failures.rows + repeats.rows,
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
