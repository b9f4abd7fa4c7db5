/**
 * The warehouse's side of the encodings: loading an agent's linkage file
 * (`kernel deid --linkage-secret` → `OUT.linkage.csv`) into `linkage_encodings`, and
 * reading them back for the engine. The table is no dataset: no governed read, use case or
 * page names it. A file for an organisation, dataset and month replaces the rows of the one
 * before (the records they belong to were superseded), in one audited transaction.
 */
import path from 'node:path';
import { appendAudit } from '../audit/audit-log.ts';
import { getDataset } from '../catalogue/catalogue.ts';
import { KernelError } from '../errors.ts';
import { parsePeriod } from '../months.ts';
import { fieldText, readCsv } from '../files/csv-reader.ts';
import { filterFromBase64 } from '../privacy/bloom-encoding.ts';
import { PERSON_ENCODING_SCHEME } from '../privacy/person-encoding.ts';
import type { Queryable, Store } from '../store/store.ts';
import { RecordColumns } from './record-columns.ts';

const scheme = PERSON_ENCODING_SCHEME;
const FILTERS = scheme.fields.map((f) => `bf_${f.field}`);
const KEYS = scheme.blockingKeys.map((k) => `block_${k.name}`);
const FILE_HEADER = ['source_line', 'secret_id', 'scheme', ...FILTERS, ...KEYS];
const COLUMNS = ['org_code', 'dataset', 'period', ...FILE_HEADER, 'loaded_at', 'load_id'];

export interface LinkageLoad {
  org: string;
  dataset: string;
  period: string;
  rows: number;
  /** rows of an earlier file for the same organisation, dataset and month, now deleted */
  replaced: number;
  secretId: string;
}

/** A linkage file read and checked: its rows as cells (file columns) and the one secret id. */
interface ParsedLinkageFile {
  rows: string[][];
  secretId: string;
}

async function parseLinkageFile(file: string): Promise<ParsedLinkageFile> {
  const rows: string[][] = [];
  const secrets = new Set<string>();
  await readCsv(file, {
    onHeader(columns, line) {
      if (columns.join(',') !== FILE_HEADER.join(',')) {
        throw new KernelError('invalid-input', 'The file is not a linkage file of this scheme', {
          where: { file, line },
          hint: `Make it with \`kernel deid --linkage-secret\` (scheme ${scheme.name})`,
        });
      }
    },
    onRecord(record) {
      const cells = Array.from({ length: record.count }, (_, i) => fieldText(record, i));
      if (!/^\d+$/.test(cells[0]!) || cells[2] !== scheme.name) {
        throw new KernelError('invalid-input', 'A linkage row has no line number or another scheme', {
          where: { file, line: record.line },
          hint: 'Send the file kernel deid wrote, unchanged',
        });
      }
      for (const [c, text] of cells.slice(3, 3 + FILTERS.length).entries()) {
        if (text !== '') {
          try {
            filterFromBase64(text);
          } catch (error) {
            throw new KernelError('invalid-input', 'A Bloom filter in the linkage file is damaged', {
              where: { file, line: record.line, field: FILTERS[c]! },
              hint: 'Send the file kernel deid wrote, unchanged',
              cause: error,
            });
          }
        }
      }
      secrets.add(cells[1]!);
      rows.push(cells);
    },
  });
  if (secrets.size > 1) {
    throw new KernelError('invalid-input', 'The file mixes encodings under different linkage secrets', {
      where: { file },
      hint: 'Encode every record with one secret',
    });
  }
  return { rows, secretId: [...secrets][0] ?? '' };
}

/**
 * Replaces the encodings of one organisation's dataset for a month with `parsed` (or with
 * none): the records the old ones belonged to were superseded. Refuses a second linkage
 * secret. Audited with counts and the secret's key id only.
 */
async function replaceEncodings(
  tx: Queryable,
  feed: { org: string; dataset: string; period: string; loadId: string | null; actor: string },
  parsed: ParsedLinkageFile | null,
): Promise<LinkageLoad> {
  const rows = parsed?.rows ?? [];
  const secretId = parsed?.secretId ?? '';
  if (rows.length > 0) {
    const known = await tx.query<{ secret_id: string }>(
      'SELECT DISTINCT secret_id FROM linkage_encodings WHERE secret_id <> $1 LIMIT 1',
      [secretId],
    );
    if (known.length > 0) {
      throw new KernelError('refused', 'The warehouse holds encodings under another linkage secret', {
        hint: 'Every agent must use the one linkage secret; ask the key custodian which',
      });
    }
  }
  const replaced = await tx.run(
    'DELETE FROM linkage_encodings WHERE org_code = $1 AND dataset = $2 AND period = $3',
    [feed.org, feed.dataset, feed.period],
  );
  const loadedAt = new Date().toISOString();
  await tx.insertRows(
    'linkage_encodings',
    COLUMNS,
    rows.map((cells) =>
      [feed.org, feed.dataset, feed.period, ...cells, loadedAt, feed.loadId].map((v) =>
        v === '' ? null : v,
      ),
    ),
  );
  const load = {
    org: feed.org,
    dataset: feed.dataset,
    period: feed.period,
    rows: rows.length,
    replaced,
    secretId,
  };
  if (parsed || replaced > 0) {
    await appendAudit(tx, {
      actor: feed.actor,
      action: parsed ? 'linkage.encodings-loaded' : 'linkage.encodings-deleted',
      target: `dataset:${feed.dataset}`,
      details: {
        org: load.org,
        period: load.period,
        rows: load.rows,
        replaced,
        ...(feed.loadId ? { load: feed.loadId } : {}),
        ...(parsed ? { secretId, scheme: scheme.name } : {}),
      },
    });
  }
  return load;
}

/** `kernel linkage load`: holds a linkage file for an organisation's dataset and month. */
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
  const period = parsePeriod(options.period);
  const parsed = await parseLinkageFile(options.file);
  return store.transaction(async (tx) => {
    // The encodings belong to the month's current load, where there is one.
    const current = await tx.query<{ load_id: string }>(
      "SELECT load_id FROM loads WHERE org_code = $1 AND dataset_id = $2 AND period = $3 AND status = 'loaded'",
      [options.org, spec.id, period],
    );
    return replaceEncodings(
      tx,
      { ...options, period, dataset: spec.id, loadId: current[0]?.load_id ?? null },
      parsed,
    );
  });
}

/**
 * The load's part (src/ingest/load/publish.ts), inside its transaction: the month's encodings
 * become the ones the load's signed manifest names (`file`, already checked against its
 * SHA-256), or none when the feed came without its linkage file — the records the old ones
 * encoded are superseded either way. A file whose rows disagree with the manifest is refused.
 */
export async function replaceEncodingsOfLoad(
  tx: Queryable,
  load: {
    org: string;
    dataset: string;
    period: string;
    loadId: string;
    actor: string;
    file: string | null;
    expected?: { rows: number; secretId: string };
  },
): Promise<LinkageLoad> {
  const parsed = load.file ? await parseLinkageFile(load.file) : null;
  if (parsed && load.expected) {
    if (
      parsed.rows.length !== load.expected.rows ||
      (parsed.rows.length > 0 && parsed.secretId !== load.expected.secretId)
    ) {
      throw new KernelError('refused', 'The linkage file does not agree with its manifest', {
        where: { file: path.basename(load.file!) },
        hint: 'Send the linkage file kernel deid wrote with this manifest, unchanged',
      });
    }
  }
  return replaceEncodings(tx, load, parsed);
}

/**
 * Deletes the encodings that belong to no current load (a load withdrawn, failed or
 * superseded without a successor's file): only the engine ever read them, and the records
 * they encoded are no longer in the warehouse. Answers how many rows went.
 */
export async function deleteOrphanEncodings(tx: Queryable, actor: string): Promise<number> {
  const deleted = await tx.run(
    `DELETE FROM linkage_encodings
     WHERE load_id IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM loads l WHERE l.load_id = linkage_encodings.load_id AND l.status = 'loaded')`,
  );
  if (deleted > 0) {
    await appendAudit(tx, {
      actor,
      action: 'linkage.encodings-deleted',
      target: 'linkage:encodings',
      details: { rows: deleted, reason: 'load no longer current' },
    });
  }
  return deleted;
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
