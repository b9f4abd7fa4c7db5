import type { Store } from '../src/store/store.ts';

/** How many audit events of `action` (e.g. `data.read`) on `target` (e.g. `kid:risk`) the store holds. */
export async function auditEventCount(store: Store, action: string, target: string): Promise<number> {
  const [row] = await store.query<{ n: number | string }>(
    'SELECT count(*) AS n FROM audit_events WHERE action = $1 AND target = $2',
    [action, target],
  );
  return Number(row?.n);
}
