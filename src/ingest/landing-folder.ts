/**
 * The landing folder (issue 16: feeds that arrive by themselves): a member's agent, or a file
 * transfer, drops a pseudonymised file and its signed manifest into a folder the server
 * watches (`kernel serve --landing DIR`). Each pair is loaded once through the same
 * `loadFeed` as `kernel load` — the manifest names the organisation and dataset, and its
 * signature must verify with that organisation's trusted key — then moved to `done/` or
 * `failed/` with its report beside it (`NAME.report.json`).
 *
 * A file still being written is never picked up: a pair is loaded only when neither file has
 * changed size or time since the sweep before (so at least one sweep interval apart), and
 * names a transfer uses while writing (`.part`, `.tmp`, `.partial`, dot files) are left alone.
 *
 * A manifest may name a linkage file (`kernel deid --linkage-secret`: `NAME.linkage.csv`,
 * issue 14). It is no feed of its own: it waits with its pair (the pair settles only when it
 * has settled too), the load reads it beside the feed, and it moves with the pair.
 */
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { errorBody, KernelError } from '../errors.ts';
import { manifestPathFor } from '../privacy/manifest.ts';
import type { Store } from '../store/store.ts';
import { LoadRefusedError, loadFeed } from './load-feed.ts';
import { reportJson } from './load-history.ts';

export interface LandingOutcome {
  /** the data file's name in the landing folder */
  file: string;
  /** loaded, duplicate or refused (a report), or failed (no load: the pair could not be read) */
  status: 'loaded' | 'duplicate' | 'refused' | 'failed';
  loadId: string | null;
  /** where the pair went: `done` or `failed` */
  movedTo: 'done' | 'failed';
  /** the name it was kept under there: `file`, or `NAME-2.EXT`… when an earlier pair had that name */
  keptAs: string;
}

/**
 * Makes the landing folder `dir` (owner-only) if it is missing, and refuses a path that is no
 * folder, or one that cannot be made: checked before the server starts, so a mistake in
 * `--landing` stops `kernel serve` instead of leaving it serving with no folder watched.
 */
export function prepareLandingFolder(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTDIR') {
      throw new KernelError('usage', `The landing folder ${dir} is a file, not a folder`, {
        where: { field: 'landing' },
        hint: 'Give --landing a folder (it is made if missing), not a file',
      });
    }
    throw new KernelError('config', `The landing folder ${dir} cannot be made (${code ?? 'unknown error'})`, {
      where: { field: 'landing' },
      hint: 'Give --landing a folder this account may write to',
      cause: error,
    });
  }
}

/** What a landing folder remembers between sweeps: each waiting pair's size and time. */
export type LandingMemory = Map<string, string>;

const IN_FLIGHT = /(^\.)|\.(part|partial|tmp|filepart)$/i;

/**
 * One sweep of `dir`: every settled pair is loaded and moved; every new or changing one is
 * remembered for the next sweep. Answers what was done, in name order.
 */
export async function sweepLandingFolder(
  store: Store,
  dir: string,
  memory: LandingMemory,
  actor = `landing:${path.basename(dir)}`,
): Promise<LandingOutcome[]> {
  const names = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && !IN_FLIGHT.test(e.name) && !e.name.endsWith('.manifest.json'))
    .filter((e) => !e.name.endsWith('.report.json') && !e.name.endsWith('.linkage.csv'))
    .map((e) => e.name)
    .sort();
  const outcomes: LandingOutcome[] = [];
  for (const name of names) {
    const file = path.join(dir, name);
    const manifest = manifestPathFor(file);
    const stamp = stampOf(file, manifest);
    if (stamp === null) continue; // no manifest yet, or the pair moved meanwhile
    if (memory.get(name) !== stamp) {
      memory.set(name, stamp);
      continue;
    }
    memory.delete(name);
    outcomes.push(await landOne(store, dir, name, actor));
  }
  // Forget pairs that went away without being loaded.
  for (const name of memory.keys()) if (!names.includes(name)) memory.delete(name);
  return outcomes;
}

function stampOf(file: string, manifest: string): string | null {
  try {
    const [a, b] = [statSync(file), statSync(manifest)];
    const sidecar = linkageSidecarOf(file);
    const c = sidecar ? statSync(sidecar) : undefined;
    return `${a.size}:${a.mtimeMs}|${b.size}:${b.mtimeMs}${c ? `|${c.size}:${c.mtimeMs}` : ''}`;
  } catch {
    return null;
  }
}

/** The linkage file the pair's manifest names, where it is beside the feed file; else undefined. */
function linkageSidecarOf(file: string): string | undefined {
  let named: unknown;
  try {
    named = (JSON.parse(readFileSync(manifestPathFor(file), 'utf8')) as { linkage?: { file?: unknown } })
      .linkage?.file;
  } catch {
    return undefined;
  }
  if (typeof named !== 'string' || named !== path.basename(named)) return undefined;
  const sidecar = path.join(path.dirname(file), named);
  return existsSync(sidecar) ? sidecar : undefined;
}

async function landOne(store: Store, dir: string, name: string, actor: string): Promise<LandingOutcome> {
  const file = path.join(dir, name);
  let report: unknown;
  let outcome: Omit<LandingOutcome, 'movedTo' | 'keptAs'>;
  try {
    const manifest = readManifestHeader(manifestPathFor(file));
    const loaded = await loadFeed(store, {
      org: manifest.organisation,
      dataset: manifest.dataset,
      file,
      actor,
      displayName: name,
    });
    report = reportJson(loaded);
    outcome = { file: name, status: loaded.status, loadId: loaded.loadId };
  } catch (error) {
    if (error instanceof LoadRefusedError) {
      report = reportJson(error.report, error);
      outcome = { file: name, status: 'refused', loadId: error.report.loadId };
    } else if (error instanceof KernelError) {
      report = errorBody(error);
      outcome = { file: name, status: 'failed', loadId: null };
    } else {
      throw error;
    }
  }
  const movedTo = outcome.status === 'loaded' || outcome.status === 'duplicate' ? 'done' : 'failed';
  const into = path.join(dir, movedTo);
  mkdirSync(into, { recursive: true, mode: 0o700 });
  const sidecar = linkageSidecarOf(file);
  const kept = freeNames(into, name, sidecar && path.basename(sidecar));
  if (sidecar && kept.sidecar) renameSync(sidecar, path.join(into, kept.sidecar));
  renameSync(file, path.join(into, kept.file));
  renameSync(manifestPathFor(file), manifestPathFor(path.join(into, kept.file)));
  writeFileSync(path.join(into, `${kept.file}.report.json`), `${JSON.stringify(report, null, 2)}\n`, {
    mode: 0o600,
  });
  return { ...outcome, movedTo, keptAs: kept.file };
}

/**
 * The names a pair is kept under in `into`: its own, or, when a pair sent earlier under the
 * same name is there (a month sent again, a resend after a refusal), `NAME-2.EXT`, `NAME-3.EXT`…
 * for the file and its linkage file alike, so no earlier pair or report is ever overwritten.
 * The manifest inside still names the file as it was sent.
 */
function freeNames(
  into: string,
  file: string,
  sidecar: string | undefined,
): { file: string; sidecar?: string } {
  const numbered = (name: string, n: number) => {
    if (n === 1) return name;
    const { name: stem, ext } = path.parse(name);
    return `${stem}-${n}${ext}`;
  };
  for (let n = 1; ; n++) {
    const candidate = { file: numbered(file, n), ...(sidecar ? { sidecar: numbered(sidecar, n) } : {}) };
    const taken = [
      candidate.file,
      path.basename(manifestPathFor(candidate.file)),
      `${candidate.file}.report.json`,
      ...(candidate.sidecar ? [candidate.sidecar] : []),
    ].some((name) => existsSync(path.join(into, name)));
    if (!taken) return candidate;
  }
}

/** The manifest's organisation and dataset; the load itself verifies the rest and its signature. */
function readManifestHeader(file: string): { organisation: string; dataset: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new KernelError('invalid-input', 'The manifest is not JSON', {
      where: { file: path.basename(file) },
      hint: 'Send the manifest kernel deid wrote beside the file',
    });
  }
  const m = parsed as { organisation?: unknown; dataset?: unknown };
  if (typeof m.organisation !== 'string' || typeof m.dataset !== 'string') {
    throw new KernelError('invalid-input', 'The manifest names no organisation or dataset', {
      where: { file: path.basename(file) },
      hint: 'Send the manifest kernel deid wrote beside the file',
    });
  }
  return { organisation: m.organisation, dataset: m.dataset };
}
