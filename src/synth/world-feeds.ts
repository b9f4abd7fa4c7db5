import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { getDataset } from '../catalogue/catalogue.ts';
import { readSourceMapping, SourceMapper } from '../privacy/source-mapping.ts';
import { parseCsv } from '../files/csv-file-writer.ts';
import { mappingFileName } from './local-layouts.ts';

/**
 * Where a synthetic world keeps its feed files (`<world>/feeds/<ORG>/<dataset>/<YYYY-MM>.csv`):
 * the world's layout on disk, read by the demo, the linkage evaluation and the benches.
 */

export interface WorldFeed {
  org: string;
  dataset: string;
  period: string;
  /** the identifiable extract */
  file: string;
  /** its source mapping, when the organisation exports this dataset in a layout of its own */
  mapping?: string;
}

/** The source mapping of `org`'s `dataset` in a world (`<world>/mappings/<ORG>-<dataset>.json`), if any. */
export function worldMappingFile(worldDir: string, org: string, dataset: string): string | undefined {
  const file = path.join(worldDir, 'mappings', mappingFileName(org, dataset));
  return existsSync(file) ? file : undefined;
}

/** Every feed file of a world (`<world>/feeds/<ORG>/<dataset>/<YYYY-MM>.csv`), month by month. */
export function listWorldFeeds(worldDir: string, datasets?: readonly string[]): WorldFeed[] {
  const feedsDir = path.join(worldDir, 'feeds');
  const feeds: WorldFeed[] = [];
  for (const org of readdirSync(feedsDir).sort()) {
    for (const dataset of readdirSync(path.join(feedsDir, org)).sort()) {
      if (datasets && !datasets.includes(dataset)) continue;
      for (const name of readdirSync(path.join(feedsDir, org, dataset)).sort()) {
        const period = /^(\d{4}-\d{2})\.csv$/.exec(name)?.[1];
        if (!period) continue;
        const mapping = worldMappingFile(worldDir, org, dataset);
        feeds.push({
          org,
          dataset,
          period,
          file: path.join(feedsDir, org, dataset, name),
          ...(mapping ? { mapping } : {}),
        });
      }
    }
  }
  // Month by month across organisations, as feeds would arrive.
  return feeds.sort((a, b) => a.period.localeCompare(b.period) || a.org.localeCompare(b.org));
}

/** A month with no activity is a nil return: a header and no rows, which is not sent. */
export function isNilReturn(file: string): boolean {
  const text = readFileSync(file, 'utf8');
  const firstBreak = text.indexOf('\n');
  return firstBreak < 0 || text.slice(firstBreak + 1).trim().length === 0;
}

/**
 * A feed file of a world (`feeds/<ORG>/<dataset>/<YYYY-MM>.csv`, relative to it) as a table in
 * the national shape: a file in an organisation's own layout is read through its mapping, as
 * its agent would read it, so readers of whole files count by the specification's names.
 */
export function nationalFeedTable(worldDir: string, file: string): { header: string[]; rows: string[][] } {
  const [header = [], ...rows] = parseCsv(readFileSync(path.join(worldDir, file), 'utf8'));
  const [, org = '', dataset = ''] = file.split(/[\\/]/);
  const mappingFile = worldMappingFile(worldDir, org, dataset);
  if (!mappingFile) return { header, rows };
  const mapper = new SourceMapper(readSourceMapping(mappingFile), getDataset(dataset), header, file);
  return { header: mapper.columns, rows: rows.map((row, i) => mapper.mapCells(row, i + 2)) };
}
