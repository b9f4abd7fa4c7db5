/**
 * Diagnoses as an episode or spell gives them to a comorbidity index: ICD-10 codes in SUS form
 * (no dot, padded: I252, I10X), one a position, blank positions empty or null.
 */
export type SusDiagnoses = readonly (string | null | undefined)[];

/** The diagnoses given, trimmed and upper case, blank positions left out. */
export function diagnosisCodes(diagnoses: SusDiagnoses): string[] {
  return diagnoses.filter((d): d is string => Boolean(d)).map((d) => d.trim().toUpperCase());
}
