/**
 * Records that someone viewed figures built from warehouse data, durably, without making
 * every view wait for its own write transaction.
 *
 * Group commit (the technique databases use for their own logs): views that arrive while a
 * write is in flight join the next batch; one transaction appends the whole batch to the
 * audit chain (`appendAudit` with many entries) and to the per-controller access log
 * (`data_access_log`, which each controller's IG lead reads). Every caller's promise
 * resolves only after the batch holding its event has committed, so a view is never
 * answered before it is on the record — and under load, twenty views cost one
 * transaction instead of twenty.
 */
import { randomUUID } from 'node:crypto';
import { appendAudit, type AuditEntry } from './audit-log.ts';
import type { SqlValue, Store } from '../store/store.ts';

export interface ViewRecord {
  audit: AuditEntry;
  /** one row per controller and dataset whose data the figures hold */
  access: {
    userId: string;
    role: string;
    useCaseId: string;
    datasetId: string;
    org: string;
    optOutApplied: boolean;
  }[];
}

interface Pending {
  record: ViewRecord;
  done: () => void;
  failed: (error: unknown) => void;
}

/** The columns of `data_access_log`, in the order every writer of it gives them. */
export const ACCESS_COLUMNS = [
  'access_id',
  'accessed_at',
  'user_id',
  'user_role',
  'use_case_id',
  'dataset_id',
  'org_code',
  'opt_out_applied',
];

export class ViewRecorder {
  private pending: Pending[] = [];
  private flushing: Promise<void> | null = null;

  constructor(private readonly store: Store) {}

  /** Resolves once the view is committed to the audit chain and the access log. */
  record(record: ViewRecord): Promise<void> {
    return new Promise<void>((done, failed) => {
      this.pending.push({ record, done, failed });
      if (!this.flushing) this.flushing = this.flushLoop();
    });
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending;
        this.pending = [];
        try {
          await this.store.transaction(async (tx) => {
            await appendAudit(
              tx,
              batch.map((p) => p.record.audit),
            );
            const at = new Date().toISOString();
            const rows: SqlValue[][] = [];
            for (const p of batch) {
              const accessId = randomUUID();
              for (const a of p.record.access) {
                rows.push([accessId, at, a.userId, a.role, a.useCaseId, a.datasetId, a.org, a.optOutApplied]);
              }
            }
            if (rows.length > 0) await tx.insertRows('data_access_log', ACCESS_COLUMNS, rows);
          });
          for (const p of batch) p.done();
        } catch (error) {
          for (const p of batch) p.failed(error);
        }
      }
    } finally {
      this.flushing = null;
    }
  }
}

const recorders = new WeakMap<Store, ViewRecorder>();

/** The recorder for a store: one per open store, so batches never mix stores. */
export function viewRecorder(store: Store): ViewRecorder {
  let recorder = recorders.get(store);
  if (!recorder) recorders.set(store, (recorder = new ViewRecorder(store)));
  return recorder;
}
