/**
 * The shape of a dataset specification. Specifications themselves are data
 * (`src/catalogue/datasets/*.json`, code lists in `src/catalogue/code-lists/*.json`);
 * this file only says what a specification may contain.
 *
 * From one specification two shapes follow (see `shapes.ts`):
 * - the **inbound** (identifiable) extract an organisation produces: every field below;
 * - the **accepted** (pseudonymised) file the warehouse takes: identifiers replaced by
 *   what their `pseudonymise` rule says, everything else kept, plus `source_line`.
 */

export const FIELD_TYPES = [
  'string',
  'integer',
  'decimal',
  'date',
  'datetime',
  'time',
  'code',
  'boolean',
] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

/**
 * What a field is, for privacy:
 * - direct-identifier: names a person or place outright (NHS number, name, address,
 *   full postcode, full date of birth, local patient id, phone); never enters the warehouse;
 * - quasi-identifier: identifies in combination (sex, ethnicity, practice code, LSOA…);
 * - token: a keyed pseudonym (person_token, uprn_token);
 * - derived: computed by the agent from an identifier (age at event, birth year-month, IMD decile);
 * - content: the clinical or administrative facts.
 */
export const PRIVACY_ROLES = [
  'direct-identifier',
  'quasi-identifier',
  'token',
  'derived',
  'content',
] as const;
export type PrivacyRole = (typeof PRIVACY_ROLES)[number];

/** What a token is made from; decides how the agent normalises the value before keying it. */
export const TOKEN_KINDS = ['nhs-number', 'uprn', 'staff-number'] as const;
export type TokenKind = (typeof TOKEN_KINDS)[number];

/** What the de-identification agent does with a direct identifier. */
export type PseudonymiseRule =
  /**
   * HMAC-SHA256(link key, normalised value) into the named token column (NHS number →
   * person_token, UPRN → uprn_token, ESR employee number → staff_token)
   */
  | { method: 'token'; as: string; kind: TokenKind }
  /** postcode → LSOA code and IMD decile, from the postcode lookup */
  | { method: 'postcode-geography'; lsoa: string; imdDecile: string }
  /** full date of birth → age in whole years at `eventDate` (a field of this dataset) and 'YYYY-MM' */
  | { method: 'birth-date'; age: string; yearMonth: string; eventDate: string }
  /** names, addresses, phone numbers, local patient identifiers: dropped */
  | { method: 'drop' };

export interface FieldSpec {
  /** column name as in the NHS Data Dictionary or the SUS extract, e.g. `Admission_Method` */
  name: string;
  /** plain-English title for the data dictionary page */
  title: string;
  description?: string;
  type: FieldType;
  /** Data Dictionary format, e.g. `an2`, `n10`, `CCYY-MM-DD` */
  format?: string;
  required: boolean;
  /** id of a code list in `code-lists/`; values must be one of its codes */
  codeList?: string;
  role: PrivacyRole;
  /** for direct identifiers: what the agent replaces them with */
  pseudonymise?: PseudonymiseRule;
  /**
   * a quasi-identifier that names a record (a spell, a pregnancy, an attendance), not a
   * person: an aggregate-only role may need it to join records, never its value, so the
   * access policy gives such roles a use-case pseudonym of it (governance/datasets.ts)
   */
  recordKey?: boolean;
  /** longest value allowed, in characters */
  maxLength?: number;
  /**
   * a regular expression the whole value must match (no anchors: callers anchor it), written
   * in the subset JavaScript, DuckDB (RE2) and PostgreSQL (POSIX ARE) share: `[0-9]`, not `\d`
   */
  pattern?: string;
  /** smallest value allowed, for integer and decimal fields */
  minimum?: number;
  /** largest value allowed, for integer and decimal fields */
  maximum?: number;
}

export interface DateOrderRule {
  /** the earlier date field */
  start: string;
  /** the later date field; a row whose end is before its start fails `date-order` */
  end: string;
}

/**
 * A count of days that cannot exceed a period's calendar days (the CDS critical care level
 * and organ support days): a row whose `days` is more than the days from `start`'s date to
 * `end`'s, counting both, fails `days-within`. Not checked while either date is empty.
 */
export interface DaysWithinRule {
  /** the integer field holding the count */
  days: string;
  start: string;
  end: string;
}

/**
 * For datasets whose records may lack an NHS number: the agent also encodes the person's
 * name, date of birth, sex and postcode as Bloom filters under the linkage secret
 * (docs/linkage.md), into a file of its own beside the accepted file. Each key names the
 * dataset field the scheme's input comes from.
 */
export interface LinkageEncodingSpec {
  scheme: 'person-v1';
  fields: Partial<Record<'given_name' | 'family_name' | 'date_of_birth' | 'sex' | 'postcode', string>>;
}

export const DATASET_SUBJECTS = ['patient', 'staff', 'household'] as const;

export interface DatasetSpec {
  id: string;
  title: string;
  description: string;
  version: string;
  /** the standard the dataset follows, e.g. "CDS 6.3 type 130 (SUS+ APC extract)" */
  standard: string;
  /** who the rows are about: patients carry person tokens, staff and households do not */
  subject: (typeof DATASET_SUBJECTS)[number];
  /** the kinds of organisation that supply it (acute, community, mental-health, gp, local-authority, fire-and-rescue) */
  suppliers: string[];
  /** the date field whose month is a row's reporting period */
  periodField: string;
  fields: FieldSpec[];
  dateOrder: DateOrderRule[];
  /** counts of days bounded by a period's length (optional) */
  daysWithin?: DaysWithinRule[];
  /** Bloom-filter encodings for probabilistic linkage, made by the agent (optional) */
  linkageEncoding?: LinkageEncodingSpec;
}

export interface CodeList {
  id: string;
  title: string;
  /** where the codes come from: Data Dictionary page, SNOMED refset… */
  source: string;
  /**
   * true when the list holds only a few codes of a much larger scheme (ICD-10, OPCS-4,
   * SNOMED CT): the codes Kernel's synthetic world uses and its pages name. A value outside
   * the list is then valid when it matches `pattern`; see `isValidCode` in `catalogue.ts`.
   */
  subset?: boolean;
  /** for a subset list: what any code of the whole scheme looks like (same regex rules as FieldSpec.pattern) */
  pattern?: string;
  codes: { code: string; meaning: string }[];
}
