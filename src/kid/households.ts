/**
 * Households of the Kent Integrated Dataset. A household is a household token (`uprn_token`:
 * the agent's HMAC of the UPRN, with the same link key as NHS numbers), and its members on a
 * day are the people in the population then whose residence history puts them there. The
 * fire and rescue service's home-safety visits reach people the same way, on the visit date.
 */
import { quoteLiteral } from '../store/sql.ts';
import type { Queryable } from '../store/store.ts';
import { checkDay, populationOnSql } from './person-spine.ts';
import { inVersion } from '../store/version-range.ts';

/**
 * SQL for a person's age in whole months on the day `dateSql`, from `birth_year_month`
 * ('YYYY-MM'): the warehouse never holds the day of birth, so a person is counted a year
 * older from the first day of their birthday month.
 */
export function ageInMonthsSql(birthYearMonth: string, dateSql: string): string {
  return `(EXTRACT(YEAR FROM ${dateSql}) * 12 + EXTRACT(MONTH FROM ${dateSql})
           - CAST(substr(${birthYearMonth}, 1, 4) AS INTEGER) * 12 - CAST(substr(${birthYearMonth}, 6, 2) AS INTEGER))`;
}

/** A table of age bands: each up to (not including) `below` years, in ascending order. */
export interface AgeBand {
  band: string;
  below: number;
}

/**
 * The `WHEN … THEN 'band'` clauses of a CASE that puts an age in months (ageInMonthsSql) in
 * the first band it is below; the caller writes the CASE around them, with its own answer for
 * an unknown birth month and its own ELSE for the top band.
 */
export function ageBandWhensSql(bands: readonly AgeBand[], ageMonths: string): string {
  return bands.map((b) => `WHEN ${ageMonths} < ${b.below * 12} THEN ${quoteLiteral(b.band)}`).join(' ');
}

/** SQL for "aged 75 or over on the day `dateSql`" (see ageInMonthsSql). */
export function aged75PlusSql(birthYearMonth: string, dateSql: string): string {
  return `${ageInMonthsSql(birthYearMonth, dateSql)} >= 900`;
}

/** Links each home-safety visit of `ds_fire_safety` to its residents on the visit date. */
export async function buildFireVisits(q: Queryable, version: number): Promise<number> {
  const exists = await q.query<{ n: number }>(
    `SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'ds_fire_safety'`,
  );
  if (Number(exists[0]?.n ?? 0) === 0) return 0;
  return q.run(
    `INSERT INTO kid_fire_visit (version, visit_date, uprn_token, residents, residents_75_plus)
     WITH visits AS (
       SELECT load_id, source_line, "Visit_Date" AS visit_date, uprn_token FROM ds_fire_safety
       WHERE uprn_token IS NOT NULL AND "Visit_Date" IS NOT NULL),
     residents AS (
       SELECT v.load_id, v.source_line, p.birth_year_month, v.visit_date
       FROM visits v
       JOIN kid_residence h ON ${inVersion('h', '$1')} AND h.uprn_token = v.uprn_token
         AND h.from_date <= v.visit_date AND (h.to_date IS NULL OR h.to_date >= v.visit_date)
       JOIN kid_person p ON ${inVersion('p', '$1')} AND p.person_token = h.person_token
         AND (p.death_date IS NULL OR p.death_date >= v.visit_date)
       JOIN kid_registration r ON ${inVersion('r', '$1')} AND r.person_token = p.person_token
         AND r.from_date <= v.visit_date AND (r.to_date IS NULL OR r.to_date >= v.visit_date))
     SELECT $1, v.visit_date, v.uprn_token, count(x.load_id),
            sum(CASE WHEN x.load_id IS NOT NULL AND ${aged75PlusSql('x.birth_year_month', 'x.visit_date')} THEN 1 ELSE 0 END)
     FROM visits v LEFT JOIN residents x ON x.load_id = v.load_id AND x.source_line = v.source_line
     GROUP BY v.load_id, v.source_line, v.visit_date, v.uprn_token`,
    [version],
  );
}

export interface HouseholdMeasures {
  day: string;
  /** people in the population on the day */
  people: number;
  /** of them, people with a household token on the day */
  peopleInHouseholds: number;
  households: number;
  /** households by number of residents in the population: '1'…'5', '6+' */
  bySize: { size: string; households: number }[];
  /** households whose one resident is aged 75 or over */
  aged75LivingAlone: number;
  fireVisits: {
    visits: number;
    /** visits to a household where someone in the population lived on the visit date */
    linked: number;
    residentsReached: number;
    /** visits to a household with a resident aged 75 or over */
    withResident75Plus: number;
  };
}

/** Household measures on `day` ('YYYY-MM-DD'), with the fire visits up to and including it. */
export async function householdMeasures(q: Queryable, day: string): Promise<HouseholdMeasures> {
  checkDay(day);
  const sizes = await q.query<{ residents: number; households: number; alone75: number }>(
    `WITH people AS (${populationOnSql('$1')}),
     homes AS (
       SELECT h.uprn_token, count(DISTINCT pop.person_token) AS residents,
              max(CASE WHEN ${aged75PlusSql('p.birth_year_month', 'CAST($1 AS DATE)')} THEN 1 ELSE 0 END) AS has75
       FROM people pop
       JOIN kid_spine_residence h ON h.person_token = pop.person_token
         AND h.from_date <= CAST($1 AS DATE) AND (h.to_date IS NULL OR h.to_date >= CAST($1 AS DATE))
       JOIN kid_spine_person p ON p.person_token = pop.person_token
       WHERE h.uprn_token IS NOT NULL
       GROUP BY h.uprn_token)
     SELECT residents, count(*) AS households,
            sum(CASE WHEN residents = 1 AND has75 = 1 THEN 1 ELSE 0 END) AS alone75
     FROM homes GROUP BY residents ORDER BY residents`,
    [day],
  );
  const [people] = await q.query<{ n: number }>(
    `SELECT count(DISTINCT person_token) AS n FROM (${populationOnSql('$1')}) p`,
    [day],
  );
  const [visits] = await q.query<{ visits: number; linked: number; residents: number; older: number }>(
    `SELECT count(*) AS visits, sum(CASE WHEN residents > 0 THEN 1 ELSE 0 END) AS linked,
            sum(residents) AS residents, sum(CASE WHEN residents_75_plus > 0 THEN 1 ELSE 0 END) AS older
     FROM kid_fire_visit_current WHERE visit_date <= CAST($1 AS DATE)`,
    [day],
  );
  const bySize = ['1', '2', '3', '4', '5', '6+'].map((size) => ({
    size,
    households: sizes
      .filter((s) => (size === '6+' ? Number(s.residents) >= 6 : Number(s.residents) === Number(size)))
      .reduce((n, s) => n + Number(s.households), 0),
  }));
  return {
    day,
    people: Number(people?.n ?? 0),
    peopleInHouseholds: sizes.reduce((n, s) => n + Number(s.residents) * Number(s.households), 0),
    households: sizes.reduce((n, s) => n + Number(s.households), 0),
    bySize,
    aged75LivingAlone: sizes.reduce((n, s) => n + Number(s.alone75 ?? 0), 0),
    fireVisits: {
      visits: Number(visits?.visits ?? 0),
      linked: Number(visits?.linked ?? 0),
      residentsReached: Number(visits?.residents ?? 0),
      withResident75Plus: Number(visits?.older ?? 0),
    },
  };
}
