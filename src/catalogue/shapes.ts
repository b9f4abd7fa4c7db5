/**
 * The two shapes a dataset specification gives (docs/engineering.md, "Catalogue"):
 *
 * - **inbound**: the identifiable extract an organisation produces, every field in order;
 * - **accepted**: the pseudonymised file the warehouse takes: `source_line`, then each field
 *   in order, a direct identifier replaced by the columns its `pseudonymise` rule names (or
 *   dropped). Nothing with the role `direct-identifier` is ever in the accepted shape.
 */
import type { DatasetSpec, FieldSpec } from './dataset-spec.ts';

/** The first accepted column: the extract's line number a row came from, so the sender can find it. */
export const SOURCE_LINE_COLUMN = 'source_line';

/** Columns the warehouse adds or reserves; no accepted field may take these names. */
export const RESERVED_COLUMNS: readonly string[] = [SOURCE_LINE_COLUMN, 'load_id', 'org_code'];

/** How an accepted column is made from its inbound field. */
export type Derivation =
  /** copied as it is */
  | 'copy'
  /** HMAC-SHA256 of the normalised value under the link key */
  | 'token'
  /** the LSOA the postcode lies in */
  | 'lsoa'
  /** the IMD decile of that LSOA (1 = most deprived 10%) */
  | 'imd-decile'
  /** whole years from the birth date to the event date */
  | 'age'
  /** the birth date's 'YYYY-MM' */
  | 'birth-year-month';

/** A field of the accepted file: the checks and meaning of the field it comes from, and how it is derived. */
export type AcceptedField = Pick<
  FieldSpec,
  | 'name'
  | 'title'
  | 'description'
  | 'type'
  | 'format'
  | 'required'
  | 'role'
  | 'codeList'
  | 'maxLength'
  | 'pattern'
  | 'minimum'
  | 'maximum'
> & {
  /** the inbound field it comes from */
  from: string;
  derivation: Derivation;
};

/** Column names of the inbound (identifiable) extract, in order. */
export function inboundColumns(spec: DatasetSpec): string[] {
  return spec.fields.map((field) => field.name);
}

/** The accepted (pseudonymised) fields, in order, without `source_line`. */
export function acceptedFields(spec: DatasetSpec): AcceptedField[] {
  return spec.fields.flatMap((field) => acceptedFrom(spec, field));
}

/** Column names of the accepted file and of the warehouse table's data: `source_line` first. */
export function acceptedColumns(spec: DatasetSpec): string[] {
  return [SOURCE_LINE_COLUMN, ...acceptedFields(spec).map((field) => field.name)];
}

/** The warehouse table holding a dataset's accepted rows: `ds_<id with - as _>`. */
export function tableName(spec: DatasetSpec | string): string {
  const id = typeof spec === 'string' ? spec : spec.id;
  return `ds_${id.replace(/-/g, '_')}`;
}

/** What happens to one inbound field: the columns it becomes (none when dropped). */
export function acceptedFrom(spec: DatasetSpec, field: FieldSpec): AcceptedField[] {
  const rule = field.pseudonymise;
  if (field.role !== 'direct-identifier' || !rule) {
    const { pseudonymise: _rule, name, ...rest } = field;
    return [{ name, ...rest, from: name, derivation: 'copy' }];
  }
  const from = field.name;
  switch (rule.method) {
    case 'drop':
      return [];
    case 'token':
      return [
        {
          name: rule.as,
          title: `${field.title} (token)`,
          description: `Keyed pseudonym of ${field.title.toLowerCase()}: HMAC-SHA256 under the link key, hex`,
          type: 'string',
          format: '64 lower-case hex characters',
          required: field.required,
          role: 'token',
          maxLength: 64,
          pattern: '[0-9a-f]{64}',
          from,
          derivation: 'token',
        },
      ];
    case 'postcode-geography':
      // A postcode may be valid yet missing from the lookup (new builds), so neither is required.
      return [
        {
          name: rule.lsoa,
          title: `LSOA of ${field.title.toLowerCase()}`,
          description: 'Lower layer super output area (ONS GSS code) the postcode lies in',
          type: 'string',
          format: 'an9',
          required: false,
          role: 'quasi-identifier',
          maxLength: 9,
          pattern: '[EW]0[0-9]{7}',
          from,
          derivation: 'lsoa',
        },
        {
          name: rule.imdDecile,
          title: 'IMD decile',
          description: 'Index of Multiple Deprivation decile of the LSOA: 1 = most deprived 10%',
          type: 'integer',
          required: false,
          role: 'derived',
          minimum: 1,
          maximum: 10,
          from,
          derivation: 'imd-decile',
        },
      ];
    case 'birth-date': {
      const event = spec.fields.find((f) => f.name === rule.eventDate);
      const ageKnown = field.required && (event?.required ?? false);
      return [
        {
          name: rule.age,
          title:
            rule.eventDate === from
              ? 'Age at birth'
              : `Age at ${event?.title.toLowerCase() ?? rule.eventDate}`,
          description: `Whole years from ${field.title.toLowerCase()} to ${rule.eventDate}`,
          type: 'integer',
          required: ageKnown,
          role: 'derived',
          minimum: 0,
          maximum: 130,
          from,
          derivation: 'age',
        },
        {
          name: rule.yearMonth,
          title: `${field.title}: year and month`,
          description: `Year and month of ${field.title.toLowerCase()}`,
          type: 'string',
          format: 'CCYY-MM',
          required: field.required,
          role: 'derived',
          maxLength: 7,
          pattern: '[0-9]{4}-(0[1-9]|1[0-2])',
          from,
          derivation: 'birth-year-month',
        },
      ];
    }
  }
}
