import type { Store } from '../store/store.ts';
import { looksLikeIdentifier } from './audit-log.ts';
import { viewRecorder } from './view-audit.ts';

/** What a person read about the data rather than the data: loads, coverage, linkage, updates. */
export interface MetadataRead {
  actor: string;
  role: string;
  /** `loads`, `coverage`, `linkage`, `load:<id>` for one load's report, `update:<month>` for a monthly update */
  target: string;
  /** the filter asked for: organisation, dataset, months, status */
  filter: Record<string, string | undefined>;
  /** the disclosure rule the counts were shown under */
  disclosure: string;
}

/** Filter values are typed by the reader, so one could be an NHS number or a postcode. */
const SAFE_VALUE = /^[A-Za-z0-9 _.:-]{1,40}$/;

/**
 * Records a read of load metadata (issue 23, H1): counts of patients' records by
 * organisation and month are read under disclosure control and audited like the data they
 * describe. A filter value that could be an identifier is recorded as `(withheld)`, so
 * whatever a reader types never reaches the log.
 */
export async function auditMetadataRead(store: Store, read: MetadataRead): Promise<void> {
  const filter = Object.fromEntries(
    Object.entries(read.filter)
      .filter((entry): entry is [string, string] => typeof entry[1] === 'string' && entry[1] !== '')
      .map(([field, value]) => [
        field,
        SAFE_VALUE.test(value) && !looksLikeIdentifier(value) ? value : '(withheld)',
      ]),
  );
  // Group commit: concurrent reads share one transaction, and none is answered before its
  // record is committed (view-audit.ts).
  await viewRecorder(store).record({
    audit: {
      actor: read.actor,
      action: 'metadata.read',
      target: read.target,
      details: { role: read.role, disclosure: read.disclosure, ...filter },
    },
    access: [],
  });
}
