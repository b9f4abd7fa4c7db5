/**
 * Puts hand-made code faults in an extract's data rows, for a test of the code rules: every
 * row's `diagnosis` and `procedure` emptied, then a malformed ICD-10 code (`codes.malformed`) in
 * `diagnosis` on line 3 of the file, the malformed OPCS-4 code WX71 in `procedure` on line 5,
 * and a valid ICD-10 code (`codes.valid`) in `diagnosis` on line 7, which loads.
 */
export function putCodeFaults(
  header: string[],
  rows: string[][],
  fields: { diagnosis: string; procedure: string },
  codes: { malformed: string; valid: string },
): void {
  const diagnosis = header.indexOf(fields.diagnosis);
  const procedure = header.indexOf(fields.procedure);
  for (const row of rows) {
    row[diagnosis] = '';
    row[procedure] = '';
  }
  // rows[0] is line 2 of the file, after the header
  (rows[1] as string[])[diagnosis] = codes.malformed;
  (rows[3] as string[])[procedure] = 'WX71';
  (rows[5] as string[])[diagnosis] = codes.valid;
}
