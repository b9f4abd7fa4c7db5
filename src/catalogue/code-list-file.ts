/**
 * Reading the code lists Kernel ships as data (JSON files of SNOMED CT or ICD-10 codes, each
 * naming its source). Each kind of list checks its own content; reading it, and the error a
 * bad file gets (what is wrong, the file and the field, and what a good file holds), are here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { KernelError } from '../errors.ts';

/** Makes the error for one fault in a code list file: what is wrong, in which field. */
export type CodeListFault = (field: string, what: string) => KernelError;

/**
 * Reads the code list `file` as JSON. `title` begins each message ("The HFRS code list");
 * `hint` says what a good file holds. Answers the content, unchecked, and `bad` for the
 * checks the caller makes.
 */
export function readCodeListFile<T>(
  file: string,
  title: string,
  hint: string,
): { content: T; bad: CodeListFault } {
  const bad: CodeListFault = (field, what) =>
    new KernelError('invalid-input', `${title} ${what}`, { where: { file, field }, hint });
  let content: T;
  try {
    content = JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    throw bad('(file)', 'is not JSON');
  }
  return { content, bad };
}

/** The code list files of a folder (`ID.json`, one list each) in name order. */
export function codeListFilesIn(dir: string): { name: string; file: string; id: string }[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => ({ name, file: path.join(dir, name), id: name.slice(0, -'.json'.length) }));
}

/** Refuses a code that is not a SNOMED CT concept id (6 to 18 digits). */
export function checkSnomedCodes(codes: readonly { code: string }[], bad: CodeListFault): void {
  for (const c of codes)
    if (!/^\d{6,18}$/.test(String(c.code)))
      throw bad('codes', `has "${c.code}", which is not a SNOMED CT id`);
}
