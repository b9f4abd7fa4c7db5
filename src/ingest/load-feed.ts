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
import { randomBytes } from 'node:crypto';

import {
  existsSync,
  mkdtempSync,
  openSync,
  readSync,
  closeSync,
  rmSync,
  statSync,
  createReadStream,
} from 'node:fs';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { appendAudit } from '../audit/audit-log.ts';
import type { CodeList, DatasetSpec } from '../catalogue/dataset-spec.ts';
import { KernelError } from '../errors.ts';
import { assertAgreementInForce } from '../governance/agreements.ts';
import { deidPlan, type DeidPlan } from '../privacy/deid-plan.ts';
import { deidentifyFile } from '../privacy/deidentify-file.ts';
import type { LinkKey } from '../privacy/link-key.ts';
import {
  manifestPathFor,
  manifestSignatureValid,
  readManifest,
  type FeedManifest,
} from '../privacy/manifest.ts';
import type { PostcodeLookup } from '../privacy/postcode-lookup.ts';
import { parsePublicKey } from '../privacy/signing-key.ts';
import { hmacTokeniser } from '../privacy/token-scheme.ts';
import { trustedKeys } from './trusted-keys.ts';
import type { Queryable, Store } from '../store/store.ts';
import { catalogueSpecs } from './catalogue-specs.ts';
import { markStaleLoads, noteLoadHistoryChanged, type LoadFinding, type LoadReport } from './load-history.ts';
import { linkAfterLoad } from '../linkage/link-people.ts';
import { scanFeedFile, type FeedScan, type ScanOptions } from './scan-feed.ts';
import { countFailures, loadFindings } from './load/findings.ts';
import { dropScratch, openLoadStage } from './load/load-stage.ts';
import { publishLoad, type LinkageFile } from './load/publish.ts';
import { quarantineRows } from './load/quarantine.ts';
import { removeRepeats } from './load/repeats.ts';
import { setAside } from './load/set-aside.ts';
import { stageHeldRows, stageRows, type FeedToStage } from './load/stage-rows.ts';

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

/**
 * A new load id: `ld-` and one run of letters and digits (time, then randomness). One run,
 * because the ids go into audit details, which refuse anything shaped like a postcode or an
 * NHS number, and a short random word (`a1c2ab`) can be shaped like a postcode.
 */
export function newLoadId(): string {
  return `ld-${Date.now().toString(36)}${randomBytes(6).toString('hex')}`;
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>)
    hash.update(chunk);
  return hash.digest('hex');
}

function firstLineOf(file: string): string {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const text = buf
      .subarray(0, n)
      .toString('utf8')
      .replace(/^\uFEFF/, '');
    return text.split(/\r?\n/)[0] ?? '';
  } finally {
    closeSync(fd);
  }
}

const refuse = (message: string, file: string, hint: string, field?: string): KernelError =>
  new KernelError('refused', message, { where: { file, ...(field ? { field } : {}) }, hint });

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
  if (request.period !== undefined && !/^\d{4}-(0[1-9]|1[0-2])$/.test(request.period)) {
    throw new KernelError('usage', `The period "${request.period}" is not a month`, {
      hint: 'Write it as YYYY-MM',
    });
  }
  if (!existsSync(request.file) || !statSync(request.file).isFile()) {
    throw new KernelError('not-found', `The file ${request.file} does not exist`, { hint: 'Check the path' });
  }

  let file = request.file;
  let workDir: string | undefined;
  let loadId: string | null = null;
  let pseudonymisedInProcess = false;
  try {
    // 1. The manifest, or (where allowed) pseudonymisation in-process.
    let manifest = readManifest(manifestPathFor(request.file));
    if (!manifest) {
      const header = firstLineOf(request.file).split(',');
      const carriesIdentifiers = plan.identifierFields.filter((f) => header.includes(f));
      if (!request.identifiable) {
        throw refuse(
          carriesIdentifiers.length > 0
            ? `The file has no manifest and still carries identifiers (${carriesIdentifiers.join(', ')})`
            : 'The file has no manifest, so it is unsigned',
          displayName,
          'Run the extract through `kernel deid` and send its output with the .manifest.json written beside it',
        );
      }
      report.sha256 = await sha256File(request.file);
      const earlier = await findDuplicate(store, org, spec.id, report.sha256);
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
      checkManifestAgainstRequest(manifest, org, spec, request.period, displayName);
      await verifySignature(store, manifest, org, displayName);
    }
    report.period = manifest.period;
    const linkage = spec.linkageEncoding
      ? await linkageFileOf(manifest, request.file, displayName)
      : undefined;
    const fileSha = pseudonymisedInProcess ? (report.sha256 as string) : manifest.sha256;
    report.sha256 = fileSha;

    // 2. The same file again changes nothing.
    const duplicateOf = await findDuplicate(store, org, spec.id, fileSha);
    if (duplicateOf) {
      if (!pseudonymisedInProcess && (await sha256File(file)) !== manifest.sha256) {
        throw manifestForAnotherFile(displayName);
      }
      return { ...report, status: 'duplicate', loadId: duplicateOf, seconds: elapsed() };
    }

    // 3. A `running` record, committed on its own.
    loadId = newLoadId();
    report.loadId = loadId;
    await store.transaction(async (tx) => {
      await markStaleLoads(tx);
      await tx.run(
        `INSERT INTO loads (load_id, org_code, dataset_id, period, file_name, sha256, status, started_at, actor, host, pid, spec_version, key_id, signing_key_id,
                            lsoa_vintage, imd_version)
         VALUES ($1, $2, $3, $4, $5, $6, 'running', $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
        [
          loadId,
          org,
          spec.id,
          manifest.period,
          displayName,
          fileSha,
          new Date().toISOString(),
          request.actor,
          os.hostname(),
          process.pid,
          manifest.specVersion,
          manifest.keyId,
          manifest.signingKeyId,
          // the geography the agent derived LSOA and IMD decile with (docs/geography.md)
          manifest.geography?.lsoaVintage ?? null,
          manifest.geography?.imdVersion ?? null,
        ],
      );
    });
    noteLoadHistoryChanged();

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
          actor: request.actor,
          pseudonymisedInProcess,
          elapsed,
          onProgress,
          linkage,
        });
      })
      .finally(() => (bulk ? store.exec(bulk.after).catch(() => undefined) : undefined));
    // The load has committed. Linking its records runs after, on its own: a failure there is
    // recorded (audited) and never undoes the load (src/linkage/link-people.ts).
    if (linkage?.file) await linkAfterLoad(store, { dataset: spec.id, loadId: id, actor: request.actor });
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
    const failure =
      error instanceof KernelError
        ? error
        : new KernelError('internal', 'The load failed', {
            cause: error,
            hint: 'Run again with --debug to see why',
          });
    report.seconds = elapsed();
    if (loadId !== null) await recordFailure(store, loadId, failure, request.actor, org, spec.id);
    else if (isRefusal(failure)) {
      // Refused before a load began (unsigned, altered, mis-addressed): still recorded and
      // audited, so the programme sees every file that was turned away.
      report.loadId = newLoadId();
      await recordEarlyRefusal(store, report, failure, request.actor);
    }
    if (!isRefusal(failure)) throw error;
    throw new LoadRefusedError(failure, report);
  } finally {
    noteLoadHistoryChanged();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  }
}

function manifestForAnotherFile(file: string): KernelError {
  return refuse(
    'The manifest is for another file: the file\u2019s SHA-256 is not the one the manifest records',
    file,
    'Send the file and the manifest `kernel deid` wrote together, unchanged',
  );
}

function checkManifestAgainstRequest(
  manifest: FeedManifest,
  org: string,
  spec: DatasetSpec,
  period: string | undefined,
  file: string,
): void {
  const mismatch = (what: string, said: string, asked: string): KernelError =>
    refuse(
      `The manifest is for ${what} ${said}, not ${asked}`,
      file,
      `Check --${what === 'organisation' ? 'org' : what} and the file`,
    );
  if (manifest.organisation.toUpperCase() !== org) throw mismatch('organisation', manifest.organisation, org);
  if (manifest.dataset !== spec.id) throw mismatch('dataset', manifest.dataset, spec.id);
  if (period !== undefined && manifest.period !== period) throw mismatch('period', manifest.period, period);
}

/**
 * The linkage file a signed manifest names (`kernel deid --linkage-secret`), beside the feed
 * file: null when the manifest names none or it was not sent (the feed loads without
 * encodings); refused when it was sent altered (its SHA-256 is not the manifest's).
 */
async function linkageFileOf(
  manifest: FeedManifest,
  feedFile: string,
  displayName: string,
): Promise<LinkageFile> {
  if (!manifest.linkage) return { file: null };
  const file = path.join(path.dirname(feedFile), manifest.linkage.file);
  if (!existsSync(file)) return { file: null };
  if ((await sha256File(file)) !== manifest.linkage.sha256) {
    throw refuse(
      'The linkage file is not the one its manifest names: its SHA-256 differs',
      manifest.linkage.file,
      `Send ${displayName}, its manifest and its linkage file exactly as kernel deid wrote them`,
    );
  }
  return { file, expected: { rows: manifest.linkage.rows, secretId: manifest.linkage.secretId } };
}

async function verifySignature(
  store: Store,
  manifest: FeedManifest,
  org: string,
  file: string,
): Promise<void> {
  if (!manifest.signature || !manifest.signingKeyId) {
    throw refuse(
      'The manifest is not signed',
      file,
      'Run `kernel deid` with --sign and the organisation\u2019s signing key',
    );
  }
  const keys = await trustedKeys(store, org);
  if (keys.length === 0) {
    throw refuse(
      `No signing key is trusted for ${org}`,
      file,
      `Register the agent\u2019s public key: kernel keys trust --org ${org} FILE.pub`,
    );
  }
  const key = keys.find((k) => k.keyId === manifest.signingKeyId);
  if (!key) {
    throw refuse(
      `The manifest is signed with key ${manifest.signingKeyId}, which is not trusted for ${org}`,
      file,
      `Sign with ${org}\u2019s registered key, or register this one: kernel keys trust --org ${org} FILE.pub`,
    );
  }
  if (!manifestSignatureValid(manifest, parsePublicKey(key.publicKeyPem).publicKey)) {
    throw refuse(
      'The manifest\u2019s signature does not match its contents: it was altered after signing',
      file,
      'Send the manifest exactly as `kernel deid` wrote it',
    );
  }
}

function checkScanAgainstManifest(scan: FeedScan, manifest: FeedManifest, file: string): void {
  if (scan.sha256 !== manifest.sha256) throw manifestForAnotherFile(file);
  if (scan.rows !== manifest.rowCount) {
    throw refuse(
      `The file has ${scan.rows} rows but the manifest says ${manifest.rowCount}`,
      file,
      'Send the file and its manifest unchanged',
    );
  }
}

async function findDuplicate(
  q: Queryable,
  org: string,
  dataset: string,
  sha256: string,
): Promise<string | null> {
  const [row] = await q.query<{ load_id: string }>(
    "SELECT load_id FROM loads WHERE org_code = $1 AND dataset_id = $2 AND sha256 = $3 AND status = 'loaded' LIMIT 1",
    [org, dataset, sha256],
  );
  return row?.load_id ?? null;
}

function isRefusal(failure: KernelError): boolean {
  return failure.code !== 'internal' && failure.code !== 'store' && failure.code !== 'busy';
}

async function recordEarlyRefusal(
  store: Store,
  report: LoadReport,
  failure: KernelError,
  actor: string,
): Promise<void> {
  const now = new Date().toISOString();
  try {
    await store.transaction(async (tx) => {
      await tx.run(
        `INSERT INTO loads (load_id, org_code, dataset_id, period, file_name, sha256, status, started_at, finished_at, actor, host, pid, error)
         VALUES ($1, $2, $3, $4, $5, $6, 'refused', $7, $7, $8, $9, $10, $11)`,
        [
          report.loadId,
          report.org,
          report.dataset,
          report.period,
          report.file,
          report.sha256,
          now,
          actor,
          os.hostname(),
          process.pid,
          failure.message.slice(0, 500),
        ],
      );
      await appendAudit(tx, {
        actor,
        action: 'load.refused',
        target: report.loadId ?? '',
        details: { org: report.org, dataset: report.dataset, reason: failure.code },
      });
    });
  } catch {
    // The refusal itself is what the caller must see.
  }
}

async function recordFailure(
  store: Store,
  loadId: string,
  failure: KernelError,
  actor: string,
  org: string,
  dataset: string,
): Promise<void> {
  const refused = failure.code !== 'internal' && failure.code !== 'store' && failure.code !== 'busy';
  try {
    await store.transaction(async (tx) => {
      await tx.run(
        "UPDATE loads SET status = $2, finished_at = $3, error = $4 WHERE load_id = $1 AND status = 'running'",
        [loadId, refused ? 'refused' : 'failed', new Date().toISOString(), failure.message.slice(0, 500)],
      );
      await appendAudit(tx, {
        actor,
        action: refused ? 'load.refused' : 'load.failed',
        target: loadId,
        details: { org, dataset, reason: failure.code },
      });
    });
  } catch {
    // The load's own error is the one to report; a stale `running` row is marked later.
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
