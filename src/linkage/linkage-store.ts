/**
 * The warehouse's side of the encodings: loading an agent's linkage file
 * (`kernel deid --linkage-secret` → `OUT.linkage.csv`) into `linkage_encodings`, and
 * reading them back for the engine. The table is no dataset: no governed read, use case or
 * page names it. A file for an organisation, dataset and month replaces the rows of the one
 * before (the records they belong to were superseded), in one audited transaction.
 */
import { appendAudit } from '../audit/audit-log.ts';
import { getDataset } from '../catalogue/catalogue.ts';
import { KernelError } from '../errors.ts';
import { fieldText, readCsv } from '../files/csv-reader.ts';
import { filterFromBase64 } from '../privacy/bloom-encoding.ts';
import { PERSON_ENCODING_SCHEME } from '../privacy/person-encoding.ts';
import type { Queryable, Store } from '../store/store.ts';
import { RecordColumns } from './record-columns.ts';

const scheme = PERSON_ENCODING_SCHEME;
const FILTERS = scheme.fields.map((f) => `bf_${f.field}`);
const KEYS = scheme.blockingKeys.map((k) => `block_${k.name}`);
const FILE_HEADER = ['source_line', 'secret_id', 'scheme', ...FILTERS, ...KEYS];
const COLUMNS = ['org_code', 'dataset', 'period', ...FILE_HEADER, 'loaded_at'];

export interface LinkageLoad {
  org: string;
  dataset: string;
  period: string;
  rows: number;
  /** rows of an earlier file for the same organisation, dataset and month, now deleted */
  replaced: number;
  secretId: string;
}

export async function loadLinkageFile(
  store: Store,
  options: { org: string; dataset: string; period: string; file: string; actor: string },
): Promise<LinkageLoad> {
  const spec = getDataset(options.dataset);
  if (!spec.linkageEncoding) {
    throw new KernelError('refused', `The dataset ${spec.id} does not take linkage encodings`, {
      hint: 'Only datasets whose specification declares linkageEncoding do',
    });
  }
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(options.period)) {
    throw new KernelError('usage', `The period "${options.period}" is not a month`, {
      hint: 'Write it as YYYY-MM',
    });
  }
  const rows: string[][] = [];
  const secrets = new Set<string>();
  const loadedAt = new Date().toISOString();
  await readCsv(options.file, {
    onHeader(columns, line) {
      if (columns.join(',') !== FILE_HEADER.join(',')) {
        throw new KernelError('invalid-input', 'The file is not a linkage file of this scheme', {
          where: { file: options.file, line },
          hint: `Make it with \`kernel deid --linkage-secret\` (scheme ${scheme.name})`,
        });
      }
    },
    onRecord(record) {
      const cells = Array.from({ length: record.count }, (_, i) => fieldText(record, i));
      if (!/^\d+$/.test(cells[0]!) || cells[2] !== scheme.name) {
        throw new KernelError('invalid-input', 'A linkage row has no line number or another scheme', {
          where: { file: options.file, line: record.line },
          hint: 'Send the file kernel deid wrote, unchanged',
        });
      }
      for (const [c, text] of cells.slice(3, 3 + FILTERS.length).entries()) {
        if (text !== '') {
          try {
            filterFromBase64(text);
          } catch (error) {
            throw new KernelError('invalid-input', 'A Bloom filter in the linkage file is damaged', {
              where: { file: options.file, line: record.line, field: FILTERS[c]! },
              hint: 'Send the file kernel deid wrote, unchanged',
              cause: error,
            });
          }
        }
      }
      secrets.add(cells[1]!);
      rows.push([options.org, spec.id, options.period, ...cells, loadedAt]);
    },
  });
  if (secrets.size > 1) {
    throw new KernelError('invalid-input', 'The file mixes encodings under different linkage secrets', {
      where: { file: options.file },
      hint: 'Encode every record with one secret',
    });
  }
  const secretId = [...secrets][0] ?? '';
  return store.transaction(async (tx) => {
    const known = await tx.query<{ secret_id: string }>(
      'SELECT DISTINCT secret_id FROM linkage_encodings WHERE secret_id <> $1 LIMIT 1',
      [secretId],
    );
    if (rows.length > 0 && known.length > 0) {
      throw new KernelError('refused', 'The warehouse holds encodings under another linkage secret', {
        hint: 'Every agent must use the one linkage secret; ask the key custodian which',
      });
    }
    const replaced = await tx.run(
      'DELETE FROM linkage_encodings WHERE org_code = $1 AND dataset = $2 AND period = $3',
      [options.org, spec.id, options.period],
    );
    await tx.insertRows(
      'linkage_encodings',
      COLUMNS,
      rows.map((r) => r.map((v) => (v === '' ? null : v))),
    );
    const load = {
      org: options.org,
      dataset: spec.id,
      period: options.period,
      rows: rows.length,
      replaced,
      secretId,
    };
    await appendAudit(tx, {
      actor: options.actor,
      action: 'linkage.encodings-loaded',
      target: `dataset:${spec.id}`,
      details: {
        org: load.org,
        period: load.period,
        rows: load.rows,
        replaced,
        secretId,
        scheme: scheme.name,
      },
    });
    return load;
  });
}

/** Rows of linkage_encodings (with at least the bf_ and block_ columns) as one side for the engine. */
export function sideFromRows(rows: readonly Record<string, unknown>[]): RecordColumns {
  const side = new RecordColumns(rows.length);
  rows.forEach((row, i) => {
    scheme.fields.forEach((f, c) => {
      const text = row[FILTERS[c]!];
      side.setFilter(f.field, i, typeof text === 'string' && text !== '' ? filterFromBase64(text) : null);
    });
    scheme.blockingKeys.forEach((k, c) => {
      const text = row[KEYS[c]!];
      side.setText(`block:${k.name}`, i, typeof text === 'string' && text !== '' ? text : null);
    });
  });
  return side;
}

/** The encoding columns, for a SELECT list (prefixed with a table alias if given). */
export function encodingColumns(alias = ''): string {
  return [...FILTERS, ...KEYS].map((c) => (alias ? `${alias}.${c}` : c)).join(', ');
}

/** One side for the engine: the encodings of a dataset (optionally one organisation's). */
export async function readLinkageEncodings(
  q: Queryable,
  filter: { dataset: string; org?: string },
): Promise<{ keys: { org: string; period: string; sourceLine: number }[]; side: RecordColumns }> {
  const rows = await q.query<Record<string, string | number | null>>(
    `SELECT org_code, period, source_line, ${encodingColumns()} FROM linkage_encodings
     WHERE dataset = $1 ${filter.org ? 'AND org_code = $2' : ''} ORDER BY org_code, period, source_line`,
    filter.org ? [filter.dataset, filter.org] : [filter.dataset],
  );
  return {
    keys: rows.map((r) => ({
      org: String(r.org_code),
      period: String(r.period),
      sourceLine: Number(r.source_line),
    })),
    side: sideFromRows(rows),
  };
}
