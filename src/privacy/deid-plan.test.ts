import { describe, expect, it } from 'vitest';
import { listDatasets } from '../catalogue/catalogue.ts';
import { acceptedColumns } from '../catalogue/shapes.ts';
import { deidPlan } from './deid-plan.ts';

describe('deidPlan', () => {
  it.each(listDatasets().map((spec) => [spec.id, spec] as const))(
    'writes exactly the catalogue\u2019s accepted columns for %s, and no direct identifier',
    (_id, spec) => {
      const plan = deidPlan(spec);
      expect(plan.accepted).toEqual(acceptedColumns(spec));
      for (const name of plan.identifierFields) expect(plan.accepted).not.toContain(name);
    },
  );
});
