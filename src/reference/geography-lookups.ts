/**
 * Questions answered from the current reference geography (docs/geography.md). Each names
 * the release it answered from, so whatever is derived from it can record that version.
 */
import type { Queryable } from '../store/store.ts';

export interface Versioned<T> {
  value: T;
  /** the release answered from, or null when none of that kind is loaded */
  version: string | null;
}

async function currentVersion(q: Queryable, kind: string): Promise<string | null> {
  const rows = await q.query<{ version: string }>(
    'SELECT version FROM ref_geography_current WHERE kind = $1',
    [kind],
  );
  return rows[0]?.version ?? null;
}

/** The 2021 LSOA(s) a 2011 LSOA became: one when unchanged or merged, several when split. */
export async function lsoa2021Of(
  q: Queryable,
  lsoa11: string,
): Promise<Versioned<{ lsoa21: string; change: string }[]>> {
  const value = await q.query<{ lsoa21: string; change: string }>(
    `SELECT lsoa21_code AS lsoa21, change_indicator AS change FROM ref_lsoa_2011_2021_current
     WHERE lsoa11_code = $1 ORDER BY lsoa21_code`,
    [lsoa11],
  );
  return { value, version: await currentVersion(q, 'lsoa-2011-2021') };
}

/** The PCN a practice belonged to on a day (YYYY-MM-DD), following its membership history. */
export async function pcnOn(q: Queryable, practice: string, day: string): Promise<Versioned<string | null>> {
  const rows = await q.query<{ pcn: string }>(
    `SELECT max(pcn_code) AS pcn FROM ref_practice_pcn_current
     WHERE practice_code = $1 AND valid_from <= CAST($2 AS DATE) AND (valid_to IS NULL OR valid_to >= CAST($2 AS DATE))`,
    [practice, day],
  );
  return { value: rows[0]?.pcn ?? null, version: await currentVersion(q, 'practice-pcn') };
}

/** An LSOA's IMD rank and decile, in the current index (built on the LSOA vintage it names). */
export async function imdOf(
  q: Queryable,
  lsoa: string,
): Promise<Versioned<{ rank: number; decile: number; lsoaVintage: string } | null>> {
  const rows = await q.query<{ rank: number; decile: number; lsoaVintage: string }>(
    `SELECT imd_rank AS rank, imd_decile AS decile, lsoa_vintage AS "lsoaVintage" FROM ref_imd_current WHERE lsoa_code = $1`,
    [lsoa],
  );
  return { value: rows[0] ?? null, version: await currentVersion(q, 'imd') };
}

/** A 2021 LSOA's electoral ward and local authority district (best fit). */
export async function wardOf(
  q: Queryable,
  lsoa21: string,
): Promise<Versioned<{ ward: string; wardName: string; lad: string; ladName: string } | null>> {
  const rows = await q.query<{ ward: string; wardName: string; lad: string; ladName: string }>(
    `SELECT ward_code AS ward, ward_name AS "wardName", lad_code AS lad, lad_name AS "ladName"
     FROM ref_ward_current WHERE lsoa21_code = $1`,
    [lsoa21],
  );
  return { value: rows[0] ?? null, version: await currentVersion(q, 'ward-lad') };
}

/** The current release of each kind (kind → version), for a build to record what it used. */
export async function currentReleases(q: Queryable): Promise<Record<string, string>> {
  const rows = await q.query<{ kind: string; version: string }>(
    'SELECT kind, version FROM ref_geography_current ORDER BY kind',
  );
  return Object.fromEntries(rows.map((r) => [r.kind, r.version]));
}
