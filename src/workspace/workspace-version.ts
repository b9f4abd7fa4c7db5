import { createHash } from 'node:crypto';
import { policyVersion } from '../governance/access-policy.ts';
import { nowIso } from '../governance/governance-values.ts';
import type { Queryable } from '../store/store.ts';
import { KID_VERSION_INPUT } from './kid-views.ts';

/** Beyond the policy's tables, what decides which rows a governed read holds. */
const ROW_INPUTS: { table: string; row: string }[] = [
  { table: 'loads', row: `load_id || ':' || status` },
  {
    table: 'signoffs',
    row: `org_code || ':' || dataset_id || ':' || period || ':' || load_id || ':' || state`,
  },
  { table: 'optout_batches', row: 'batch_id' },
  // a new link run gives records without an NHS number their person (access-policy.ts)
  { table: 'link_runs', row: 'run_id' },
  // a new KID build replaces what the KID's views hold
  KID_VERSION_INPUT,
];

/**
 * What a workspace's snapshot was made from, for caches to key on: the policy's own version
 * (who may read what), the day (use cases and agreements have dates), and what decides which
 * rows a governed read holds beyond the policy tables: each load and its state, each month's
 * sign-off state (published months), the opt-out list's batch, and the KID's current build.
 * Any change to one of them is a new version, and a workspace made under the old one is
 * rebuilt before its next query, so a revoked use case or a new opt-out takes effect at once.
 */
export async function workspaceVersion(q: Queryable): Promise<string> {
  const hash = createHash('sha256');
  hash.update(`policy:${await policyVersion(q)}\nday:${nowIso().slice(0, 10)}\n`);
  for (const { table, row } of ROW_INPUTS) {
    const [result] = await q.query<{ v: string | null }>(
      `SELECT string_agg(r, ',' ORDER BY r) AS v FROM (SELECT ${row} AS r FROM ${table}) AS t`,
    );
    hash.update(`${table}:${result?.v ?? ''}\n`);
  }
  return hash.digest('hex');
}
