import type { Queryable } from './store.ts';

/**
 * Runs `work` under database-wide settings for its span (a Dialect's `bulkLoad` or
 * `kidBuild`), and puts them back however it ends. The settings are for speed and bounded
 * memory only: when the engine refuses one, the work goes ahead without it.
 */
export async function withSessionSettings<T>(
  q: Queryable,
  settings: { before: string; after: string } | null,
  work: () => Promise<T>,
): Promise<T> {
  if (!settings) return work();
  await q.exec(settings.before).catch(() => undefined);
  try {
    return await work();
  } finally {
    await q.exec(settings.after).catch(() => undefined);
  }
}
