/**
 * Long-term conditions of the person-level model: a person has a condition from the first
 * date a GP event (`gp-events`) carries a SNOMED CT code in that condition's code list. The
 * code lists are data, one file per condition in `code-lists/`, each naming its source (a
 * QOF business rules cluster); docs/kid.md lists them.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ControlledCount, ControlledRate, DisclosurePolicy } from '../analytics/disclosure-control.ts';
import { checkSnomedCodes, codeListFilesIn, readCodeListFile } from '../catalogue/code-list-file.ts';
import type { Queryable } from '../store/store.ts';
import { ageBandWhensSql, ageInMonthsSql } from './households.ts';
import { kidDisclosure } from './kid-disclosure.ts';
import { openKidRead } from './kid-read.ts';
import { checkDay, populationOnSql } from './person-spine.ts';
import type { ReadAccess } from '../governance/access-policy.ts';
import { inVersion } from '../store/version-range.ts';

export const CODE_LISTS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'code-lists');

export interface ConditionList {
  id: string;
  title: string;
  cluster: string;
  source: string;
  codes: { code: string; term: string }[];
}

/** Every condition's code list, checked: a bad file is a clear error naming the file and field. */
export function conditionLists(dir: string = CODE_LISTS_DIR): ConditionList[] {
  return codeListFilesIn(dir).map(({ name, file, id }) => {
    const { content: list, bad } = readCodeListFile<ConditionList>(
      file,
      `The condition code list ${name}`,
      'Give id (the file name), title, cluster, source and codes: [{ code, term }] with SNOMED CT concept ids',
    );
    if (list.id !== id) throw bad('id', 'has an id that is not its file name');
    if (!list.source) throw bad('source', 'does not name its source');
    if (!Array.isArray(list.codes) || list.codes.length === 0) throw bad('codes', 'has no codes');
    checkSnomedCodes(list.codes, bad);
    return list;
  });
}

/** Writes spine `version`'s code lists and each person's conditions (first date coded). */
export async function buildConditions(
  q: Queryable,
  version: number,
  /** the gp-events rows to read: all, or (an incremental build's) only the people it rebuilds */
  gpEvents = 'ds_gp_events',
): Promise<number> {
  const lists = conditionLists();
  await q.insertRows(
    'kid_code_list',
    ['version', 'condition', 'code'],
    lists.flatMap((list) => list.codes.map((c) => [version, list.id, c.code] as const)),
  );
  const exists = await q.query<{ n: number }>(
    `SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'ds_gp_events'`,
  );
  if (Number(exists[0]?.n ?? 0) === 0) return 0;
  return q.run(
    `INSERT INTO kid_condition (version, person_token, condition, first_date)
     SELECT $1, g.person_token, c.condition, MIN(g."EVENT_DATE")
     FROM ${gpEvents} g
     JOIN kid_code_list c ON c.version = $1 AND c.code = g."CODE"
     JOIN kid_person p ON ${inVersion('p', '$1')} AND p.person_token = g.person_token
     WHERE g."EVENT_DATE" IS NOT NULL
     GROUP BY g.person_token, c.condition`,
    [version],
  );
}

export interface ConditionSummary {
  day: string;
  people: number;
  /** per condition: people in the population on the day with it coded by then */
  prevalence: { condition: string; title: string; people: number }[];
  /** people by number of conditions: '0'…'3', '4+' */
  byCount: { conditions: string; people: number }[];
  multimorbidity: number;
  complexMultimorbidity: number;
  /** people, with 2+ and with 4+ conditions, by age band on the day (age from birth year-month) */
  byAgeBand: { band: string; people: number; multimorbidity: number; complex: number }[];
  /** the same by IMD decile of residence on the day (1 = most deprived) */
  byImdDecile: { decile: string; people: number; multimorbidity: number; complex: number }[];
}

/** Age bands of the summary: each up to (not including) `below` years; 85+ above the last. */
export const AGE_BANDS = [
  { band: '0-17', below: 18 },
  { band: '18-39', below: 40 },
  { band: '40-64', below: 65 },
  { band: '65-74', below: 75 },
  { band: '75-84', below: 85 },
] as const;

/** Prevalence and the number of conditions among the population on `day`. */
export async function conditionSummary(
  q: Queryable,
  day: string,
  options: { optOut?: boolean } = {},
): Promise<ConditionSummary> {
  checkDay(day);
  const lists = conditionLists();
  const perCondition = await q.query<{ condition: string; people: number }>(
    `SELECT k.condition, count(DISTINCT k.person_token) AS people
     FROM (${populationOnSql('$1', options)}) pop
     JOIN kid_condition_current k ON k.person_token = pop.person_token AND k.first_date <= CAST($1 AS DATE)
     GROUP BY k.condition`,
    [day],
  );
  const ageMonths = ageInMonthsSql('p.birth_year_month', 'CAST($1 AS DATE)');
  const bandCase = ageBandWhensSql(AGE_BANDS, ageMonths);
  const counts = await q.query<{ conditions: number; decile: number | null; band: string; people: number }>(
    `SELECT conditions, decile, band, count(*) AS people FROM (
       SELECT pop.person_token, count(DISTINCT k.condition) AS conditions, max(h.imd_decile) AS decile,
              max(CASE WHEN p.birth_year_month IS NULL THEN 'unknown' ${bandCase} ELSE '85+' END) AS band
       FROM (SELECT DISTINCT person_token FROM (${populationOnSql('$1', options)}) p0) pop
       JOIN kid_spine_person p ON p.person_token = pop.person_token
       LEFT JOIN kid_spine_residence h ON h.person_token = pop.person_token
         AND h.from_date <= CAST($1 AS DATE) AND (h.to_date IS NULL OR h.to_date >= CAST($1 AS DATE))
       LEFT JOIN kid_condition_current k ON k.person_token = pop.person_token AND k.first_date <= CAST($1 AS DATE)
       GROUP BY pop.person_token) per_person
     GROUP BY conditions, decile, band`,
    [day],
  );
  const breakdown = (keyOf: (c: (typeof counts)[number]) => string, keys: readonly string[]) =>
    keys.map((key) => {
      const rows = counts.filter((c) => keyOf(c) === key);
      const sum = (test: (n: number) => boolean): number =>
        rows.filter((c) => test(Number(c.conditions))).reduce((n, c) => n + Number(c.people), 0);
      return {
        key,
        people: sum(() => true),
        multimorbidity: sum((n) => n >= 2),
        complex: sum((n) => n >= 4),
      };
    });
  const peopleWith = (test: (n: number) => boolean): number =>
    counts.filter((c) => test(Number(c.conditions))).reduce((n, c) => n + Number(c.people), 0);
  return {
    day,
    people: peopleWith(() => true),
    prevalence: lists.map((list) => ({
      condition: list.id,
      title: list.title,
      people: Number(perCondition.find((c) => c.condition === list.id)?.people ?? 0),
    })),
    byCount: ['0', '1', '2', '3', '4+'].map((label) => ({
      conditions: label,
      people: peopleWith((n) => (label === '4+' ? n >= 4 : n === Number(label))),
    })),
    multimorbidity: peopleWith((n) => n >= 2),
    complexMultimorbidity: peopleWith((n) => n >= 4),
    byAgeBand: breakdown((c) => String(c.band), [...AGE_BANDS.map((b) => b.band), '85+', 'unknown']).map(
      ({ key, ...rest }) => ({ band: key, ...rest }),
    ),
    byImdDecile: breakdown(
      (c) => (c.decile === null ? 'unknown' : String(Number(c.decile))),
      ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', 'unknown'],
    ).map(({ key, ...rest }) => ({ decile: key, ...rest })),
  };
}

/** `conditionSummary` read through the access policy: the use case must cover pmi and gp-events. */
export async function readConditionSummary(
  q: Queryable,
  access: ReadAccess,
  day: string,
): Promise<ConditionSummary> {
  checkDay(day);
  const read = await openKidRead(q, access, ['population', 'conditions']);
  return conditionSummary(q, day, { optOut: read.optOutApplies });
}

/** A condition summary as published: every count and percentage under disclosure control. */
export interface ControlledConditionSummary {
  day: string;
  rule: string;
  people: ControlledCount;
  prevalence: { condition: string; title: string; people: ControlledCount; percent: ControlledRate }[];
  byCount: { conditions: string; people: ControlledCount; percent: ControlledRate }[];
  multimorbidity: ControlledRate;
  complexMultimorbidity: ControlledRate;
  byAgeBand: { band: string; people: ControlledCount; multimorbidity: ControlledRate }[];
  byImdDecile: { decile: string; people: ControlledCount; multimorbidity: ControlledRate }[];
}

/** Applies disclosure control (src/analytics/disclosure-control.ts) to a whole-system summary. */
export function controlConditionSummary(
  summary: ConditionSummary,
  policy: DisclosurePolicy,
): ControlledConditionSummary {
  const { rule, count, percent } = kidDisclosure(policy);
  const ofEveryone = (n: number): ControlledRate => percent(n, summary.people);
  return {
    day: summary.day,
    rule,
    people: count(summary.people),
    prevalence: summary.prevalence.map((p) => ({
      ...p,
      people: count(p.people),
      percent: ofEveryone(p.people),
    })),
    byCount: summary.byCount.map((c) => ({
      ...c,
      people: count(c.people),
      percent: ofEveryone(c.people),
    })),
    multimorbidity: ofEveryone(summary.multimorbidity),
    complexMultimorbidity: ofEveryone(summary.complexMultimorbidity),
    byAgeBand: summary.byAgeBand.map((b) => ({
      band: b.band,
      people: count(b.people),
      multimorbidity: percent(b.multimorbidity, b.people),
    })),
    byImdDecile: summary.byImdDecile.map((d) => ({
      decile: d.decile,
      people: count(d.people),
      multimorbidity: percent(d.multimorbidity, d.people),
    })),
  };
}
