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
 * inside ONE transaction: the rows that may repeat another found (repeat-candidates.ts);
 * and at the same time one pass over the file in JavaScript (structure, checksum, line
 * numbers, leftover identifiers: scan-feed.ts) and the engine's work on the file
 * (`Queryable.csvRelation`: DuckDB's read_csv in place, PostgreSQL's COPY into a scratch
 * table): every row that passes the checks in SQL (quality/row-rules.ts) cast into
 * `ds_<id>` in one pass, less the rows that may repeat another, held back so that a repeat
 * is never a row the transaction must delete; only the rows it left out read again, to say
 * which check each failed; repeats found among them and dropped, and the held rows that
 * pass every check written after all; bad rows into `load_quarantine`; the previous load
 * of the same organisation, dataset and period superseded; the `loads` row and the audit
 * event. The transaction commits only if the scan agreed with the manifest and every row
 * read was either loaded or set aside.
 */
import { recordSupersededPeople } from './superseded-people.ts';
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
import { deidPlan, SOURCE_LINE, type DeidPlan } from '../privacy/deid-plan.ts';
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
import {
  anyCheckFails,
  castValue,
  emptyAsNull,
  rowChecks,
  trimmedValue,
  typedColumns,
  typedValues,
  type RowCheck,
  type TypedValues,
} from '../quality/row-rules.ts';
import { quoteIdentifier, quoteLiteral } from '../store/sql.ts';
import type { CsvRelation, Queryable, Row, Store } from '../store/store.ts';
import { catalogueSpecs } from './catalogue-specs.ts';
import { ensureDatasetTable } from './dataset-table.ts';
import { profileLoad, storeProfile } from '../quality/load-profile.ts';
import { ProfileTally } from '../quality/profile-tally.ts';
import {
  markStaleLoads,
  removeRowsOfLoad,
  noteLoadHistoryChanged,
  storedReport,
  type FieldCompleteness,
  type LoadFinding,
  type LoadReport,
} from './load-history.ts';
import { repeatCandidates, type RepeatCandidates } from './repeat-candidates.ts';
import { linkAfterLoad } from '../linkage/link-people.ts';
import { replaceEncodingsOfLoad } from '../linkage/linkage-store.ts';
import { leftOutRows, loadedBlocksSql } from './row-index.ts';
import { scanFeedFile, type FeedScan, type ScanOptions } from './scan-feed.ts';
import { copyScreenedRows } from './screened-copy.ts';
import { rowScreen } from '../quality/row-screen.ts';
import { anchored } from '../catalogue/catalogue.ts';

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
          displayName,
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
): Promise<{ file: string | null; expected?: { rows: number; secretId: string } }> {
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

interface WriteContext {
  loadId: string;
  org: string;
  period: string;
  manifest: FeedManifest;
  file: string;
  /** starts the scan of the file (once, with the options of the first call) and gives its outcome */
  startScan: (options?: Pick<ScanOptions, 'onRow' | 'onChunk'>) => Promise<FeedScan>;
  actor: string;
  displayName: string;
  pseudonymisedInProcess: boolean;
  elapsed: () => number;
  onProgress: ((progress: LoadProgress) => void) | undefined;
  /**
   * For a dataset linked by encodings (`linkageEncoding`): the linkage file the signed
   * manifest names, checked against its SHA-256, or null when the feed came without one.
   */
  linkage: { file: string | null; expected?: { rows: number; secretId: string } } | undefined;
}

interface WriteOutcome {
  rowsRead: number;
  rowsLoaded: number;
  rowsQuarantined: number;
  rowsDropped: number;
  findings: LoadFinding[];
  seconds: number;
}

/** Files above this size get DuckDB's optimizer for the full passes (see writeLoad). */
const OPTIMIZE_ABOVE_BYTES = 16 * 1024 * 1024;
/**
 * Whether the rows left out of the first insert are read again one by one, through the
 * scan's index (about 12 µs a row, into the engine by its appender or COPY), rather than by
 * the engine parsing the whole file again (about 3 µs a row of the file): up to one in ten.
 */
export function rereadsLeftOutRows(leftOut: number, rows: number): boolean {
  return leftOut > 0 && leftOut * 10 <= rows;
}

async function writeLoad(
  tx: Queryable,
  specs: SpecSource,
  plan: DeidPlan,
  ctx: WriteContext,
): Promise<WriteOutcome> {
  const table = await ensureDatasetTable(tx, plan);
  const safeId = ctx.loadId.replace(/[^a-z0-9]/gi, '_');
  const groups = `kernel_dupgroups_${safeId}`;
  const dropped = `kernel_dropped_${safeId}`;
  const bad = `kernel_bad_${safeId}`;
  const held = `kernel_held_${safeId}`;
  const leftOutText = `kernel_leftout_${safeId}`;
  /** scratch tables, dropped before the transaction ends */
  const scratch = [bad, held];
  const q = quoteIdentifier;
  const content = plan.columns.map((c) => q(c.name));
  const num = (row: Row | undefined, key: string): number => Number(row?.[key] ?? 0);
  // A structural fault the engine meets first: the scan's message says where, so prefer it.
  const scanFirst = async <T>(work: Promise<T>): Promise<T> => {
    try {
      return await work;
    } catch (error) {
      await ctx.startScan();
      throw error;
    }
  };
  // Step 0 starts first, beside the engine's preparation of the file.
  const finding = repeatCandidates(ctx.file);
  finding.catch(() => undefined);
  const checks = rowChecks(plan, (id) => specs.codeList(id), tx.dialect);
  const castColumns = (alias: string, typed?: TypedValues): string =>
    plan.columns.map((c) => castValue(c, alias, typed)).join(', ');
  const insertInto = `INSERT INTO ${q(table)} (load_id, org_code, source_line, ${content.join(', ')}) `;
  const line = `CAST(s.${q(SOURCE_LINE)} AS BIGINT)`;
  const trimmedFrom = (from: string, asChecked: typeof emptyAsNull): string =>
    `(SELECT ${line} AS kernel_line, ` +
    `${plan.columns.map((c) => `${asChecked(c.name, 's.')} AS ${q(c.name)}`).join(', ')} FROM ${from} s)`;
  // The validating statements below are wide scan-and-project statements: over a few rows
  // DuckDB's optimizer costs more than it saves (a small file, or the rows read again), over
  // a large file its common-subexpression pass pays.
  const smallFile = statSync(ctx.file).size <= OPTIMIZE_ABOVE_BYTES;
  const unoptimized = async <T>(work: () => Promise<T>, fewRows = smallFile): Promise<T> => {
    const skip = fewRows ? tx.dialect.skipOptimizer : null;
    if (skip) await tx.exec(skip.off);
    try {
      return await work();
    } finally {
      if (skip) await tx.exec(skip.on);
    }
  };

  let scan: FeedScan;
  let rowsLoaded: number;
  /** the file as a relation, where the engine made one */
  let source: CsvRelation | undefined;
  /** the rows loaded by the first write, by block (row-index.ts), where known without asking */
  let loaded: Map<number, number> | undefined;
  // 0. The rows that may be repeats (repeat-candidates.ts, which says why) are held back
  // from the first write; step 3 sorts them out. In a file with no padded or quoted value
  // (most), only empty values need a look in SQL (`tidy`).
  let mayRepeat: RepeatCandidates;
  /** the parts of the profile the screened copy tallies (profile-tally.ts) */
  let tally: ProfileTally | undefined;
  if (tx.dialect.copiesScreenedRows) {
    tally = new ProfileTally(plan);
    // 1. Good rows, typed as they land, in the scan's one pass (screened-copy.ts).
    mayRepeat = await finding;
    const copied = await copyScreenedRows(tx, {
      table,
      plan,
      leading: { columns: ['load_id', 'org_code'], values: [ctx.loadId, ctx.org] },
      screen: rowScreen(plan, (id) => specs.codeList(id), anchored),
      hold: mayRepeat.lines,
      ...(tally.any ? { tally } : {}),
      inParts: { codeList: (id) => specs.codeList(id), quotedLineBreaks: mayRepeat.quotedLineBreaks },
      startScan: ctx.startScan,
    });
    scan = copied.scan;
    rowsLoaded = copied.rowsLoaded;
    loaded = scan.index.allBut(copied.setAside);
  } else {
    // The file as a relation (DuckDB reads it in place).
    source = await scanFirst(tx.csvRelation({ path: ctx.file, columns: plan.accepted }));
    mayRepeat = await finding;
    const holding = mayRepeat.lines.length > 0;
    if (holding) {
      await tx.exec(`CREATE TABLE ${q(held)} (line BIGINT)`);
      await tx.insertRows(
        held,
        ['line'],
        mayRepeat.lines.map((l) => [l]),
      );
    }
    // The scan runs beside the insert, which leaves a core idle at times; the step above
    // uses every core, so it goes first.
    const scanning = ctx.startScan();
    // 1. Good rows, cast to their stored types, in one pass over the file: every row that
    // passes every check (and is not held). Most files are clean, so this is usually the
    // only full pass.
    // Each typed value is cast once, beside its text (row-rules.ts, TypedValues), and the
    // checks and the stored value read that: the same verdicts as `checks`, which step 2
    // still uses to say which check a row failed.
    const typed = typedValues(plan);
    const typedChecks = rowChecks(plan, (id) => specs.codeList(id), tx.dialect, typed);
    const trimmed = trimmedFrom(source.sql, mayRepeat.tidy ? emptyAsNull : trimmedValue);
    const typedRelation = typed.size
      ? `(SELECT u.*, ${typedColumns(plan, typed, tx.dialect, 'u.').join(', ')} FROM ${trimmed} u)`
      : trimmed;
    const once = smallFile ? null : tx.dialect.computedOnceBelowFilter;
    if (once) await tx.exec(once.before);
    try {
      rowsLoaded = await scanFirst(
        unoptimized(() =>
          tx.run(
            `${insertInto}SELECT $1, $2, t.kernel_line, ${castColumns('t.', typed)} FROM ${typedRelation} t ` +
              `WHERE (${anyCheckFails(typedChecks)}) IS NOT TRUE` +
              (holding ? ` AND t.kernel_line NOT IN (SELECT line FROM ${q(held)})` : ''),
            [ctx.loadId, ctx.org],
          ),
        ),
      );
    } finally {
      // Settings only: a failed insert's own error is the one to report.
      if (once) await tx.exec(once.after).catch(() => undefined);
    }
    // The scan must agree before anything counts, so wait for it.
    scan = await scanning;
  }
  const trimmed = (from: string): string => trimmedFrom(from, mayRepeat.tidy ? emptyAsNull : trimmedValue);

  // 2. Bad rows: the rows the first write left out (none, usually), each with a flag per check
  // (k0, k1…) and its first failing check (none, for a held row that passes them all).
  // Told apart by line (the scan has checked the lines count up), so the checks run on
  // those rows alone; then every row read must be either loaded or here.
  const flags = checks.map((c, k) => `COALESCE(${c.condition}, FALSE) AS k${k}`);
  const firstFailure = checks.length
    ? `CASE ${checks.map((_c, k) => `WHEN k${k} THEN ${k}`).join(' ')} END`
    : 'CAST(NULL AS INTEGER)';
  const thisLoad = `load_id = ${quoteLiteral(ctx.loadId)}`;
  const leftOutCount = scan.rows - rowsLoaded;
  let leftOut = source
    ? `(SELECT s.* FROM ${source.sql} s WHERE NOT EXISTS ` +
      `(SELECT 1 FROM ${q(table)} d WHERE d.${thisLoad} AND d.source_line = ${line}))`
    : '';
  const rereadRows = !source || rereadsLeftOutRows(leftOutCount, scan.rows);
  if (rereadRows && leftOutCount > 0) {
    // A few rows left out: read just those again, from where the scan saw them, rather than
    // have the engine parse every column of every row once more to find them. (The screened
    // copy knows them already; otherwise the table says which rows it holds.)
    const loadedBits =
      loaded ??
      new Map(
        (await tx.query(loadedBlocksSql(q(table), thisLoad, 'source_line'))).map((r) => [
          num(r, 'block'),
          num(r, 'bits'),
        ]),
      );
    scratch.push(leftOutText);
    await tx.exec(
      `CREATE TABLE ${q(leftOutText)} (${plan.accepted.map((c) => `${q(c)} VARCHAR`).join(', ')})`,
    );
    await tx.insertRows(
      leftOutText,
      plan.accepted,
      leftOutRows(ctx.file, plan.accepted, scan.index, loadedBits),
    );
    leftOut = q(leftOutText);
  } else if (!source) {
    leftOut = `(SELECT ${plan.accepted.map((c) => `CAST(NULL AS VARCHAR) AS ${q(c)}`).join(', ')})`;
  }
  // With nothing left out the statement reads nothing and makes the empty table the steps
  // below expect; DuckDB's optimizer is what sees that, so it runs optimized.
  const badRows = (): Promise<void> =>
    tx.exec(
      `CREATE TABLE ${q(bad)} AS SELECT f.*, ${firstFailure} AS kernel_check FROM (` +
        `SELECT t.*${flags.map((f) => `, ${f}`).join('')} FROM ${trimmed(leftOut)} t` +
        `${leftOutCount > 0 ? '' : ' WHERE FALSE'}) f`,
    );
  await (leftOutCount > 0 ? unoptimized(badRows, smallFile || rereadRows) : badRows());
  const [setAside] = await tx.query(`SELECT count(*) AS n FROM ${q(bad)}`);
  if (rowsLoaded + num(setAside, 'n') !== scan.rows) {
    throw new KernelError(
      'internal',
      `The load could not account for every row: ${scan.rows} read, ${rowsLoaded} loaded, ${num(setAside, 'n')} set aside`,
      { hint: 'Nothing was loaded. Report this, with the load id, to the Kernel team' },
    );
  }

  // 3. Duplicates: rows whose values, each trimmed, are all equal to an earlier row's
  // (source_line aside). Every repeat was held back in step 0, so with the rows that failed
  // a check they are all here, among the rows set aside: none is among the rows loaded. A
  // hash aggregate over one digest per row finds candidate groups; only their rows are then
  // compared column by column, so a digest collision can never drop a row. Every copy after
  // the first is dropped: counted, never quarantined, never loaded.
  const digestOf = (alias: string) => tx.dialect.rowDigest(content.map((c) => `${alias}.${c}`));
  scratch.push(groups, dropped);
  await tx.exec(
    `CREATE TABLE ${q(groups)} AS SELECT ${digestOf('r')} AS kernel_digest FROM ${q(bad)} r ` +
      `GROUP BY ${digestOf('r')} HAVING count(*) > 1`,
  );
  // Joined on the digest first: IS NOT DISTINCT FROM alone cannot be hashed, and PostgreSQL
  // would compare every pair of candidates.
  const candidates = `(SELECT r.*, ${digestOf('r')} AS kernel_digest FROM ${q(bad)} r WHERE ${digestOf('r')} IN (SELECT kernel_digest FROM ${q(groups)}))`;
  await tx.exec(
    `CREATE TABLE ${q(dropped)} AS SELECT DISTINCT a.kernel_line FROM ${candidates} a JOIN ${candidates} b ` +
      `ON a.kernel_digest = b.kernel_digest AND ${content.map((c) => `a.${c} IS NOT DISTINCT FROM b.${c}`).join(' AND ')} AND b.kernel_line < a.kernel_line`,
  );
  const isCopy = `kernel_line IN (SELECT kernel_line FROM ${q(dropped)})`;
  // Completeness counts come from the scan, less what the dropped copies held.
  const [copies] = await tx.query(
    `SELECT count(*) AS n, min(kernel_line) AS first_line${plan.columns
      .map((c, i) => `, count(${q(c.name)}) AS c${i}`)
      .join('')} FROM ${q(bad)} WHERE ${isCopy}`,
  );
  await tx.run(`DELETE FROM ${q(bad)} WHERE ${isCopy}`);
  // The rows set aside that pass every check join the loaded rows: held rows that are no
  // repeats (and, should the scan ever read a row unlike the engine, a row that passes).
  if (tally?.any) {
    const later = await tx.query(`SELECT ${content.join(', ')} FROM ${q(bad)} WHERE kernel_check IS NULL`);
    for (const row of later) tally.addText(plan.columns.map((c) => (row[c.name] ?? null) as string | null));
  }
  rowsLoaded += await tx.run(
    `${insertInto}SELECT $1, $2, b.kernel_line, ${castColumns('b.')} FROM ${q(bad)} b WHERE b.kernel_check IS NULL`,
    [ctx.loadId, ctx.org],
  );
  await tx.run(`DELETE FROM ${q(bad)} WHERE kernel_check IS NULL`);
  const [totals] = await tx.query(
    `SELECT count(*) AS bad${checks
      .map(
        (_c: RowCheck, k) =>
          `, sum(CAST(k${k} AS INTEGER)) AS f${k}, min(CASE WHEN k${k} THEN kernel_line END) AS l${k}`,
      )
      .join('')} FROM ${q(bad)}`,
  );
  const rowsQuarantined = num(totals, 'bad');

  // 4. Findings and completeness.
  ctx.onProgress?.({ phase: 'write', done: 0, total: 1 });
  await source?.release();
  const rowsRead = scan.rows;
  const rowsDropped = num(copies, 'n');
  const kept = rowsRead - rowsDropped;
  const findings: LoadFinding[] = [];
  checks.forEach((c, k) => {
    const count = num(totals, `f${k}`);
    if (count > 0) findings.push({ rule: c.rule, field: c.field, count, firstLine: num(totals, `l${k}`) });
  });
  if (rowsDropped > 0) {
    findings.push({
      rule: 'duplicate',
      field: null,
      count: rowsDropped,
      firstLine: num(copies, 'first_line'),
    });
  }
  const nhsProblems = Object.values(ctx.manifest.nhsNumberProblems);
  const nhsCount = nhsProblems.reduce((sum, p) => sum + (p?.count ?? 0), 0);
  if (nhsCount > 0) {
    const nhsLines = nhsProblems.map((p) => p?.firstLine).filter((l): l is number => typeof l === 'number');
    findings.push({
      rule: 'nhs-number',
      field: ctx.manifest.nhsNumberField,
      count: nhsCount,
      firstLine: nhsLines.length ? Math.min(...nhsLines) : null,
    });
  }
  // Reconciliation with the sender's own totals (issue 16), where the manifest carries them.
  const sent = ctx.manifest.controlTotals;
  if (sent?.rows !== undefined && sent.rows !== rowsRead) {
    findings.push({
      rule: 'control-total',
      field: null,
      count: Math.abs(sent.rows - rowsRead),
      firstLine: null,
      expected: sent.rows,
      actual: rowsRead,
    });
  }
  for (const [field, expected] of Object.entries(sent?.sums ?? {})) {
    const column = plan.columns.find((c) => c.name === field);
    if (!column) {
      findings.push({ rule: 'control-total', field, count: 1, firstLine: null, expected, actual: 0 });
      continue;
    }
    // The rows loaded hold the file's values as typed; quarantined rows are not counted in.
    const [sum] = await tx.query<{ total: number | null }>(
      `SELECT sum(CAST(${q(field)} AS DOUBLE PRECISION)) AS total FROM ${q(table)} WHERE load_id = $1`,
      [ctx.loadId],
    );
    const actual = Math.round(Number(sum?.total ?? 0) * 100) / 100;
    if (Math.abs(actual - expected) > 0.005) {
      findings.push({ rule: 'control-total', field, count: 1, firstLine: null, expected, actual });
    }
  }
  // Distinct patients in the rows loaded, against the sender's count of its extract's.
  const personColumn = plan.columns.find((c) => c.kind === 'token' && c.tokenKind === 'nhs-number');
  if (sent?.distinctPeople !== undefined && personColumn) {
    const [people] = await tx.query<{ n: number }>(
      `SELECT count(DISTINCT ${q(personColumn.name)}) AS n FROM ${q(table)} WHERE load_id = $1`,
      [ctx.loadId],
    );
    const actual = Number(people?.n ?? 0);
    if (actual !== sent.distinctPeople) {
      findings.push({
        rule: 'control-total',
        field: `distinct:${personColumn.name}`,
        count: Math.abs(actual - sent.distinctPeople),
        firstLine: null,
        expected: sent.distinctPeople,
        actual,
      });
    }
  }
  // Rows by month of a date field, against the sender's counts.
  if (sent?.byMonth) {
    const field = sent.byMonth.field;
    const column = plan.columns.find((c) => c.name === field && c.type === 'date');
    const counted = new Map<string, number>();
    if (column) {
      const rows = await tx.query<{ y: number; m: number; n: number }>(
        `SELECT CAST(EXTRACT(YEAR FROM ${q(field)}) AS INTEGER) AS y, CAST(EXTRACT(MONTH FROM ${q(field)}) AS INTEGER) AS m, count(*) AS n
           FROM ${q(table)} WHERE load_id = $1 AND ${q(field)} IS NOT NULL GROUP BY 1, 2`,
        [ctx.loadId],
      );
      for (const r of rows) counted.set(`${r.y}-${String(r.m).padStart(2, '0')}`, Number(r.n));
    }
    const months = new Set([...Object.keys(sent.byMonth.rows), ...counted.keys()]);
    for (const month of [...months].sort()) {
      const expected = sent.byMonth.rows[month] ?? 0;
      const actual = counted.get(month) ?? 0;
      if (!column || expected !== actual) {
        findings.push({
          rule: 'control-total',
          field: `month:${month}:${field}`,
          count: Math.abs(actual - expected),
          firstLine: null,
          expected,
          actual,
        });
      }
    }
  }
  const completeness: FieldCompleteness[] = plan.columns.map((c, k) => {
    const filled = (scan.filled[k] ?? 0) - num(copies, `c${k}`);
    return { field: c.name, filled, percent: kept > 0 ? Math.round((filled * 1000) / kept) / 10 : 0 };
  });

  // 5. Bad rows, as the warehouse would hold them, with the rule and field they failed first.
  if (rowsQuarantined > 0) {
    const firstFailed = (of: (c: RowCheck) => string): string =>
      `CASE kernel_check ${checks.map((c, k) => `WHEN ${k} THEN ${quoteLiteral(of(c))}`).join(' ')} END`;
    const rowJson = tx.dialect.rowJson(plan.columns.map((c) => ({ name: c.name, value: `b.${q(c.name)}` })));
    await tx.run(
      `INSERT INTO load_quarantine (load_id, source_line, rule, field, row_json) ` +
        `SELECT $1, b.kernel_line, ${firstFailed((c) => c.rule)}, ${firstFailed((c) => c.field)}, ${rowJson} ` +
        `FROM ${q(bad)} b`,
      [ctx.loadId],
    );
  }
  for (const name of scratch.reverse()) await tx.exec(`DROP TABLE IF EXISTS ${q(name)}`);

  // Supersede the previous load of the same feed, atomically with this one.
  const previous = await tx.query<{ load_id: string }>(
    "SELECT load_id FROM loads WHERE org_code = $1 AND dataset_id = $2 AND period = $3 AND status = 'loaded' AND load_id <> $4",
    [ctx.org, plan.spec.id, ctx.period, ctx.loadId],
  );
  const supersedes = previous.map((p) => p.load_id);
  // Rows an earlier failed attempt at this feed may have left (see removeRowsOfLoad) go too,
  // so a reload always leaves the month counted once.
  const failedBefore = await tx.query<{ load_id: string }>(
    "SELECT load_id FROM loads WHERE org_code = $1 AND dataset_id = $2 AND period = $3 AND status IN ('failed', 'refused')",
    [ctx.org, plan.spec.id, ctx.period],
  );
  for (const failed of failedBefore) await removeRowsOfLoad(tx, failed.load_id, plan.spec.id);
  for (const old of supersedes) {
    // Whose rows these were, for a consumer that rebuilds only the people whose inputs changed.
    await recordSupersededPeople(tx, { table, loadId: old, supersededBy: ctx.loadId, dataset: plan.spec.id });
    await tx.run(`DELETE FROM ${q(table)} WHERE load_id = $1`, [old]);
    await tx.run("UPDATE loads SET status = 'superseded', superseded_by = $2 WHERE load_id = $1", [
      old,
      ctx.loadId,
    ]);
  }
  // The month's linkage encodings become this load's (or none), with it or not at all.
  if (ctx.linkage) {
    await replaceEncodingsOfLoad(tx, {
      org: ctx.org,
      dataset: plan.spec.id,
      period: ctx.period,
      loadId: ctx.loadId,
      actor: ctx.actor,
      ...ctx.linkage,
    });
  }

  // The month's profile, for the check catalogue (src/quality/), in this same transaction.
  const profile = await profileLoad(tx, {
    plan,
    table,
    loadId: ctx.loadId,
    rowsRead,
    rowsKept: kept,
    rowsLoaded,
    findings,
    completeness,
    ...(tally?.any ? { tallied: tally.result() } : {}),
  });
  await storeProfile(tx, ctx.loadId, profile);

  const seconds = ctx.elapsed();
  await tx.run(
    `UPDATE loads SET status = 'loaded', finished_at = $2, rows_read = $3, rows_loaded = $4, rows_quarantined = $5,
       rows_dropped = $6, seconds = $7, report = $8 WHERE load_id = $1`,
    [
      ctx.loadId,
      new Date().toISOString(),
      rowsRead,
      rowsLoaded,
      rowsQuarantined,
      rowsDropped,
      seconds,
      storedReport({ findings, completeness, supersedes }),
    ],
  );
  const entries = [
    {
      actor: ctx.actor,
      action: 'load.completed',
      target: ctx.loadId,
      details: {
        org: ctx.org,
        dataset: plan.spec.id,
        period: ctx.period,
        sha256: scan.sha256,
        rowsRead,
        rowsLoaded,
        rowsQuarantined,
        rowsDropped,
        supersedes,
        keyId: ctx.manifest.keyId,
        pseudonymisedInProcess: ctx.pseudonymisedInProcess,
      },
    },
  ];
  if (ctx.pseudonymisedInProcess) {
    entries.push({
      ...entries[0]!,
      action: 'load.pseudonymised-in-process',
      details: {
        org: ctx.org,
        dataset: plan.spec.id,
        period: ctx.period,
      } as (typeof entries)[number]['details'],
    });
  }
  await appendAudit(tx, entries);
  ctx.onProgress?.({ phase: 'commit', done: 0, total: 1 });
  return { rowsRead, rowsLoaded, rowsQuarantined, rowsDropped, findings, seconds };
}

/** Loads one feed file; the dataset comes from the catalogue. See the top of this file. */
export async function loadFeed(
  store: Store,
  request: LoadRequest,
  onProgress?: (progress: LoadProgress) => void,
): Promise<LoadReport> {
  return loadFeedWith(catalogueSpecs, store, request, onProgress);
}
