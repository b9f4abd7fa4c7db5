/**
 * A load's row in `loads`, outside its transaction: the `running` record committed on its
 * own before the load's transaction opens, so that a load killed at any moment leaves exactly
 * a failed-load record (see markStaleLoads); and what an attempt that failed or was refused
 * leaves: that row marked, or (refused before it began) a `refused` row of its own, each with
 * its audit event. The rows a failed attempt wrote went with its transaction. The row of a
 * load that commits is written by publish.ts, in the load's transaction.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { appendAudit } from '../../audit/audit-log.ts';
import { KernelError } from '../../errors.ts';
import type { FeedManifest } from '../../privacy/manifest.ts';
import type { Store } from '../../store/store.ts';
import { markStaleLoads, noteLoadHistoryChanged, type LoadReport } from '../load-history.ts';

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

/** A refusal of the file (the sender's to fix), not a failure of the warehouse. */
function isRefusal(failure: KernelError): boolean {
  return failure.code !== 'internal' && failure.code !== 'store' && failure.code !== 'busy';
}

/**
 * Commits the `running` row of the load `report` names (its id, organisation, dataset, file
 * and SHA-256) for the file `manifest` describes, first marking any stale `running` load
 * failed (markStaleLoads).
 */
export async function recordRunning(
  store: Store,
  report: LoadReport,
  manifest: FeedManifest,
  actor: string,
): Promise<void> {
  await store.transaction(async (tx) => {
    await markStaleLoads(tx);
    await tx.run(
      `INSERT INTO loads (load_id, org_code, dataset_id, period, file_name, sha256, status, started_at, actor, host, pid, spec_version, key_id, signing_key_id,
                          lsoa_vintage, imd_version)
       VALUES ($1, $2, $3, $4, $5, $6, 'running', $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
      [
        report.loadId,
        report.org,
        report.dataset,
        manifest.period,
        report.file,
        report.sha256,
        new Date().toISOString(),
        actor,
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
}

/**
 * Records an attempt that threw `error`: load `loadId`'s `running` row marked refused or
 * failed; or, with no load begun (`loadId` null) and the file refused (unsigned, altered,
 * mis-addressed), a `refused` row under a new load id, set on `report`, so the programme
 * sees every file that was turned away. Answers what to throw: a refusal as a
 * LoadRefusedError with `report`, anything else as it was thrown.
 */
export async function recordFailedAttempt(
  store: Store,
  loadId: string | null,
  report: LoadReport,
  error: unknown,
  actor: string,
): Promise<unknown> {
  const failure =
    error instanceof KernelError
      ? error
      : new KernelError('internal', 'The load failed', {
          cause: error,
          hint: 'Run again with --debug to see why',
        });
  if (loadId !== null) await recordFailure(store, loadId, failure, actor, report.org, report.dataset);
  else if (isRefusal(failure)) {
    report.loadId = newLoadId();
    await recordEarlyRefusal(store, report, failure, actor);
  }
  return isRefusal(failure) ? new LoadRefusedError(failure, report) : error;
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
  const refused = isRefusal(failure);
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
