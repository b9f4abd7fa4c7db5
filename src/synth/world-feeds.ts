import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

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
        if (period) feeds.push({ org, dataset, period, file: path.join(feedsDir, org, dataset, name) });
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
