/**
 * Stage 3 of the load: repeats. A repeat is a row whose values, each trimmed, are all equal
 * to an earlier row's (source_line aside). Every repeat was held back from the first write
 * (stage-rows.ts), so with the rows that failed a check they are all among the rows set
 * aside (set-aside.ts): none is among the rows loaded. A hash aggregate over one digest per
 * row finds candidate groups; only their rows are then compared column by column, so a
 * digest collision can never drop a row. Every copy after the first is dropped: counted,
 * never quarantined, never loaded.
 */
import { quoteIdentifier as q } from '../../store/sql.ts';
import { num, type LoadStage } from './load-stage.ts';

/** The copies dropped. */
export interface Repeats {
  rows: number;
  /** the line of the first copy (0 when none) */
  firstLine: number;
  /** per column of the plan, the values the copies filled (completeness leaves them out) */
  filled: number[];
}

/** Drops the copies from the rows set aside (`stage.scratch.bad`), and says what they were. */
export async function removeRepeats(stage: LoadStage): Promise<Repeats> {
  const { tx, content } = stage;
  const { bad, groups, dropped } = stage.scratch;
  const digestOf = (alias: string) => tx.dialect.rowDigest(content.map((c) => `${alias}.${c}`));
  stage.made.push(groups, dropped);
  await tx.exec(
    `CREATE TABLE ${q(groups)} AS SELECT ${digestOf('r')} AS kernel_digest FROM ${q(bad)} r ` +
      `GROUP BY ${digestOf('r')} HAVING count(*) > 1`,
  );
  // Joined on the digest first: IS NOT DISTINCT FROM alone cannot be hashed, and PostgreSQL
  // would compare every pair of candidates.
  const candidates = `(SELECT r.*, ${digestOf('r')} AS kernel_digest FROM ${q(bad)} r WHERE ${digestOf('r')} IN (SELECT kernel_digest FROM ${q(groups)}))`;
  await tx.exec(
    `CREATE TABLE ${q(dropped)} AS SELECT DISTINCT a.kernel_line FROM ${candidates} a JOIN ${candidates} b ` +
      `ON a.kernel_digest = b.kernel_digest AND ${content.map((c) => `a.${c} IS NOT DISTINCT FROM b.${c}`).join(' AND ')} AND b.kernel_line < a.kernel_line`,
  );
  const isCopy = `kernel_line IN (SELECT kernel_line FROM ${q(dropped)})`;
  // Completeness counts come from the scan, less what the dropped copies held.
  const [copies] = await tx.query(
    `SELECT count(*) AS n, min(kernel_line) AS first_line${stage.plan.columns
      .map((c, i) => `, count(${q(c.name)}) AS c${i}`)
      .join('')} FROM ${q(bad)} WHERE ${isCopy}`,
  );
  await tx.run(`DELETE FROM ${q(bad)} WHERE ${isCopy}`);
  return {
    rows: num(copies, 'n'),
    firstLine: num(copies, 'first_line'),
    filled: stage.plan.columns.map((_c, i) => num(copies, `c${i}`)),
  };
}
