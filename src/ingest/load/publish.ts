/**
 * Stage 6 of the load, last in its transaction: the load becomes the month's. The previous
 * load of the same organisation, dataset and period is superseded (its rows deleted, its
 * people recorded), rows an earlier failed attempt left are removed, the month's linkage
 * encodings become this load's, its profile is stored, its `loads` row says `loaded` with
 * its report, and the audit log records it. All of it commits with the rows, or none does.
 */
import { appendAudit } from '../../audit/audit-log.ts';
import { replaceEncodingsOfLoad } from '../../linkage/linkage-store.ts';
import type { FeedManifest } from '../../privacy/manifest.ts';
import { profileLoad, storeProfile } from '../../quality/load-profile.ts';
import type { ProfileTally } from '../../quality/profile-tally.ts';
import { quoteIdentifier as q } from '../../store/sql.ts';
import { removeRowsOfLoad, storedReport } from '../load-history.ts';
import { recordSupersededPeople } from '../superseded-people.ts';
import type { LoadFindings } from './findings.ts';
import type { LoadStage } from './load-stage.ts';

/**
 * For a dataset linked by encodings (`linkageEncoding`): the linkage file the signed
 * manifest names, checked against its SHA-256, or null when the feed came without one.
 */
export interface LinkageFile {
  file: string | null;
  expected?: { rows: number; secretId: string };
}

export interface LoadToPublish extends LoadFindings {
  rowsLoaded: number;
  rowsQuarantined: number;
  rowsDropped: number;
  /** the file's SHA-256, as the scan found it */
  sha256: string;
  manifest: Pick<FeedManifest, 'keyId'>;
  actor: string;
  pseudonymisedInProcess: boolean;
  linkage: LinkageFile | undefined;
  tally: ProfileTally | undefined;
  /** the load's seconds so far, for its record */
  elapsed: () => number;
}

/** Publishes the load; answers the seconds it records and the loads it superseded. */
export async function publishLoad(
  stage: LoadStage,
  load: LoadToPublish,
): Promise<{ seconds: number; supersedes: string[] }> {
  const { tx, plan, table, loadId, org, period } = stage;
  const { rowsRead, rowsLoaded, rowsQuarantined, rowsDropped, findings, completeness } = load;
  // Supersede the previous load of the same feed, atomically with this one.
  const previous = await tx.query<{ load_id: string }>(
    "SELECT load_id FROM loads WHERE org_code = $1 AND dataset_id = $2 AND period = $3 AND status = 'loaded' AND load_id <> $4",
    [org, plan.spec.id, period, loadId],
  );
  const supersedes = previous.map((p) => p.load_id);
  // Rows an earlier failed attempt at this feed may have left (see removeRowsOfLoad) go too,
  // so a reload always leaves the month counted once.
  const failedBefore = await tx.query<{ load_id: string }>(
    "SELECT load_id FROM loads WHERE org_code = $1 AND dataset_id = $2 AND period = $3 AND status IN ('failed', 'refused')",
    [org, plan.spec.id, period],
  );
  for (const failed of failedBefore) await removeRowsOfLoad(tx, failed.load_id, plan.spec.id);
  for (const old of supersedes) {
    // Whose rows these were, for a consumer that rebuilds only the people whose inputs changed.
    await recordSupersededPeople(tx, { table, loadId: old, supersededBy: loadId, dataset: plan.spec.id });
    await tx.run(`DELETE FROM ${q(table)} WHERE load_id = $1`, [old]);
    await tx.run("UPDATE loads SET status = 'superseded', superseded_by = $2 WHERE load_id = $1", [
      old,
      loadId,
    ]);
  }
  // The month's linkage encodings become this load's (or none), with it or not at all.
  if (load.linkage) {
    await replaceEncodingsOfLoad(tx, {
      org,
      dataset: plan.spec.id,
      period,
      loadId,
      actor: load.actor,
      ...load.linkage,
    });
  }

  // The month's profile, for the check catalogue (src/quality/), in this same transaction.
  const profile = await profileLoad(tx, {
    plan,
    table,
    loadId,
    rowsRead,
    rowsKept: load.rowsKept,
    rowsLoaded,
    findings,
    completeness,
    ...(load.tally?.any ? { tallied: load.tally.result() } : {}),
  });
  await storeProfile(tx, loadId, profile);

  const seconds = load.elapsed();
  await tx.run(
    `UPDATE loads SET status = 'loaded', finished_at = $2, rows_read = $3, rows_loaded = $4, rows_quarantined = $5,
       rows_dropped = $6, seconds = $7, report = $8 WHERE load_id = $1`,
    [
      loadId,
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
      actor: load.actor,
      action: 'load.completed',
      target: loadId,
      details: {
        org,
        dataset: plan.spec.id,
        period,
        sha256: load.sha256,
        rowsRead,
        rowsLoaded,
        rowsQuarantined,
        rowsDropped,
        supersedes,
        keyId: load.manifest.keyId,
        pseudonymisedInProcess: load.pseudonymisedInProcess,
      },
    },
  ];
  if (load.pseudonymisedInProcess) {
    entries.push({
      ...entries[0]!,
      action: 'load.pseudonymised-in-process',
      details: {
        org,
        dataset: plan.spec.id,
        period,
      } as (typeof entries)[number]['details'],
    });
  }
  await appendAudit(tx, entries);
  return { seconds, supersedes };
}
