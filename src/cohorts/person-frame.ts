/**
 * The person-level frame a cohort is cut from: one row per person in the population on a day
 * (registered with a Kent and Medway practice and alive), with their practice, sex, age in
 * months and — when a criterion needs them — IMD decile of residence and long-term conditions.
 *
 * This is the one file of src/cohorts/ that names the KID's views (`kid_spine_person`,
 * `kid_spine_residence`, `kid_condition_current`). It belongs in src/kid/ beside
 * `populationOnSql` (docs/cohorts.md, "Open points"), and like that function it answers SQL
 * only: every caller first opens the read with `openKidRead` (src/kid/kid-read.ts), which
 * checks the use case covers each dataset the fields derive from and audits the read.
 */
import { quoteLiteral } from '../store/sql.ts';
import { AGE_BANDS } from '../kid/conditions.ts';
import { ageBandWhensSql, ageInMonthsSql } from '../kid/households.ts';
import { populationOnSql } from '../kid/person-spine.ts';

export interface FrameOptions {
  /** planning and research: people on the national data opt-out are not in the frame */
  optOut: boolean;
  /** add `imd_decile` (residence on the day); only when the read covers residence */
  residence: boolean;
}

/**
 * SQL with the columns person_token, practice_code, sex_key ('female', 'male', 'other'),
 * age_months (NULL without a birth month), band (the KID's age bands, 'unknown') and, with
 * `residence`, imd_decile. `dayParam` is the placeholder holding the day ('YYYY-MM-DD').
 */
export function personFrameSql(dayParam: string, options: FrameOptions): string {
  const day = `CAST(${dayParam} AS DATE)`;
  const ageMonths = ageInMonthsSql('p.birth_year_month', day);
  const bandCase = ageBandWhensSql(AGE_BANDS, ageMonths);
  const residence = options.residence
    ? `LEFT JOIN (SELECT person_token, max(imd_decile) AS imd_decile FROM kid_spine_residence
                  WHERE from_date <= ${day} AND (to_date IS NULL OR to_date >= ${day})
                  GROUP BY person_token) h ON h.person_token = pop.person_token`
    : '';
  // A person is counted once: where two registrations touch the day, the lower practice code.
  return `SELECT pop.person_token, pop.practice_code,
            CASE p.sex WHEN '2' THEN 'female' WHEN '1' THEN 'male' ELSE 'other' END AS sex_key,
            CASE WHEN p.birth_year_month IS NULL THEN NULL ELSE ${ageMonths} END AS age_months,
            CASE WHEN p.birth_year_month IS NULL THEN 'unknown' ${bandCase} ELSE '85+' END AS band
            ${options.residence ? ', h.imd_decile' : ''}
          FROM (SELECT person_token, min(practice_code) AS practice_code
                FROM (${populationOnSql(dayParam, { optOut: options.optOut })}) p0
                GROUP BY person_token) pop
          JOIN kid_spine_person p ON p.person_token = pop.person_token
          ${residence}`;
}

/**
 * A LEFT JOIN giving each person of the frame `f` their conditions coded by the day, as `c`:
 * `c.conditions` (how many of the register's) and `c.has_<i>` (1 when `conditions[i]` is one
 * of them). One grouped pass over the conditions rather than a subquery per person, which
 * PostgreSQL cannot decorrelate. The ids must already be checked against the register
 * (cohort-definition.ts); they are inlined as literals.
 */
export function conditionsJoinSql(dayParam: string, conditions: readonly string[]): string {
  const flags = conditions.map(
    (id, i) => `, max(CASE WHEN k.condition = ${quoteLiteral(id)} THEN 1 ELSE 0 END) AS has_${i}`,
  );
  return `LEFT JOIN (SELECT k.person_token, count(DISTINCT k.condition) AS conditions${flags.join('')}
                     FROM kid_condition_current k WHERE k.first_date <= CAST(${dayParam} AS DATE)
                     GROUP BY k.person_token) c ON c.person_token = f.person_token`;
}
