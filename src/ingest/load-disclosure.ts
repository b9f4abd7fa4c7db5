import {
  controlCount,
  controlCounts,
  metadataPolicyFor,
  type ControlledCount,
  type DisclosurePolicy,
  type Viewer,
} from '../analytics/disclosure-control.ts';
import type { LoadDetails } from './load-history.ts';

const LOAD_COUNTS = ['rowsRead', 'rowsLoaded', 'rowsRejected', 'rowsQuarantined', 'rowsDropped'] as const;

type LoadCount = (typeof LOAD_COUNTS)[number];

/** A load report as a viewer may see it: every count of rows under disclosure control. */
export type ControlledLoad = Omit<LoadDetails, LoadCount | 'findings' | 'completeness'> &
  Record<LoadCount, ControlledCount> & {
    findings: (Omit<LoadDetails['findings'][number], 'count'> & { count: ControlledCount })[];
    completeness: { field: string; filled: ControlledCount; percent: number | '*' }[];
    /**
     * every row read was loaded, quarantined or dropped: judged on the true counts, before
     * disclosure control, so a page shows the verdict and never works it from controlled counts
     */
    reconciles: boolean;
    /** the rule applied, so a page can say it */
    disclosure: DisclosurePolicy['id'];
  };

/**
 * Load metadata under disclosure control (issue 23, H1): rows read, loaded, quarantined and
 * dropped, each finding's count and each field's filled count (of the rows loaded or
 * quarantined) are counts of patients' records, so a viewer who may not see the
 * organisation's figures exactly sees them as the dashboards do. A field's percentage is worked from the controlled counts, so it cannot be
 * used to recover what the rounding hid.
 */
export function controlLoad(load: LoadDetails, viewer: Viewer): ControlledLoad {
  const policy = metadataPolicyFor(viewer, load.org);
  // A field's filled count covers every row kept, loaded or quarantined (the copies dropped
  // are not counted), so its share is of those rows: of the rows loaded alone it could pass 100%.
  const kept = controlCount(load.rowsLoaded + load.rowsQuarantined, policy);
  return {
    ...controlCounts(load, LOAD_COUNTS, policy),
    findings: load.findings.map((f) => ({ ...f, count: controlCount(f.count, policy) })),
    completeness: load.completeness.map((c) => {
      const filled = controlCount(c.filled, policy);
      return {
        field: c.field,
        filled,
        percent:
          policy.id === 'none'
            ? c.percent
            : filled === '*' || kept === '*'
              ? '*'
              : kept === 0
                ? 0
                : Math.min(100, Math.round((filled / kept) * 100)),
      };
    }),
    reconciles: load.rowsRead === load.rowsLoaded + load.rowsQuarantined + load.rowsDropped,
    disclosure: policy.id,
  };
}
