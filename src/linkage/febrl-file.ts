/**
 * Reading the FEBRL synthetic person files (`../shared/data/febrl/`, README there): CSV
 * with a space after every comma, every column a string, an empty field missing, and the
 * truth in `rec_id` (`rec-<N>-org` / `rec-<N>-dup-<k>`: same N, same person). The entity
 * key is kept apart from the fields the model reads, so it never sees the answer.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { KernelError } from '../errors.ts';
import type { LinkRecord } from './comparison.ts';

export interface FebrlFile {
  records: Record<string, string | null>[];
  /** the entity number of each record, from rec_id */
  entities: Int32Array;
  /** the rec_id of each record */
  ids: string[];
}

/** The FEBRL folder beside the repository (CI has `shared/` there too). */
export function febrlFolder(root: string): string {
  return path.resolve(root, '../shared/data/febrl');
}

export function readFebrlFile(file: string): FebrlFile {
  let text: string;
  try {
    text = readFileSync(file, 'ascii');
  } catch {
    throw new KernelError('not-found', `Cannot read the FEBRL file ${file}`, {
      hint: 'The FEBRL files live in ../shared/data/febrl beside the repository',
    });
  }
  const lines = text.split(/\r?\n/).filter((line) => line.length > 0);
  const header = (lines.shift() ?? '').split(',').map((h) => h.trim());
  const idColumn = header.indexOf('rec_id');
  if (idColumn < 0) {
    throw new KernelError('invalid-input', 'The FEBRL file has no rec_id column', {
      where: { file, line: 1 },
    });
  }
  const records: Record<string, string | null>[] = [];
  const ids: string[] = [];
  const entities = new Int32Array(lines.length);
  lines.forEach((line, n) => {
    const cells = line.split(',').map((c) => c.trim());
    if (cells.length !== header.length) {
      throw new KernelError(
        'invalid-input',
        `A FEBRL line has ${cells.length} fields, not ${header.length}`,
        {
          where: { file, line: n + 2 },
        },
      );
    }
    const record: Record<string, string | null> = {};
    header.forEach((column, c) => {
      if (c !== idColumn) record[column] = cells[c] === '' ? null : cells[c]!;
    });
    const id = cells[idColumn]!;
    const entity = /^rec-(\d+)/.exec(id);
    if (!entity) {
      throw new KernelError('invalid-input', `A FEBRL rec_id is not rec-<N>-…`, {
        where: { file, line: n + 2 },
      });
    }
    records.push(record);
    ids.push(id);
    entities[n] = Number(entity[1]);
  });
  return { records, entities, ids };
}

/** True matching pairs within one file: n(n−1)/2 summed over entities. */
export function truePairsWithin(file: FebrlFile): number {
  const sizes = new Map<number, number>();
  for (const e of file.entities) sizes.set(e, (sizes.get(e) ?? 0) + 1);
  let total = 0;
  for (const n of sizes.values()) total += (n * (n - 1)) / 2;
  return total;
}

export function recordsOf(file: FebrlFile): LinkRecord[] {
  return file.records;
}
