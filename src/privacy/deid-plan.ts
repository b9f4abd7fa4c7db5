/**
 * What the agent does with each field of a dataset, derived from its specification: which
 * accepted columns it writes, in order, and from which inbound field each comes. The load
 * validates against the same plan, so the two sides cannot drift apart.
 */
import type { DatasetSpec, FieldSpec, FieldType, TokenKind } from '../catalogue/dataset-spec.ts';

/** One column of the accepted (pseudonymised) file after `source_line`. */
export type AcceptedColumn =
  | { kind: 'copy'; name: string; type: FieldType; required: boolean; field: FieldSpec }
  | {
      kind: 'token';
      name: string;
      type: 'string';
      required: false;
      from: string;
      tokenKind: TokenKind;
    }
  | { kind: 'lsoa'; name: string; type: 'string'; required: false; from: string }
  | { kind: 'imd-decile'; name: string; type: 'integer'; required: false; from: string }
  | { kind: 'age'; name: string; type: 'integer'; required: false; from: string; eventDate: string }
  | { kind: 'birth-month'; name: string; type: 'string'; required: false; from: string };

export interface DeidPlan {
  spec: DatasetSpec;
  /** the inbound (identifiable) extract's columns, in the specification's order */
  inbound: string[];
  /** the accepted columns after `source_line`, in order */
  columns: AcceptedColumn[];
  /** every column of the accepted file, `source_line` first */
  accepted: string[];
  /** names of the direct identifiers, which must never appear in an accepted file */
  identifierFields: string[];
  /** the NHS number field, if the dataset has one */
  nhsNumberField: string | null;
}

export const SOURCE_LINE = 'source_line';

export function deidPlan(spec: DatasetSpec): DeidPlan {
  const columns: AcceptedColumn[] = [];
  const identifierFields: string[] = [];
  let nhsNumberField: string | null = null;
  for (const field of spec.fields) {
    if (field.role !== 'direct-identifier') {
      columns.push({ kind: 'copy', name: field.name, type: field.type, required: field.required, field });
      continue;
    }
    identifierFields.push(field.name);
    const rule = field.pseudonymise ?? { method: 'drop' as const };
    switch (rule.method) {
      case 'token':
        if (rule.kind === 'nhs-number') nhsNumberField = field.name;
        columns.push({
          kind: 'token',
          name: rule.as,
          type: 'string',
          required: false,
          from: field.name,
          tokenKind: rule.kind,
        });
        break;
      case 'postcode-geography':
        columns.push({ kind: 'lsoa', name: rule.lsoa, type: 'string', required: false, from: field.name });
        columns.push({
          kind: 'imd-decile',
          name: rule.imdDecile,
          type: 'integer',
          required: false,
          from: field.name,
        });
        break;
      case 'birth-date':
        columns.push({
          kind: 'age',
          name: rule.age,
          type: 'integer',
          required: false,
          from: field.name,
          eventDate: rule.eventDate,
        });
        columns.push({
          kind: 'birth-month',
          name: rule.yearMonth,
          type: 'string',
          required: false,
          from: field.name,
        });
        break;
      case 'drop':
        break;
    }
  }
  return {
    spec,
    inbound: spec.fields.map((f) => f.name),
    columns,
    accepted: [SOURCE_LINE, ...columns.map((c) => c.name)],
    identifierFields,
    nhsNumberField,
  };
}
