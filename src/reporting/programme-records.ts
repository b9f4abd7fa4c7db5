import { KernelError } from '../errors.ts';
import type { Queryable, Row } from '../store/store.ts';

/** Where one kind of programme record (workstream, milestone, RAID item) is kept. */
export interface ProgrammeRecords {
  table: string;
  idColumn: string;
  /** what one is called in a message: `workstream`, `RAID item` */
  noun: string;
  /** the command that lists their ids */
  listCommand: string;
}

/**
 * One programme record's row by its id (`WS-01`, `M-03`, `R-001`), as a person may write it
 * in any case; a missing one is `not-found`, with the command that lists the ids.
 */
export async function programmeRecordRow<R extends Row>(
  q: Queryable,
  records: ProgrammeRecords,
  id: string,
): Promise<R> {
  const [row] = await q.query<R>(`SELECT * FROM ${records.table} WHERE ${records.idColumn} = $1`, [
    id.trim().toUpperCase(),
  ]);
  if (!row) {
    throw new KernelError('not-found', `There is no ${records.noun} ${id}`, {
      hint: `See ${records.listCommand}`,
    });
  }
  return row;
}
