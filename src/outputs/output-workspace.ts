/**
 * The workspace an output request's query runs in: the analyst's own views, with every token
 * and every record key already replaced by the use case's pseudonym (HMAC-SHA256 under its
 * key, RFC 2104, computed in SQL as the governed reads compute it for aggregate-only roles).
 *
 * Why at the source rather than on the result: a result column does not say where its values
 * came from. `upper(person_token)`, `person_token || 'x'`, `substr(EC_Ident, 2)` or a token
 * used as an aggregate's row label all carry a warehouse identifier out under another shape
 * or name. When the views themselves hold pseudonyms, whatever the query derives from a token
 * or a record key is derived from the pseudonym, so nothing in the file can match a warehouse
 * token or another use case's file, whatever SQL made it.
 */
import { getDataset } from '../catalogue/catalogue.ts';
import { KernelError } from '../errors.ts';
import { columnRoles } from '../governance/datasets.ts';
import type { Dialect } from '../store/dialect.ts';
import { quoteIdentifier } from '../store/sql.ts';

/** What this needs of a workspace view (src/workspace/workspace-plan.ts `WorkspaceView`). */
export interface ViewForOutput {
  kind: 'dataset' | 'kid';
  datasetId: string;
  sql: string;
  columns: string[];
  kid?: { lineage: string[] };
}

/** A token column by the warehouse's naming rule (person_token, mother_person_token, uprn_token…). */
const TOKEN_NAME = /(^|_)token$/i;

/**
 * The columns of a view that identify a person or a record: each token column and each record
 * key its dataset's specification declares (for a KID view, those of every dataset it derives from).
 */
export function identifyingColumns(view: ViewForOutput): string[] {
  const datasets = view.kind === 'kid' ? (view.kid?.lineage ?? []) : [view.datasetId];
  const declared = new Set<string>();
  for (const id of datasets) {
    const roles = columnRoles(getDataset(id));
    for (const name of [...roles.tokens, ...roles.recordKeys]) declared.add(name.toLowerCase());
  }
  return view.columns.filter((c) => TOKEN_NAME.test(c) || declared.has(c.toLowerCase()));
}

/** The view with its identifying columns replaced by the use case's pseudonyms, all else as it was. */
export function pseudonymisedView<V extends ViewForOutput>(view: V, useCaseKey: string, dialect: Dialect): V {
  if (!/^[0-9a-f]{32}$/.test(useCaseKey)) throw new KernelError('internal', 'A use case key is malformed');
  const columns = identifyingColumns(view);
  if (columns.length === 0) return view;
  const replaced = columns
    .map(
      (c) =>
        `${dialect.hmacSha256Hex(useCaseKey, `CAST(v.${quoteIdentifier(c)} AS TEXT)`)} AS ${quoteIdentifier(c)}`,
    )
    .join(', ');
  return { ...view, sql: `(SELECT * REPLACE (${replaced}) FROM ${view.sql} AS v)` };
}
