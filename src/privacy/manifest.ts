/**
 * The manifest the agent writes beside each pseudonymised file (`OUT.manifest.json`), and
 * its Ed25519 signature. The signature covers the canonical JSON of every other field
 * (keys sorted at every level, no white space; the same idea as RFC 8785 for the plain
 * strings, integers and objects a manifest holds), so re-indenting the file does not break
 * it but changing any value does.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { KeyObject } from 'node:crypto';
import { KernelError } from '../errors.ts';
import { isMonth } from '../months.ts';
import type { NhsNumberProblem } from './nhs-number.ts';
import { signBytes, verifyBytes } from './signing-key.ts';
import type { TokenSchemeName } from './token-scheme.ts';

export const MANIFEST_FORMAT = 'kernel-feed-manifest/1';

export interface ProblemCount {
  count: number;
  /** the first line of the extract with this problem */
  firstLine: number | null;
}

/**
 * Totals the sender's own system computed for the extract (issue 16: reconciliation), which
 * the load checks: the rows it holds, and sums of numeric fields (e.g. a cost).
 */
export interface ControlTotals {
  rows?: number;
  /** each field's total, as the sender's system sums it */
  sums?: Record<string, number>;
  /** distinct patients (distinct NHS numbers) in the extract */
  distinctPeople?: number;
  /** rows by month of a date field (e.g. episodes by month of their end) */
  byMonth?: { field: string; rows: Record<string, number> };
}

export interface FeedManifest {
  format: typeof MANIFEST_FORMAT;
  organisation: string;
  dataset: string;
  specVersion: string;
  /** the reporting month, YYYY-MM */
  period: string;
  /** the pseudonymised file's base name */
  file: string;
  rowCount: number;
  columns: string[];
  sha256: string;
  tokenScheme: TokenSchemeName;
  /** the link key's id (or the salt's fingerprint), never the key */
  keyId: string;
  /** invalid or missing NHS numbers, by problem kind, found at source */
  nhsNumberProblems: Partial<Record<NhsNumberProblem, ProblemCount>>;
  /** the NHS number column of the extract, for reports */
  nhsNumberField: string | null;
  /**
   * Dates of birth given but not read (no such day, or not YYYY-MM-DD), by the extract's
   * column: their rows' age and birth month are empty. Absent in manifests before it.
   */
  birthDateProblems?: Record<string, ProblemCount>;
  toolVersion: string;
  createdAt: string;
  /** the id of the signing key, and the signature over everything else */
  signingKeyId: string | null;
  signature: string | null;
  /** the sender's own totals for the extract, where it gave them (`kernel deid --control-totals`) */
  controlTotals?: ControlTotals;
  /** the linkage file written beside it (`kernel deid --linkage-secret`), signed with the rest */
  linkage?: LinkageFileEntry;
  /** the geography the LSOA and IMD decile columns were derived with (docs/geography.md) */
  geography?: GeographyVersion;
}

/** Which LSOAs a postcode became, and which index of deprivation gave their decile. */
export interface GeographyVersion {
  /** '2011' or '2021': the census LSOAs of the lookup's LSOA column */
  lsoaVintage: string;
  /** e.g. 'IMD2019' */
  imdVersion: string;
}

/** The manifest's word on `OUT.linkage.csv`: which file, its SHA-256, rows, secret id and scheme. */
export interface LinkageFileEntry {
  /** the linkage file's base name, beside the pseudonymised file */
  file: string;
  sha256: string;
  rows: number;
  /** the linkage secret's key id (`ls-…`), never the secret */
  secretId: string;
  scheme: string;
}

export function manifestPathFor(file: string): string {
  return `${file}.manifest.json`;
}

/** Canonical JSON: object keys sorted at every level, no white space. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

function signedBytes(manifest: FeedManifest): Buffer {
  const { signature: _signature, ...rest } = manifest;
  return Buffer.from(canonicalJson(rest), 'utf8');
}

export function signManifest(manifest: FeedManifest, keyId: string, privateKey: KeyObject): FeedManifest {
  const unsigned: FeedManifest = { ...manifest, signingKeyId: keyId, signature: null };
  return { ...unsigned, signature: signBytes(signedBytes(unsigned), privateKey) };
}

export function manifestSignatureValid(manifest: FeedManifest, publicKey: KeyObject): boolean {
  if (!manifest.signature) return false;
  return verifyBytes(signedBytes({ ...manifest, signature: null }), manifest.signature, publicKey);
}

/** Reads and shape-checks a manifest; a missing file answers undefined. */
export function readManifest(file: string): FeedManifest | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const name = path.basename(file);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new KernelError('refused', 'The manifest is not valid JSON', {
      where: { file: name },
      hint: 'Send the manifest exactly as `kernel deid` wrote it',
    });
  }
  // `null` or a bare value parses too: it is then a manifest missing every key.
  const m = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Partial<FeedManifest>;
  const problems: string[] = [];
  if (m.format !== MANIFEST_FORMAT) problems.push('format');
  for (const key of [
    'organisation',
    'dataset',
    'specVersion',
    'period',
    'file',
    'sha256',
    'keyId',
    'toolVersion',
  ] as const) {
    if (typeof m[key] !== 'string') problems.push(key);
  }
  if (typeof m.rowCount !== 'number' || !Number.isInteger(m.rowCount)) problems.push('rowCount');
  if (!Array.isArray(m.columns) || !m.columns.every((c) => typeof c === 'string')) problems.push('columns');
  if (typeof m.nhsNumberProblems !== 'object' || m.nhsNumberProblems === null)
    problems.push('nhsNumberProblems');
  if (m.controlTotals !== undefined && !validControlTotals(m.controlTotals)) problems.push('controlTotals');
  if (m.birthDateProblems !== undefined && !validProblemCounts(m.birthDateProblems))
    problems.push('birthDateProblems');
  if (m.linkage !== undefined && !validLinkageEntry(m.linkage)) problems.push('linkage');
  if (m.geography !== undefined && !validGeographyVersion(m.geography)) problems.push('geography');
  if (problems.length > 0) {
    throw new KernelError(
      'refused',
      `The manifest is not a Kernel feed manifest (bad or missing: ${problems.join(', ')})`,
      {
        where: { file: name },
        hint: 'Send the manifest exactly as `kernel deid` wrote it',
      },
    );
  }
  return m as FeedManifest;
}

/** Counts by column name: each a whole count and a first line (or null). */
function validProblemCounts(value: unknown): value is Record<string, ProblemCount> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  return Object.entries(value as Record<string, unknown>).every(([field, p]) => {
    if (!/^[A-Za-z0-9_]{1,64}$/.test(field) || typeof p !== 'object' || p === null) return false;
    const { count, firstLine } = p as Record<string, unknown>;
    return (
      Number.isInteger(count) &&
      (count as number) >= 0 &&
      (firstLine === null || (Number.isInteger(firstLine) && (firstLine as number) >= 1))
    );
  });
}

/** Short names (a vintage, an index's version), never free text: they reach the load history. */
function validGeographyVersion(value: unknown): value is GeographyVersion {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const g = value as Record<string, unknown>;
  const name = (x: unknown) => typeof x === 'string' && /^[A-Za-z0-9._-]{1,32}$/.test(x);
  return name(g.lsoaVintage) && name(g.imdVersion);
}

/** Whether `value` names a linkage file: a plain base name, a SHA-256 in hex, a row count, ids. */
function validLinkageEntry(value: unknown): value is LinkageFileEntry {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const e = value as Record<string, unknown>;
  return (
    typeof e.file === 'string' &&
    e.file === path.basename(e.file) &&
    e.file.endsWith('.linkage.csv') &&
    typeof e.sha256 === 'string' &&
    /^[0-9a-f]{64}$/.test(e.sha256) &&
    typeof e.rows === 'number' &&
    Number.isInteger(e.rows) &&
    e.rows >= 0 &&
    typeof e.secretId === 'string' &&
    typeof e.scheme === 'string'
  );
}

/** Whether `value` is a ControlTotals: a whole number of rows, and finite sums by field name. */
export function validControlTotals(value: unknown): value is ControlTotals {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const t = value as Record<string, unknown>;
  const count = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 0;
  const record = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (Object.keys(t).some((k) => !['rows', 'sums', 'distinctPeople', 'byMonth'].includes(k))) return false;
  if (t.rows !== undefined && !count(t.rows)) return false;
  if (t.distinctPeople !== undefined && !count(t.distinctPeople)) return false;
  if (t.byMonth !== undefined) {
    if (!record(t.byMonth) || typeof t.byMonth.field !== 'string' || !record(t.byMonth.rows)) return false;
    const months = t.byMonth.rows;
    if (!Object.entries(months).every(([m, n]) => isMonth(m) && count(n))) return false;
  }
  if (t.sums === undefined) return true;
  if (!record(t.sums)) return false;
  return Object.values(t.sums).every((v) => typeof v === 'number' && Number.isFinite(v));
}
