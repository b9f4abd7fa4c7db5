/**
 * The national data opt-out list a KID benchmark runs under: in England about 5% of people
 * are on it, and a build counts its people ahead (the dashboard's summary, src/kid/area-summary.ts),
 * so a benchmark without a list measures less than a warehouse does.
 */
import { loadOptOutTokens } from '../../src/governance/optouts.ts';
import type { Store } from '../../src/store/store.ts';
import { replicateOptOuts } from './replicate.ts';

/**
 * The `--optout-percent` a bench was given, as a number from 0 to 100; or, for anything else,
 * the line to print before exiting with code 2.
 */
export function optOutPercentOf(text: string | undefined, bench: string): number | { refused: string } {
  const percent = Number(text);
  return text !== undefined && text.trim() !== '' && percent >= 0 && percent <= 100
    ? percent
    : {
        refused: `${bench}: --optout-percent ${String(text)} is not a share of people; give a number from 0 to 100 (5 is England's)`,
      };
}

/**
 * Puts every `100 / percent`-th person token of the PMI (in token order) on the opt-out list
 * as `name`, unless a list is there already, and the copies of those people in a warehouse
 * copied `replicas` times (bench/kid/replicate.ts). Answers the people on the list.
 */
export async function loadBenchOptOuts(
  store: Store,
  options: { percent: number; name: string; actor: string; replicas?: number },
): Promise<number> {
  const [listed] = await store.query<{ n: number }>('SELECT count(*) AS n FROM optouts');
  if (Number(listed?.n ?? 0) > 0 || options.percent <= 0) return Number(listed?.n ?? 0);
  const every = Math.max(1, Math.round(100 / options.percent));
  const tokens = (
    await store.query<{ token: string }>(
      `SELECT person_token AS token FROM (SELECT DISTINCT person_token FROM ds_pmi
                                          WHERE person_token IS NOT NULL AND person_token NOT LIKE '%~%') t ORDER BY token`,
    )
  )
    .map((r) => r.token)
    .filter((_, i) => i % every === 0);
  await loadOptOutTokens(store, tokens, options.name, options.actor);
  return tokens.length + (await replicateOptOuts(store, options.replicas ?? 1));
}
