import { getDataset, listDatasets } from '../catalogue/catalogue.ts';
import type { DatasetSpec } from '../catalogue/dataset-spec.ts';
import { tableName } from '../catalogue/shapes.ts';
import { KernelError } from '../errors.ts';
import { parseDatasetId } from './governance-values.ts';

/**
 * What governance needs to know about datasets, from the catalogue (the one place
 * datasets are defined): whether an id exists, who supplies it, and which of its columns
 * are tokens or quasi-identifiers for the access policy.
 */

/** Refuses, naming `field` and the known ids, ids the catalogue does not know. */
export function checkDatasetIds(ids: readonly string[], field = 'dataset'): void {
  for (const id of ids) {
    const value = parseDatasetId(id, field);
    if (!listDatasets().some((spec) => spec.id === value)) {
      throw new KernelError('not-found', `There is no dataset '${value}'`, {
        where: { field },
        hint: `Known datasets: ${listDatasets()
          .map((spec) => spec.id)
          .sort()
          .join(', ')}`,
      });
    }
  }
}

export function datasetSpec(id: string): DatasetSpec {
  return getDataset(parseDatasetId(id));
}

/** Catalogue datasets an organisation of this type supplies (`suppliers` in each spec). */
export function datasetsSuppliedBy(orgType: string): string[] {
  return listDatasets()
    .filter((spec) => spec.suppliers.includes(orgType))
    .map((spec) => spec.id);
}

/** The warehouse table of a dataset: `ds_<id with - as _>` (docs/engineering.md). */
export function warehouseTable(datasetId: string): string {
  return tableName(parseDatasetId(datasetId));
}

export interface ColumnRoles {
  /** keyed pseudonyms of people (person_token, mother_person_token): the opt-out applies to them */
  personTokens: Set<string>;
  /** keyed pseudonyms of addresses (uprn_token): households */
  householdTokens: Set<string>;
  /** every token column (people, households, staff) */
  tokens: Set<string>;
  /** columns that identify in combination: the spec's quasi-identifiers and the fine-grained derived ones */
  quasiIdentifiers: Set<string>;
  /**
   * quasi-identifiers that are record keys (UniqPregID, EC_Ident, spell numbers…): an
   * aggregate needs them to join records, never their values
   */
  recordKeys: Set<string>;
}

/**
 * Column roles of a dataset's accepted (warehouse) shape, as its specification declares
 * them: a direct identifier's replacement columns and their kinds (person, household, staff)
 * from its `pseudonymise` rule, record keys from `recordKey`. Nothing is guessed from names.
 */
export function columnRoles(spec: DatasetSpec): ColumnRoles {
  const roles: ColumnRoles = {
    personTokens: new Set(),
    householdTokens: new Set(),
    tokens: new Set(),
    quasiIdentifiers: new Set(),
    recordKeys: new Set(),
  };
  for (const field of spec.fields) {
    const rule = field.pseudonymise;
    // Declared in the specification (`recordKey`), never guessed from the field's name.
    if (field.role === 'quasi-identifier') {
      if (field.recordKey === true) roles.recordKeys.add(field.name);
      else roles.quasiIdentifiers.add(field.name);
    }
    if (field.role === 'token') roles.tokens.add(field.name);
    if (!rule) continue;
    if (rule.method === 'token') {
      roles.tokens.add(rule.as);
      if (rule.kind === 'nhs-number') roles.personTokens.add(rule.as);
      if (rule.kind === 'uprn') roles.householdTokens.add(rule.as);
    } else if (rule.method === 'postcode-geography') {
      // An LSOA holds about 1,500 people: with age and sex it can single someone out.
      roles.quasiIdentifiers.add(rule.lsoa);
    } else if (rule.method === 'birth-date') {
      roles.quasiIdentifiers.add(rule.yearMonth);
    }
  }
  return roles;
}
