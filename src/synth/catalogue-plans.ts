/**
 * What the writers need from the dataset catalogue: each dataset's inbound columns (the
 * header every file carries) and, for defect injection, its required fields, code lists,
 * dates, date-order rules and which columns hold the subject's identity.
 */
import { isValidCode, listDatasets } from '../catalogue/catalogue.ts';
import type { DatasetSpec } from '../catalogue/dataset-spec.ts';
import { inboundColumns } from '../catalogue/shapes.ts';
import type { DefectShape } from './defects.ts';
import type { DatasetPlan } from './feed-router.ts';

export function planFor(spec: DatasetSpec): DatasetPlan {
  const columns = inboundColumns(spec);
  const fields = spec.fields;
  // The subject's own NHS number is the one tokenised as person_token (a baby's, not its mother's).
  const nhs = fields.find(
    (f) =>
      f.pseudonymise?.method === 'token' &&
      f.pseudonymise.kind === 'nhs-number' &&
      f.pseudonymise.as === 'person_token',
  );
  const birth = fields.find(
    (f) =>
      f.pseudonymise?.method === 'birth-date' &&
      (nhs === undefined || !/mother/i.test(f.name) || /mother/i.test(nhs.name)),
  );
  const postcode = fields.find((f) => f.pseudonymise?.method === 'postcode-geography');
  const given = fields.find((f) => /given|forename/i.test(f.name));
  const family = fields.find((f) => /family|surname/i.test(f.name));
  const addressLines = fields.filter((f) => /^address_line|^uprn$/i.test(f.name)).map((f) => f.name);
  const shape: DefectShape = {
    columns,
    required: new Set(fields.filter((f) => f.required).map((f) => f.name)),
    codeFields: fields
      .filter((f) => f.codeList)
      .map((f) => ({ field: f.name, valid: (value: string) => isValidCode(f.codeList ?? '', value) })),
    dateFields: fields
      .filter((f) => f.type === 'date' || f.type === 'datetime')
      .map((f) => ({ field: f.name, type: f.type as 'date' | 'datetime' })),
    dateOrder: spec.dateOrder,
    identity: {
      ...(nhs ? { nhsNumber: nhs.name } : {}),
      ...(given ? { givenName: given.name } : {}),
      ...(family ? { familyName: family.name } : {}),
      ...(birth ? { birthDate: birth.name } : {}),
      ...(postcode ? { address: [postcode.name, ...addressLines] } : {}),
    },
  };
  return { id: spec.id, columns, shape, subject: spec.subject };
}

export interface CataloguePlans {
  plans: Map<string, DatasetPlan>;
  specs: Map<string, DatasetSpec>;
}

export function cataloguePlans(): CataloguePlans {
  const plans = new Map<string, DatasetPlan>();
  const specs = new Map<string, DatasetSpec>();
  for (const spec of listDatasets()) {
    plans.set(spec.id, planFor(spec));
    specs.set(spec.id, spec);
  }
  return { plans, specs };
}
