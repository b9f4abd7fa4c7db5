import { SqlFilter } from '../store/sql-filter.ts';
import { parseFinancialYear, parseOrgCode } from './governance-values.ts';

/** Which of the yearly records of members (subscriptions, invoices) to list; each part optional. */
export interface FinancialYearFilter<State extends string> {
  year?: string;
  org?: string;
  state?: State;
}

/** The WHERE clause of a table of yearly records: `financial_year`, `org_code` and `state`. */
export function financialYearFilter<State extends string>(filter: FinancialYearFilter<State>): SqlFilter {
  const sql = new SqlFilter();
  if (filter.year) sql.add('financial_year = ?', parseFinancialYear(filter.year));
  if (filter.org) sql.add('org_code = ?', parseOrgCode(filter.org));
  if (filter.state) sql.add('state = ?', filter.state);
  return sql;
}
