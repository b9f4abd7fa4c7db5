/**
 * A dataset's data dictionary page as data: the specification, both shapes, how each
 * inbound field maps to the accepted file, and the code lists its fields use. The CLI
 * (`kernel datasets show`) and the portal render the same page from this.
 */
import { catalogue, getCodeList, getDataset, type Catalogue } from './catalogue.ts';
import type { CodeList, DatasetSpec } from './dataset-spec.ts';
import {
  acceptedColumns,
  acceptedFields,
  acceptedFrom,
  inboundColumns,
  tableName,
  type AcceptedField,
  type Derivation,
} from './shapes.ts';

export interface FieldMapping {
  /** the inbound field */
  from: string;
  /** what the agent does: copy it, or the pseudonymise method */
  action: 'copy' | 'token' | 'postcode-geography' | 'birth-date' | 'drop';
  /** the accepted columns it becomes (empty when dropped) */
  to: { name: string; derivation: Derivation }[];
}

export interface DataDictionary {
  dataset: DatasetSpec;
  table: string;
  inboundColumns: string[];
  acceptedColumns: string[];
  acceptedFields: AcceptedField[];
  mapping: FieldMapping[];
  /** every code list a field names, in the order fields first name them */
  codeLists: CodeList[];
}

export function dataDictionary(id: string, from: Catalogue = catalogue()): DataDictionary {
  const dataset = getDataset(id, from);
  const listIds = [...new Set(dataset.fields.flatMap((f) => (f.codeList ? [f.codeList] : [])))];
  return {
    dataset,
    table: tableName(dataset),
    inboundColumns: inboundColumns(dataset),
    acceptedColumns: acceptedColumns(dataset),
    acceptedFields: acceptedFields(dataset),
    mapping: dataset.fields.map((field) => ({
      from: field.name,
      action: field.role === 'direct-identifier' && field.pseudonymise ? field.pseudonymise.method : 'copy',
      to: acceptedFrom(dataset, field).map((a) => ({ name: a.name, derivation: a.derivation })),
    })),
    codeLists: listIds.map((listId) => getCodeList(listId, from)),
  };
}
