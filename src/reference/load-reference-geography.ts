/**
 * `kernel reference load`: loads a folder of reference geography (the public files named by
 * its `geography.json`) as versioned releases, all or nothing, audited (docs/geography.md).
 *
 * A release is (kind, version). Loading one that is already held with the same file changes
 * nothing; the same version with different content is refused, because rows derived from it
 * name that version and must keep meaning what they meant. A newly loaded release becomes
 * the current one of its kind.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { appendAudit } from '../audit/audit-log.ts';
import { KernelError } from '../errors.ts';
import { fieldText, readCsv } from '../files/csv-reader.ts';
import type { Queryable, SqlValue, Store } from '../store/store.ts';
import { layoutOf, type GeographyLayout, type LayoutColumn } from './geography-layouts.ts';

export const REFERENCE_MANIFEST_FILE = 'geography.json';

const manifestSchema = z.object({
  format: z.literal('kernel-reference/1'),
  tables: z
    .array(
      z.object({
        kind: z.string().min(1),
        version: z
          .string()
          .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, dot, dash, underscore'),
        file: z.string().min(1),
        source: z.string().min(1),
        url: z.string().optional(),
        /** for an index of deprivation: the LSOA vintage it is built on */
        lsoaVintage: z.enum(['2011', '2021']).optional(),
      }),
    )
    .min(1),
});
type ManifestTable = z.infer<typeof manifestSchema>['tables'][number];

export interface ReleaseLoaded {
  kind: string;
  version: string;
  file: string;
  rows: number;
  status: 'loaded' | 'unchanged';
}

interface ParsedRelease {
  entry: ManifestTable;
  layout: GeographyLayout;
  sha256: string;
  columns: string[];
  rows: SqlValue[][];
}

export async function loadReferenceGeography(
  store: Store,
  dir: string,
  actor: string,
): Promise<ReleaseLoaded[]> {
  const manifestFile = path.join(dir, REFERENCE_MANIFEST_FILE);
  if (!existsSync(manifestFile)) {
    throw new KernelError('not-found', `No ${REFERENCE_MANIFEST_FILE} in ${dir}`, {
      where: { file: manifestFile },
      hint: 'Give the folder holding geography.json and the files it names (kernel synth writes one in reference/)',
    });
  }
  const manifest = readManifest(manifestFile);
  // Every file is read and checked before anything is written: a bad file loads nothing.
  const releases: ParsedRelease[] = [];
  for (const entry of manifest.tables) releases.push(await parseRelease(dir, manifestFile, entry));

  return store.transaction(async (tx) => {
    const results: ReleaseLoaded[] = [];
    for (const release of releases) results.push(await writeRelease(tx, release, actor));
    const loaded = results.filter((r) => r.status === 'loaded');
    if (loaded.length > 0) {
      await appendAudit(
        tx,
        loaded.map((r) => ({
          actor,
          action: 'reference.loaded',
          target: `${r.kind}/${r.version}`,
          details: { kind: r.kind, version: r.version, rows: r.rows },
        })),
      );
    }
    return results;
  });
}

function readManifest(file: string): z.infer<typeof manifestSchema> {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new KernelError(
      'invalid-input',
      `${path.basename(file)} is not JSON: ${(error as Error).message}`,
      {
        where: { file },
      },
    );
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new KernelError('invalid-input', `${path.basename(file)}: ${issue?.message ?? 'invalid'}`, {
      where: { file, field: issue?.path.join('.') ?? '' },
      hint: 'Each table needs kind, version, file and source; format is kernel-reference/1',
    });
  }
  for (const entry of parsed.data.tables) {
    if (!layoutOf(entry.kind)) {
      throw new KernelError('invalid-input', `Unknown reference kind "${entry.kind}"`, {
        where: { file, field: 'kind' },
        hint: 'Kinds: lsoa-2011-2021, imd, ward-lad, practice-pcn',
      });
    }
    if (entry.kind === 'imd' && !entry.lsoaVintage) {
      throw new KernelError(
        'invalid-input',
        `The IMD release ${entry.version} does not say which LSOAs it is built on`,
        {
          where: { file, field: 'lsoaVintage' },
          hint: 'Add "lsoaVintage": "2011" for IMD 2019 (or "2021" for its successor)',
        },
      );
    }
  }
  return parsed.data;
}

const headerPattern = (header: string): RegExp =>
  new RegExp(`^${header.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replaceAll('#', '\\d')}$`, 'i');

async function parseRelease(dir: string, manifestFile: string, entry: ManifestTable): Promise<ParsedRelease> {
  const layout = layoutOf(entry.kind) as GeographyLayout;
  const file = path.join(dir, entry.file);
  if (path.relative(dir, file).startsWith('..') || !existsSync(file)) {
    throw new KernelError(
      'not-found',
      `${path.basename(manifestFile)} names ${entry.file}, which is not in ${dir}`,
      {
        where: { file: manifestFile, field: 'file' },
      },
    );
  }
  const hash = createHash('sha256');
  let at: number[] = [];
  const rows: SqlValue[][] = [];
  await readCsv(file, {
    onHeader(columns, line) {
      at = layout.columns.map((c) => columns.findIndex((h) => headerPattern(c.header).test(h.trim())));
      const missing = layout.columns
        .filter((_, k) => (at[k] ?? -1) < 0)
        .map((c) => c.header.replaceAll('#', 'N'));
      if (missing.length > 0) {
        throw new KernelError('invalid-input', `${entry.file} has no ${missing.join(', ')} column`, {
          where: { file, line },
          hint: `A ${layout.title} file needs the columns ${layout.columns.map((c) => c.header.replaceAll('#', 'N')).join(', ')}`,
        });
      }
    },
    onRecord(record) {
      const row: SqlValue[] = [entry.version];
      layout.columns.forEach((column, k) => {
        const index = at[k] ?? 0;
        row.push(
          parseValue(fieldText(record, index).trim(), column, { file, line: record.line, column: index + 1 }),
        );
      });
      if (layout.kind === 'imd') row.push(entry.lsoaVintage ?? null);
      rows.push(row);
    },
    onBytes: (bytes) => hash.update(bytes),
  });
  if (rows.length === 0) {
    throw new KernelError('invalid-input', `${entry.file} has no rows`, { where: { file } });
  }
  const columns = [
    'version',
    ...layout.columns.map((c) => c.column),
    ...(layout.kind === 'imd' ? ['lsoa_vintage'] : []),
  ];
  return { entry, layout, sha256: hash.digest('hex'), columns, rows };
}

/** ISO dates, or the day/month/year NHS England's ODS files use. */
function parseValue(
  raw: string,
  column: LayoutColumn,
  where: { file: string; line: number; column: number },
): SqlValue {
  const bad = (what: string): KernelError =>
    new KernelError('invalid-input', `${column.header.replaceAll('#', 'N')} "${raw}" is not ${what}`, {
      where: { ...where, field: column.header },
    });
  switch (column.type) {
    case 'code':
      if (!/^[A-Za-z0-9]{1,12}$/.test(raw)) throw bad('a code (letters and digits)');
      return raw.toUpperCase();
    case 'text':
      if (raw === '') throw bad('given');
      return raw;
    case 'integer':
      if (!/^\d{1,9}$/.test(raw)) throw bad('a whole number');
      return Number(raw);
    case 'optional-date':
    case 'date': {
      if (raw === '' && column.type === 'optional-date') return null;
      const iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(raw);
      const dmy = /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(raw);
      const ymd = /^(\d{4})(\d{2})(\d{2})$/.exec(raw);
      const [year, month, day] = iso
        ? [iso[1], iso[2], iso[3]]
        : dmy
          ? [dmy[3], dmy[2], dmy[1]]
          : ymd
            ? [ymd[1], ymd[2], ymd[3]]
            : [];
      const text = `${year}-${month}-${day}`;
      if (
        !year ||
        Number.isNaN(Date.parse(`${text}T00:00:00Z`)) ||
        new Date(`${text}T00:00:00Z`).toISOString().slice(0, 10) !== text
      ) {
        throw bad('a date (YYYY-MM-DD, DD/MM/YYYY or YYYYMMDD)');
      }
      return text;
    }
  }
}

async function writeRelease(tx: Queryable, release: ParsedRelease, actor: string): Promise<ReleaseLoaded> {
  const { entry, layout } = release;
  const result = { kind: entry.kind, version: entry.version, file: entry.file, rows: release.rows.length };
  const held = await tx.query<{ sha256: string }>(
    'SELECT sha256 FROM ref_geography_version WHERE kind = $1 AND version = $2',
    [entry.kind, entry.version],
  );
  if (held[0]) {
    if (held[0].sha256 !== release.sha256) {
      throw new KernelError(
        'conflict',
        `${layout.title} ${entry.version} is already loaded with different content`,
        {
          where: { file: entry.file, field: 'version' },
          hint: 'A release never changes once loaded: give the new file a new version in geography.json',
        },
      );
    }
    return { ...result, status: 'unchanged' };
  }
  await tx.insertRows(layout.table, release.columns, release.rows);
  await tx.run(
    `INSERT INTO ref_geography_version (kind, version, source, url, file_name, sha256, row_count, loaded_at, loaded_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [
      entry.kind,
      entry.version,
      entry.source,
      entry.url ?? null,
      entry.file,
      release.sha256,
      release.rows.length,
      new Date().toISOString(),
      actor,
    ],
  );
  await tx.run('DELETE FROM ref_geography_current WHERE kind = $1', [entry.kind]);
  await tx.run('INSERT INTO ref_geography_current (kind, version) VALUES ($1, $2)', [
    entry.kind,
    entry.version,
  ]);
  return { ...result, status: 'loaded' };
}

export type ReleaseHeld = {
  kind: string;
  version: string;
  current: boolean;
  source: string;
  file_name: string;
  row_count: number;
  loaded_at: string;
};

/** Every release held, newest first within each kind, and which is current. */
export async function listReferenceReleases(q: Queryable): Promise<ReleaseHeld[]> {
  return q.query<ReleaseHeld>(
    `SELECT v.kind, v.version, c.version IS NOT NULL AS current, v.source, v.file_name, v.row_count, v.loaded_at
     FROM ref_geography_version v
     LEFT JOIN ref_geography_current c ON c.kind = v.kind AND c.version = v.version
     ORDER BY v.kind, v.loaded_at DESC`,
  );
}
