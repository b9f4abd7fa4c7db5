/**
 * The Charlson Comorbidity Index over an episode's or a spell's ICD-10 diagnoses, in every
 * position. The conditions, their codes and weights are data
 * (`code-lists/charlson-quan-2005.json`): the ICD-10 coding of Quan et al., Med Care 2005
 * (Table 1), with Charlson et al.'s 1987 weights. A diagnosis counts toward a condition when
 * it begins with one of the condition's codes (SUS writes I25.2 as I252, I10 as I10X); each
 * condition counts once; where a condition and its severer form are both present, only the
 * severer counts (diabetes, liver disease, cancer), as the index is usually computed.
 */
import { fileURLToPath } from 'node:url';
import { readCodeListFile } from '../catalogue/code-list-file.ts';
import { diagnosisCodes, type SusDiagnoses } from './sus-diagnoses.ts';

export const CHARLSON_FILE = fileURLToPath(new URL('./code-lists/charlson-quan-2005.json', import.meta.url));

export interface CharlsonCondition {
  id: string;
  title: string;
  weight: number;
  /** conditions this one replaces when both are present */
  supersedes?: string[];
  /** ICD-10 codes without the dot; a diagnosis matches when it begins with one */
  codes: string[];
}

export interface CharlsonIndex {
  id: string;
  title: string;
  source: string;
  conditions: CharlsonCondition[];
}

export interface CharlsonScore {
  score: number;
  /** the conditions that counted, in the list's order */
  conditions: string[];
}

const ICD10_PREFIX = /^[A-Z][0-9]{2}[0-9A-Z]{0,3}$/;

/** Reads and checks the Charlson code list; a bad file is a clear error naming the file and field. */
export function loadCharlson(file: string = CHARLSON_FILE): CharlsonIndex {
  const { content: index, bad } = readCodeListFile<CharlsonIndex>(
    file,
    'The Charlson code list',
    'Give id, title, source and conditions: [{ id, title, weight, codes: [ICD-10 without the dot], supersedes? }]',
  );
  if (!index.source) throw bad('source', 'does not name its source');
  if (!Array.isArray(index.conditions) || index.conditions.length === 0)
    throw bad('conditions', 'has no conditions');
  const ids = new Set(index.conditions.map((c) => c.id));
  for (const c of index.conditions) {
    if (!c.id || !c.title) throw bad('conditions', 'has a condition without an id or title');
    if (typeof c.weight !== 'number' || c.weight <= 0)
      throw bad(`${c.id}.weight`, `gives ${c.id} no positive weight`);
    if (!Array.isArray(c.codes) || c.codes.length === 0) throw bad(`${c.id}.codes`, `gives ${c.id} no codes`);
    for (const code of c.codes)
      if (!ICD10_PREFIX.test(code))
        throw bad(`${c.id}.codes`, `gives ${c.id} "${code}", which is no ICD-10 code`);
    for (const other of c.supersedes ?? [])
      if (!ids.has(other))
        throw bad(`${c.id}.supersedes`, `lets ${c.id} supersede "${other}", which is no condition`);
  }
  return index;
}

let standard: CharlsonIndex | undefined;

/** The Charlson index of `diagnoses` (ICD-10 in SUS form, any positions, blanks ignored). */
export function charlsonScore(
  diagnoses: SusDiagnoses,
  index: CharlsonIndex = (standard ??= loadCharlson()),
): CharlsonScore {
  const codes = diagnosisCodes(diagnoses);
  const present = new Set(
    index.conditions.filter((c) => codes.some((d) => c.codes.some((p) => d.startsWith(p)))).map((c) => c.id),
  );
  for (const c of index.conditions)
    if (present.has(c.id)) for (const s of c.supersedes ?? []) present.delete(s);
  const counted = index.conditions.filter((c) => present.has(c.id));
  return { score: counted.reduce((sum, c) => sum + c.weight, 0), conditions: counted.map((c) => c.id) };
}
