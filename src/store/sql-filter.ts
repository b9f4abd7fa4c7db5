import type { SqlValue } from './store.ts';

/**
 * A WHERE clause built from optional filters, numbering its `$n` parameters as it goes:
 *
 *   const filter = new SqlFilter();
 *   if (year) filter.add('financial_year = ?', year);
 *   await q.query(`SELECT * FROM invoices ${filter.where()} ORDER BY …`, filter.params);
 */
export class SqlFilter {
  readonly params: SqlValue[] = [];
  private readonly clauses: string[] = [];

  /** Adds `condition`, whose one `?` stands for `value`. */
  add(condition: string, value: SqlValue): this {
    this.params.push(value);
    this.clauses.push(condition.replace('?', `$${this.params.length}`));
    return this;
  }

  /** The next parameter's placeholder, for a value added after the filters (e.g. LIMIT). */
  next(value: SqlValue): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  where(): string {
    return this.clauses.length ? `WHERE ${this.clauses.join(' AND ')}` : '';
  }
}
