import { describe, expect, it } from 'vitest';
import { cohortDefinitionSchema } from '../cohorts/cohort-definition.ts';
import { criteriaFromForm } from './cohort-routes.ts';

describe('the cohort builder’s form', () => {
  it('is read from the portal’s form, one named checkbox a value', () => {
    const criteria = criteriaFromForm({
      'condition-diabetes': 'yes',
      'sex-female': 'yes',
      'imd-1': 'yes',
      'imd-10': 'yes',
      practices: 'G82001, g82002',
      pcns: 'u99001 U99002',
      ageFrom: '65',
      ageTo: '',
      emergencyAdmissions: '2',
    });
    expect(cohortDefinitionSchema.parse(criteria)).toMatchObject({
      conditions: ['diabetes'],
      sexes: ['female'],
      imdDeciles: [1, 10],
      practices: ['G82001', 'G82002'],
      pcns: ['U99001', 'U99002'],
      ageFrom: 65,
      emergencyAdmissions: 2,
    });
    expect(cohortDefinitionSchema.parse(criteria).ageTo).toBeUndefined();
  });
});
