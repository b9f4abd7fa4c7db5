/**
 * Re-identification at source (`kernel reid`): the controller's agent opens the sealed file
 * Kernel released (signature checked, then decrypted with the controller's own key), turns
 * each NHS number in the controller's own extract into its person token with the link key —
 * the same scheme `kernel deid` uses (token-scheme.ts) — and writes the people whose token
 * the release names: NHS number and the fields the request asked for. A token that matches
 * no one is counted, never guessed. Nothing goes back to the warehouse.
 */
import { KernelError } from '../errors.ts';
import { fieldText, readCsv } from '../files/csv-reader.ts';
import { csvLine } from '../files/csv-file-writer.ts';
import { readEncryptionPrivateKey } from './encryption-key.ts';
import { writeSecretFile, readKeyText } from './key-file.ts';
import type { LinkKey } from './link-key.ts';
import { nhsNumberProblem, normaliseNhsNumber } from './nhs-number.ts';
import { openRelease, parseSealedRelease } from './sealed-release.ts';
import { parsePublicKey } from './signing-key.ts';
import { hmacTokeniser } from './token-scheme.ts';

export interface ReidentifyOptions {
  /** the sealed file downloaded from Kernel */
  requestFile: string;
  /** the controller's X25519 private key (kernel keys new-encryption) */
  decryptKeyFile: string;
  /** Kernel's re-identification public key, as the warehouse published it */
  kernelKeyFile: string;
  linkKey: LinkKey;
  /** the controller's own identifiable extract: CSV with a header row */
  lookupFile: string;
  /** the extract's NHS number column; found by name when not given */
  nhsColumn?: string;
  /** where to write the matched people (never overwritten; readable by its owner only) */
  outFile: string;
}

export interface ReidentifyResult {
  requestId: string;
  controller: string;
  /** tokens in the release */
  requested: number;
  /** people written */
  matched: number;
  /** tokens no row of the extract has */
  unmatched: number;
  /** extract rows whose NHS number was missing or invalid (no token) */
  extractRowsWithoutNhsNumber: number;
  columns: string[];
  outFile: string;
}

const NHS_COLUMN_NAMES = ['nhsnumber', 'nhsno', 'nhs'];
const squash = (name: string): string => name.toLowerCase().replace(/[^a-z0-9]/g, '');

function nhsColumnOf(columns: string[], given: string | undefined, file: string): number {
  if (given) {
    const at = columns.indexOf(given);
    if (at < 0) {
      throw new KernelError('invalid-input', `The extract has no column "${given}"`, {
        where: { file, line: 1 },
        hint: `Its columns: ${columns.join(', ')}`,
      });
    }
    return at;
  }
  const at = columns.findIndex((c) => NHS_COLUMN_NAMES.includes(squash(c)));
  if (at < 0) {
    throw new KernelError('invalid-input', 'The extract has no NHS number column', {
      where: { file, line: 1 },
      hint: 'Name it with --nhs-column',
    });
  }
  return at;
}

export async function reidentifyExtract(options: ReidentifyOptions): Promise<ReidentifyResult> {
  const release = parseSealedRelease(
    readKeyText(options.requestFile, 'request file', '--request'),
    options.requestFile,
  );
  const kernelKey = parsePublicKey(
    readKeyText(options.kernelKeyFile, 'Kernel public key', '--kernel-key'),
    options.kernelKeyFile,
  ).publicKey;
  const { privateKey } = readEncryptionPrivateKey(options.decryptKeyFile);
  const { tokens } = openRelease(release, kernelKey, privateKey);
  const wanted = new Set(tokens);
  const tokeniser = hmacTokeniser(options.linkKey);

  let nhsAt = -1;
  let fieldAt: number[] = [];
  const columns: string[] = [];
  const found = new Map<string, string[]>();
  let withoutNumber = 0;
  await readCsv(options.lookupFile, {
    onHeader: (header, line) => {
      nhsAt = nhsColumnOf(header, options.nhsColumn, options.lookupFile);
      const missing = release.fields.filter((f) => !header.includes(f));
      if (missing.length > 0) {
        throw new KernelError(
          'invalid-input',
          `The extract lacks the requested fields: ${missing.join(', ')}`,
          {
            where: { file: options.lookupFile, line },
            hint: 'Use an extract that holds every field the approved request names',
          },
        );
      }
      const nhsName = header[nhsAt] ?? 'NHS number';
      columns.push(nhsName, ...release.fields.filter((f) => f !== nhsName));
      fieldAt = columns.slice(1).map((f) => header.indexOf(f));
    },
    onRecord: (record) => {
      const raw = fieldText(record, nhsAt);
      if (nhsNumberProblem(raw) !== undefined) {
        withoutNumber++;
        return;
      }
      const nhsNumber = normaliseNhsNumber(raw);
      const token = tokeniser.token(nhsNumber);
      // The first row for a person stands for them: an extract may hold one row per contact.
      if (wanted.has(token) && !found.has(token)) {
        found.set(token, [nhsNumber, ...fieldAt.map((i) => fieldText(record, i))]);
      }
    },
  });
  // In the release's order, so the clinician's list keeps the analyst's ranking.
  const rows = tokens.flatMap((t) => {
    const row = found.get(t);
    return row ? [row] : [];
  });
  writeSecretFile(
    options.outFile,
    [csvLine(columns), ...rows.map((r) => csvLine(r))].join(''),
    're-identified list',
  );
  return {
    requestId: release.requestId,
    controller: release.controller,
    requested: tokens.length,
    matched: rows.length,
    unmatched: tokens.length - rows.length,
    extractRowsWithoutNhsNumber: withoutNumber,
    columns,
    outFile: options.outFile,
  };
}
