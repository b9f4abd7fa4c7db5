/**
 * Datasets Kernel builds rather than receives (`derived/<id>.json`), described like any
 * dataset: each field's meaning, type, role, privacy role and lineage — the source datasets
 * it is derived from, each one a dataset of the catalogue. The person-level model of the Kent
 * Integrated Dataset is the first (docs/kid.md, "The person-level model").
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { KernelError } from '../errors.ts';
import { catalogue, type Catalogue } from './catalogue.ts';
import { FIELD_TYPES, PRIVACY_ROLES, type FieldType, type PrivacyRole } from './dataset-spec.ts';

export const DERIVED_ROLES = ['key', 'dimension', 'measure'] as const;

export interface DerivedField {
  name: string;
  type: FieldType;
  /** key (who a row is), dimension (to group by) or measure (to count or sum) */
  role: (typeof DERIVED_ROLES)[number];
  privacy: PrivacyRole;
  meaning: string;
  /** the source datasets the field is derived from; empty while its dataset has not arrived */
  lineage: string[];
  derivation: string;
  /** reference data the field also uses (a file of the repository) */
  reference?: string;
}

export interface DerivedDataset {
  id: string;
  title: string;
  description: string;
  builtBy: string;
  view: string;
  grain: string;
  docs: string;
  fields: DerivedField[];
}

const DEFAULT_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'derived');

/** Reads and checks every derived dataset: a bad file is a clear error naming the file and field. */
export function listDerivedDatasets(
  dir: string = DEFAULT_DIR,
  from: Catalogue = catalogue(),
): DerivedDataset[] {
  return fs
    .readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => {
      const file = path.join(dir, name);
      const bad = (field: string, what: string): KernelError =>
        new KernelError('invalid-input', `The derived dataset ${name} ${what}`, {
          where: { file, field },
          hint: 'Give id (the file name), title, description, builtBy, view, grain, docs and fields: [{ name, type, role, privacy, meaning, lineage, derivation }]; src/catalogue/derived/kid-model.json is one',
        });
      let d: DerivedDataset;
      try {
        d = JSON.parse(fs.readFileSync(file, 'utf8')) as DerivedDataset;
      } catch {
        throw bad('(file)', 'is not JSON');
      }
      if (d.id !== name.slice(0, -5)) throw bad('id', 'has an id that is not its file name');
      for (const key of ['title', 'description', 'builtBy', 'view', 'grain'] as const)
        if (typeof d[key] !== 'string' || d[key] === '') throw bad(key, `has no ${key}`);
      if (!Array.isArray(d.fields) || d.fields.length === 0) throw bad('fields', 'has no fields');
      d.fields.forEach((f, i) => {
        const at = `fields[${i}]`;
        if (!f.name || !f.meaning || !f.derivation)
          throw bad(at, 'has a field without a name, meaning or derivation');
        if (!FIELD_TYPES.includes(f.type))
          throw bad(`${at}.type`, `gives ${f.name} the unknown type "${f.type}"`);
        if (!DERIVED_ROLES.includes(f.role))
          throw bad(`${at}.role`, `gives ${f.name} the unknown role "${f.role}"`);
        if (!PRIVACY_ROLES.includes(f.privacy))
          throw bad(`${at}.privacy`, `gives ${f.name} the unknown privacy role "${f.privacy}"`);
        if (!Array.isArray(f.lineage)) throw bad(`${at}.lineage`, `gives ${f.name} no lineage`);
        for (const source of f.lineage)
          if (!from.datasets.has(source))
            throw bad(`${at}.lineage`, `derives ${f.name} from "${source}", which is not in the catalogue`);
      });
      return d;
    });
}

export function getDerivedDataset(id: string): DerivedDataset {
  const found = listDerivedDatasets().find((d) => d.id === id);
  if (!found)
    throw new KernelError('not-found', `There is no derived dataset '${id}'`, {
      hint: `Derived datasets: ${listDerivedDatasets()
        .map((d) => d.id)
        .join(', ')}`,
    });
  return found;
}

/** Every source dataset a derived dataset reads, in id order. */
export function lineageOf(dataset: DerivedDataset): string[] {
  return [...new Set(dataset.fields.flatMap((f) => f.lineage))].sort();
}
