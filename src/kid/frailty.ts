/**
 * Frailty of the person-level model: the electronic Frailty Index (eFI; Clegg et al., Age and
 * Ageing 2016;45(3):353-360). The eFI is a cumulative deficit index: 36 deficits (clinical
 * signs, symptoms, diseases, disabilities), each present when the person's GP record
 * (`gp-events`) carries a code of that deficit's list on or before the model's date; the index
 * is deficits present ÷ 36, and its category fit (≤ 0.12), mild (> 0.12–0.24), moderate
 * (> 0.24–0.36) or severe (> 0.36). It applies to people aged 65 and over.
 *
 * The deficits' code lists are data, one file per deficit in `code-lists/efi/`, each naming
 * its source; a deficit that is a long-term condition Kernel already codes (diabetes,
 * hypertension, …) names that condition's list in `includes` rather than copying its codes.
 * docs/kid.md ("Frailty (eFI)") lists them.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ControlledCount, ControlledRate, DisclosurePolicy } from '../analytics/disclosure-control.ts';
import { checkSnomedCodes, codeListFilesIn, readCodeListFile } from '../catalogue/code-list-file.ts';
import { KernelError } from '../errors.ts';
import type { ReadAccess } from '../governance/access-policy.ts';
import { quoteLiteral } from '../store/sql.ts';
import type { Queryable } from '../store/store.ts';
import { conditionLists } from './conditions.ts';
import { gatherStatistics } from './gather-statistics.ts';
import { ageBandWhensSql, ageInMonthsSql } from './households.ts';
import { kidDisclosure } from './kid-disclosure.ts';
import { openKidRead } from './kid-read.ts';
import { modelDate } from './model-date.ts';
import { populationOnSql, tableExists } from './person-spine.ts';
import { inVersion } from '../store/version-range.ts';
import { inModelScope, retireRows, rowsInVersion, type ModelScope } from './incremental-build.ts';

// From this file's own folder, not CODE_LISTS_DIR: person-spine.ts imports both modules, so
// conditions.ts may not have run when this one does.
export const EFI_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'code-lists', 'efi');
/** The eFI's denominator: Clegg et al. count 36 deficits, found or not. */
export const EFI_DEFICITS = 36;
/** The eFI applies to people aged 65 and over (Clegg et al. 2016). */
export const EFI_MINIMUM_AGE = 65;

/**
 * The published categories, each up to and including `upTo` (Clegg et al. 2016; Kernel's
 * reference, population-health.md). With 36 deficits: fit 0–4, mild 5–8, moderate 9–12,
 * severe 13 or more (13 ÷ 36 = 0.361 > 0.36; a tool that rounds the index to two places
 * first calls 13 moderate).
 */
export const EFI_CATEGORIES = [
  { category: 'fit', upTo: 0.12 },
  { category: 'mild', upTo: 0.24 },
  { category: 'moderate', upTo: 0.36 },
  { category: 'severe', upTo: Infinity },
] as const;
export type EfiCategory = (typeof EFI_CATEGORIES)[number]['category'];

/** The category of an index: the first whose upper bound it does not exceed. */
export function efiCategory(deficits: number): EfiCategory {
  // Compared in whole numbers (deficits × 100 against hundredths × 36) so 0.12 is exactly 0.12.
  const found = EFI_CATEGORIES.find((c) => deficits * 100 <= Math.round(c.upTo * 100) * EFI_DEFICITS);
  return found?.category ?? 'severe';
}

/** The same rule in SQL, over an integer column of deficits. */
export function efiCategorySql(deficits: string): string {
  const whens = EFI_CATEGORIES.filter((c) => Number.isFinite(c.upTo))
    .map(
      (c) =>
        `WHEN ${deficits} * 100 <= ${Math.round(c.upTo * 100) * EFI_DEFICITS} THEN ${quoteLiteral(c.category)}`,
    )
    .join(' ');
  return `CASE ${whens} ELSE 'severe' END`;
}

export interface EfiDeficit {
  id: string;
  /** its number in Clegg et al.'s table, 1–36 */
  number: number;
  title: string;
  source: string;
  /** condition code lists (`code-lists/<id>.json`) whose codes also count */
  includes?: string[];
  /** why the deficit cannot be found from Kernel's data, where it cannot */
  unavailable?: string;
  codes: { code: string; term: string }[];
}

/** The 36 deficits' code lists, checked: a bad file is a clear error naming the file and field. */
export function efiDeficits(dir: string = EFI_DIR): EfiDeficit[] {
  const conditions = new Set(conditionLists().map((l) => l.id));
  const deficits = codeListFilesIn(dir).map(({ name, file, id }) => {
    const { content: deficit, bad } = readCodeListFile<EfiDeficit>(
      file,
      `The eFI deficit code list ${name}`,
      'Give id (the file name), number (1-36), title, source, codes: [{ code, term }] with SNOMED CT concept ids, and optionally includes: [condition list ids]',
    );
    if (deficit.id !== id) throw bad('id', 'has an id that is not its file name');
    if (!Number.isInteger(deficit.number) || deficit.number < 1 || deficit.number > EFI_DEFICITS)
      throw bad('number', `has number ${String(deficit.number)}, not 1 to ${EFI_DEFICITS}`);
    if (!deficit.title) throw bad('title', 'has no title');
    if (!deficit.source) throw bad('source', 'does not name its source');
    if (!Array.isArray(deficit.codes)) throw bad('codes', 'has no codes list');
    checkSnomedCodes(deficit.codes, bad);
    for (const list of deficit.includes ?? [])
      if (!conditions.has(list)) throw bad('includes', `includes "${list}", which is no condition code list`);
    if (deficit.codes.length === 0 && (deficit.includes ?? []).length === 0 && !deficit.unavailable)
      throw bad('codes', 'has no codes, includes no condition list and does not say why it is unavailable');
    return deficit;
  });
  const numbers = new Set(deficits.map((d) => d.number));
  if (deficits.length !== EFI_DEFICITS || numbers.size !== EFI_DEFICITS)
    throw new KernelError(
      'invalid-input',
      `The eFI needs its ${EFI_DEFICITS} deficits, numbered 1 to ${EFI_DEFICITS}, one file each; ${dir} holds ${deficits.length} with ${numbers.size} different numbers`,
      { where: { file: dir, field: 'number' }, hint: 'Add the missing deficit files or fix their numbers' },
    );
  return deficits.sort((a, b) => a.number - b.number);
}

/** Every SNOMED CT code that marks each deficit: its own and its included conditions'. */
export function efiCodes(deficits: readonly EfiDeficit[] = efiDeficits()): [deficit: string, code: string][] {
  const conditions = new Map(conditionLists().map((l) => [l.id, l.codes]));
  const pairs = new Set<string>();
  for (const d of deficits)
    for (const c of [...d.codes, ...(d.includes ?? []).flatMap((id) => conditions.get(id) ?? [])])
      pairs.add(`${d.id}|${c.code}`);
  return [...pairs].map((p) => p.split('|') as [string, string]);
}

/**
 * Writes spine `version`'s eFI: the deficits each person aged 65+ in the population on the
 * model's date (src/kid/model-date.ts) had coded by then, their count, index and category.
 * Answers the number of people scored (0 before any gp-events feed is loaded).
 */
export async function buildFrailty(
  q: Queryable,
  version: number,
  options: { asOf?: string | null; scope?: ModelScope } = {},
): Promise<number> {
  const deficits = efiDeficits();
  await q.insertRows(
    'kid_efi_code',
    ['version', 'deficit', 'code'],
    efiCodes(deficits).map(([deficit, code]) => [version, deficit, code] as const),
  );
  await gatherStatistics(q, ['kid_efi_code']);
  const asOf = options.asOf !== undefined ? options.asOf : await modelDate(q);
  const scored = asOf !== null && (await tableExists(q, 'ds_gp_events'));
  // An incremental build whose model date has not moved scores only the people of its model
  // scope (incremental-build.ts, planModelScope): their rows retire the version before's, and
  // everyone else's are kept where they are (both tables keep a row by a range of versions,
  // migration 153). Otherwise every row is retired: without a date the version has no eFI.
  const scoped = scored && options.scope !== undefined && 'people' in options.scope;
  for (const table of ['kid_frailty_deficit', 'kid_frailty'] as const)
    await retireRows(q, table, version, scoped ? inModelScope('person_token') : null);
  if (!scored) return 0;
  // The population on the model's date in the version being built (kid_population_periods
  // reads the current version, which this build has not replaced yet): registered with a
  // Kent and Medway practice, alive, and aged 65+ by birth year and month.
  const older = `
    SELECT DISTINCT r.person_token FROM kid_registration r
    JOIN kid_person p ON ${inVersion('p', '$1')} AND p.person_token = r.person_token
    WHERE ${inVersion('r', '$1')} AND r.from_date <= CAST($2 AS DATE)
      AND (r.to_date IS NULL OR r.to_date >= CAST($2 AS DATE))
      AND (p.death_date IS NULL OR p.death_date >= CAST($2 AS DATE))
      AND p.birth_year_month IS NOT NULL
      AND ${ageInMonthsSql('p.birth_year_month', 'CAST($2 AS DATE)')} >= ${EFI_MINIMUM_AGE * 12}
      ${scoped ? `AND ${inModelScope('r.person_token')}` : ''}`;
  const kept = scoped ? await rowsInVersion(q, 'kid_frailty', version) : 0;
  await q.run(
    `INSERT INTO kid_frailty_deficit (version, person_token, deficit)
     SELECT DISTINCT $1, g.person_token, c.deficit
     FROM ds_gp_events g
     JOIN kid_efi_code c ON c.version = $1 AND c.code = g."CODE"
     JOIN (${older}) o ON o.person_token = g.person_token
     WHERE g."EVENT_DATE" <= CAST($2 AS DATE)`,
    [version, asOf],
  );
  // Planned without them, the scoring read every deficit row once per person aged 65+. Each
  // person scored has their deficits just written, under this version.
  await gatherStatistics(q, ['kid_frailty_deficit']);
  const written = await q.run(
    `INSERT INTO kid_frailty (version, person_token, deficits, efi, category, as_of)
     SELECT $1, o.person_token, count(d.deficit), CAST(count(d.deficit) AS DOUBLE PRECISION) / ${EFI_DEFICITS},
            ${efiCategorySql('count(d.deficit)')}, CAST($2 AS DATE)
     FROM (${older}) o
     LEFT JOIN kid_frailty_deficit d ON d.version = $1 AND d.person_token = o.person_token
     GROUP BY o.person_token`,
    [version, asOf],
  );
  return written + kept;
}

/** Age bands of the frailty summary: each up to (not including) `below` years; 85+ above the last. */
export const EFI_AGE_BANDS = [
  { band: '65-74', below: 75 },
  { band: '75-84', below: 85 },
] as const;

export interface FrailtySummary {
  /** the model's date the eFI was scored on; null before the first build with gp-events */
  day: string | null;
  /** people aged 65+ in the population on the day */
  people: number;
  byCategory: { category: EfiCategory; people: number }[];
  byAgeBand: { band: string; people: number; byCategory: { category: EfiCategory; people: number }[] }[];
  /** per deficit: people with it coded by the day */
  deficits: { deficit: string; number: number; title: string; people: number }[];
}

/** The eFI of the current version: people aged 65+ by category, by age band, and by deficit. */
export async function frailtySummary(
  q: Queryable,
  options: { optOut?: boolean } = {},
): Promise<FrailtySummary> {
  const deficits = efiDeficits();
  const day = await q.query<{ as_of: string | null }>('SELECT max(as_of) AS as_of FROM kid_spine_frailty');
  const asOf = day[0]?.as_of ?? null;
  const empty = (): { category: EfiCategory; people: number }[] =>
    EFI_CATEGORIES.map((c) => ({ category: c.category, people: 0 }));
  if (asOf === null)
    return {
      day: null,
      people: 0,
      byCategory: empty(),
      byAgeBand: [...EFI_AGE_BANDS.map((b) => b.band), '85+'].map((band) => ({
        band,
        people: 0,
        byCategory: empty(),
      })),
      deficits: deficits.map((d) => ({ deficit: d.id, number: d.number, title: d.title, people: 0 })),
    };
  // The population on the day, so a planning read leaves out the people on the opt-out list.
  const population = `(SELECT DISTINCT person_token FROM (${populationOnSql('$1', options)}) p0)`;
  const ageMonths = ageInMonthsSql('p.birth_year_month', 'CAST($1 AS DATE)');
  const bandCase = ageBandWhensSql(EFI_AGE_BANDS, ageMonths);
  const rows = await q.query<{ category: string; band: string; people: number }>(
    `SELECT f.category, CASE ${bandCase} ELSE '85+' END AS band, count(*) AS people
     FROM kid_spine_frailty f
     JOIN ${population} pop ON pop.person_token = f.person_token
     JOIN kid_spine_person p ON p.person_token = f.person_token
     GROUP BY f.category, CASE ${bandCase} ELSE '85+' END`,
    [asOf],
  );
  const perDeficit = await q.query<{ deficit: string; people: number }>(
    `SELECT d.deficit, count(*) AS people
     FROM kid_spine_frailty_deficit d
     JOIN ${population} pop ON pop.person_token = d.person_token
     GROUP BY d.deficit`,
    [asOf],
  );
  const count = (test: (r: (typeof rows)[number]) => boolean): number =>
    rows.filter(test).reduce((n, r) => n + Number(r.people), 0);
  const byCategory = (band?: string) =>
    EFI_CATEGORIES.map((c) => ({
      category: c.category,
      people: count((r) => r.category === c.category && (band === undefined || r.band === band)),
    }));
  return {
    day: String(asOf),
    people: count(() => true),
    byCategory: byCategory(),
    byAgeBand: [...EFI_AGE_BANDS.map((b) => b.band), '85+'].map((band) => ({
      band,
      people: count((r) => r.band === band),
      byCategory: byCategory(band),
    })),
    deficits: deficits.map((d) => ({
      deficit: d.id,
      number: d.number,
      title: d.title,
      people: Number(perDeficit.find((p) => p.deficit === d.id)?.people ?? 0),
    })),
  };
}

/** `frailtySummary` read through the access policy: the use case must cover pmi and gp-events. */
export async function readFrailtySummary(q: Queryable, access: ReadAccess): Promise<FrailtySummary> {
  const read = await openKidRead(q, access, ['population', 'frailty']);
  return frailtySummary(q, { optOut: read.optOutApplies });
}

/** A frailty summary as published: every count and percentage under disclosure control. */
export interface ControlledFrailtySummary {
  day: string | null;
  rule: string;
  people: ControlledCount;
  byCategory: { category: EfiCategory; people: ControlledCount; percent: ControlledRate }[];
  byAgeBand: {
    band: string;
    people: ControlledCount;
    byCategory: { category: EfiCategory; people: ControlledCount; percent: ControlledRate }[];
  }[];
  deficits: {
    deficit: string;
    number: number;
    title: string;
    people: ControlledCount;
    percent: ControlledRate;
  }[];
}

/** Applies disclosure control (src/analytics/disclosure-control.ts) to a whole-system summary. */
export function controlFrailtySummary(
  summary: FrailtySummary,
  policy: DisclosurePolicy,
): ControlledFrailtySummary {
  const { rule, count, percent } = kidDisclosure(policy);
  const categories = (rows: FrailtySummary['byCategory'], of: number) =>
    rows.map((c) => ({
      category: c.category,
      people: count(c.people),
      percent: percent(c.people, of),
    }));
  return {
    day: summary.day,
    rule,
    people: count(summary.people),
    byCategory: categories(summary.byCategory, summary.people),
    byAgeBand: summary.byAgeBand.map((b) => ({
      band: b.band,
      people: count(b.people),
      byCategory: categories(b.byCategory, b.people),
    })),
    deficits: summary.deficits.map((d) => ({
      ...d,
      people: count(d.people),
      percent: percent(d.people, summary.people),
    })),
  };
}
