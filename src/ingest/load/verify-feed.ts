/**
 * The checks a feed passes before its load begins, and the one it passes as its scan ends:
 * the request (a month, a file that exists); a file with no manifest refused (unless it may
 * be pseudonymised here); the manifest against the request and its signature against the
 * organisation's trusted keys; the linkage file's SHA-256; a file already loaded (the same
 * SHA-256) found; and the scan's SHA-256 and row count against the manifest's. Each refusal
 * is a KernelError('refused') naming the file and what to do (docs/feeds.md, "The load,
 * stage by stage").
 */
import { closeSync, createReadStream, existsSync, openSync, readSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { DatasetSpec } from '../../catalogue/dataset-spec.ts';
import { KernelError } from '../../errors.ts';
import type { DeidPlan } from '../../privacy/deid-plan.ts';
import { manifestSignatureValid, type FeedManifest } from '../../privacy/manifest.ts';
import { parsePublicKey } from '../../privacy/signing-key.ts';
import type { Queryable, Store } from '../../store/store.ts';
import type { LoadReport } from '../load-history.ts';
import { scanFeedFile, type FeedScan } from '../scan-feed.ts';
import { trustedKeys } from '../trusted-keys.ts';
import type { LinkageFile } from './publish.ts';
import type { FeedToStage } from './stage-rows.ts';

const refuse = (message: string, file: string, hint: string, field?: string): KernelError =>
  new KernelError('refused', message, { where: { file, ...(field ? { field } : {}) }, hint });

/** A mistake in the request itself: a file that is not there, or not a file. */
export function checkRequest(file: string): void {
  if (!existsSync(file)) {
    throw new KernelError('not-found', `The file ${file} does not exist`, { hint: 'Check the path' });
  }
  // As `kernel deid --in` says it (csv-reader.ts): a folder is a mistake in the request, not a missing file.
  if (statSync(file).isDirectory()) {
    throw new KernelError('invalid-input', `${file} is a folder, not a file`, {
      where: { file },
      hint: 'Give the CSV file itself',
    });
  }
  if (!statSync(file).isFile()) {
    throw new KernelError('invalid-input', `${file} is not a regular file`, {
      where: { file },
      hint: 'Give the CSV file itself',
    });
  }
}

export async function sha256File(file: string): Promise<string> {
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

/** The refusal of a file sent with no manifest: unsigned, and saying so if its header names identifiers. */
export function unsignedFile(plan: DeidPlan, file: string, displayName: string): KernelError {
  const header = firstLineOf(file).split(',');
  const carriesIdentifiers = plan.identifierFields.filter((f) => header.includes(f));
  return refuse(
    carriesIdentifiers.length > 0
      ? `The file has no manifest and still carries identifiers (${carriesIdentifiers.join(', ')})`
      : 'The file has no manifest, so it is unsigned',
    displayName,
    'Run the extract through `kernel deid` and send its output with the .manifest.json written beside it',
  );
}

function manifestForAnotherFile(file: string): KernelError {
  return refuse(
    'The manifest is for another file: the file\u2019s SHA-256 is not the one the manifest records',
    file,
    'Send the file and the manifest `kernel deid` wrote together, unchanged',
  );
}

/** The manifest is for this organisation, dataset and (if asked) month, signed by a key trusted for the organisation. */
export async function verifyManifest(
  store: Store,
  manifest: FeedManifest,
  request: { org: string; spec: DatasetSpec; period: string | undefined; displayName: string },
): Promise<void> {
  checkManifestAgainstRequest(manifest, request.org, request.spec, request.period, request.displayName);
  await verifySignature(store, manifest, request.org, request.displayName);
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

/**
 * The linkage file a signed manifest names (`kernel deid --linkage-secret`), beside the feed
 * file: null when the manifest names none or it was not sent (the feed loads without
 * encodings); refused when it was sent altered (its SHA-256 is not the manifest's).
 */
export async function linkageFileOf(
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

/**
 * The load that already loaded the file `report` names (the organisation's, for the dataset,
 * with the same SHA-256), if one did: the one standing, else the latest. A load superseded
 * since counts too: an earlier file sent again would otherwise replace the newer load of its
 * month and put a signed-off or published month back to `loaded`. `unhashed` is a file whose
 * SHA-256 only its manifest gives: before a duplicate is answered it is hashed, so that a
 * manifest sent again beside another file is refused, not taken for the file it describes.
 */
export async function earlierLoadOf(
  q: Queryable,
  report: Pick<LoadReport, 'org' | 'dataset' | 'sha256' | 'file'>,
  unhashed?: string,
): Promise<string | null> {
  const [row] = await q.query<{ load_id: string }>(
    `SELECT load_id FROM loads
      WHERE org_code = $1 AND dataset_id = $2 AND sha256 = $3 AND status IN ('loaded', 'superseded')
      ORDER BY status = 'loaded' DESC, started_at DESC, load_id DESC LIMIT 1`,
    [report.org, report.dataset, report.sha256],
  );
  const duplicateOf = row?.load_id ?? null;
  if (duplicateOf && unhashed !== undefined && (await sha256File(unhashed)) !== report.sha256) {
    throw manifestForAnotherFile(report.file);
  }
  return duplicateOf;
}

/**
 * Starts the load's scan of `file` once, however often it is asked (the first write of the
 * rows asks as it begins its pass: stage-rows.ts), and refuses the file unless the scan finds
 * the one the manifest describes.
 */
export function scanAgainstManifest(
  file: string,
  plan: DeidPlan,
  feed: { manifest: FeedManifest; displayName: string; onProgress: (done: number, total: number) => void },
): FeedToStage['startScan'] {
  const total = statSync(file).size;
  let scanning: Promise<FeedScan> | undefined;
  return (options = {}) => {
    if (!scanning) {
      scanning = scanFeedFile(file, plan, {
        displayName: feed.displayName,
        onProgress: (done) => feed.onProgress(done, total),
        ...options,
      }).then((scan) => {
        checkScanAgainstManifest(scan, feed.manifest, feed.displayName);
        return scan;
      });
      scanning.catch(() => undefined);
    }
    return scanning;
  };
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
