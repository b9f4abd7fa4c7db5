import type { Store } from '../store/store.ts';

export interface WarehouseSummary {
  loads: number;
  rowsLoaded: number;
  organisations: number;
  datasetsLoaded: number;
  refusedOrFailed: number;
}

/**
 * What the home page says the warehouse holds: counts over the load history (loads that
 * stand, not superseded ones), optionally for one organisation.
 */
export async function warehouseSummary(store: Store, org?: string | null): Promise<WarehouseSummary> {
  const [row] = await store.query<{
    loads: number;
    rows_loaded: number | null;
    organisations: number;
    datasets: number;
    bad: number | null;
  }>(
    `SELECT sum(CASE WHEN status = 'loaded' THEN 1 ELSE 0 END) AS loads,
            sum(CASE WHEN status = 'loaded' THEN rows_loaded ELSE 0 END) AS rows_loaded,
            count(DISTINCT CASE WHEN status = 'loaded' THEN org_code END) AS organisations,
            count(DISTINCT CASE WHEN status = 'loaded' THEN dataset_id END) AS datasets,
            sum(CASE WHEN status IN ('refused', 'failed') THEN 1 ELSE 0 END) AS bad
       FROM loads ${org ? 'WHERE org_code = $1' : ''}`,
    org ? [org] : [],
  );
  return {
    loads: Number(row?.loads ?? 0),
    rowsLoaded: Number(row?.rows_loaded ?? 0),
    organisations: Number(row?.organisations ?? 0),
    datasetsLoaded: Number(row?.datasets ?? 0),
    refusedOrFailed: Number(row?.bad ?? 0),
  };
}
