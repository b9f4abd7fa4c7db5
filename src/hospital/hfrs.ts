/**
 * The Hospital Frailty Risk Score (Gilbert et al., Lancet 2018) over an episode's or a
 * spell's ICD-10 diagnoses, in every position. Its 109 three-character categories and their
 * points are data (`code-lists/hfrs-gilbert-2018.json`, from the paper's supplementary
 * appendix). A diagnosis counts toward the category of its first three characters; each
 * category counts once; the score is the sum of the points, banded low (below 5),
 * intermediate (5 to 15) and high (above 15). The paper scores people aged 75 and over over
 * two years of admissions; this scores what it is given, and says so in docs/hospital.md.
 */
import { fileURLToPath } from 'node:url';
import { readCodeListFile } from '../catalogue/code-list-file.ts';
import { diagnosisCodes, type SusDiagnoses } from './sus-diagnoses.ts';

export const HFRS_FILE = fileURLToPath(new URL('./code-lists/hfrs-gilbert-2018.json', import.meta.url));
/** the categories Gilbert et al. published */
export const HFRS_CATEGORIES = 109;

export interface HfrsIndex {
  id: string;
  title: string;
  source: string;
  bands: { intermediateFrom: number; highAbove: number };
  codes: { code: string; weight: number; title: string }[];
}

export type HfrsBand = 'low' | 'intermediate' | 'high';

export interface HfrsScore {
  /** the sum of points, to one decimal place */
  score: number;
  band: HfrsBand;
  /** the categories that counted, highest points first */
  categories: string[];
}

/** Reads and checks the HFRS code list; a bad file is a clear error naming the file and field. */
export function loadHfrs(file: string = HFRS_FILE): HfrsIndex {
  const { content: index, bad } = readCodeListFile<HfrsIndex>(
    file,
    'The HFRS code list',
    `Give id, title, source, bands: { intermediateFrom, highAbove } and codes: the ${HFRS_CATEGORIES} three-character ICD-10 categories with their points`,
  );
  if (!index.source) throw bad('source', 'does not name its source');
  if (typeof index.bands?.intermediateFrom !== 'number' || typeof index.bands?.highAbove !== 'number')
    throw bad('bands', 'has no bands');
  if (!Array.isArray(index.codes)) throw bad('codes', 'has no codes');
  const seen = new Set<string>();
  for (const c of index.codes) {
    if (!/^[A-Z][0-9]{2}$/.test(c.code))
      throw bad('codes', `has "${c.code}", which is no three-character ICD-10 category`);
    if (seen.has(c.code)) throw bad('codes', `has ${c.code} twice`);
    if (typeof c.weight !== 'number' || c.weight <= 0)
      throw bad('codes', `gives ${c.code} no positive points`);
    seen.add(c.code);
  }
  if (seen.size !== HFRS_CATEGORIES)
    throw bad('codes', `has ${seen.size} categories, not the ${HFRS_CATEGORIES} Gilbert et al. published`);
  return index;
}

let standard: HfrsIndex | undefined;

/** The HFRS of `diagnoses` (ICD-10 in SUS form, any positions, blanks ignored). */
export function hfrsScore(diagnoses: SusDiagnoses, index: HfrsIndex = (standard ??= loadHfrs())): HfrsScore {
  const categories = new Set(diagnosisCodes(diagnoses).map((d) => d.slice(0, 3)));
  const counted = index.codes.filter((c) => categories.has(c.code));
  // Points have one decimal; sum in tenths so 3.2 + 0.1 is 3.3, not 3.3000000000000003.
  const tenths = counted.reduce((sum, c) => sum + Math.round(c.weight * 10), 0);
  const score = tenths / 10;
  const band: HfrsBand =
    score > index.bands.highAbove ? 'high' : score >= index.bands.intermediateFrom ? 'intermediate' : 'low';
  return { score, band, categories: counted.map((c) => c.code) };
}
