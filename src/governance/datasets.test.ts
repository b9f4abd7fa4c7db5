/** Issue 12: the access policy's column roles are declared in the specifications, never guessed. */
import { describe, expect, it } from 'vitest';
import { getDataset, listDatasets } from '../catalogue/catalogue.ts';
import { columnRoles } from './datasets.ts';

describe('column roles', () => {
  it('declares every record key, person token and household token: none is guessed from a name', () => {
    const declared = Object.fromEntries(
      listDatasets().map((spec) => {
        const roles = columnRoles(spec);
        return [spec.id, [...roles.recordKeys].sort()];
      }),
    );
    expect(declared).toEqual({
      apc: ['Hospital_Provider_Spell_Number'],
      'apc-critical-care': ['Critical_Care_Local_Identifier', 'Hospital_Provider_Spell_Number'],
      asc: [],
      'csds-care-activity': ['CareActIdentifier', 'CareContactId'],
      'csds-care-contact': ['CareContactId', 'ServiceRequestId'],
      'csds-referral': ['ServiceRequestId'],
      'council-benefits': ['Claim_Reference'],
      'council-housing': ['Case_Reference'],
      ecds: ['EC_Ident'],
      esr: [],
      'fire-safety': ['Visit_ID'],
      'gp-events': [],
      'gp-medications': [],
      'gp-registrations': [],
      'mhsds-care-contact': ['CareContactId', 'ServiceRequestId'],
      'mhsds-hospital-spell': ['HospProvSpellID', 'ServiceRequestId'],
      'mhsds-referral': ['ServiceRequestId'],
      'mhsds-ward-stay': ['HospProvSpellID', 'WardStayId'],
      'msds-baby': ['LabourDeliveryID', 'UniqPregID'],
      'msds-booking': ['UniqPregID'],
      'msds-delivery': ['LabourDeliveryID', 'UniqPregID'],
      'ooh-cases': ['Case_Identifier'],
      op: ['Attendance_Identifier'],
      pmi: [],
    });
    // a field named like a key is not one unless declared: GP_Practice_Code stays a quasi-identifier
    expect(columnRoles(getDataset('apc')).quasiIdentifiers.has('GP_Practice_Code')).toBe(true);
    expect([...columnRoles(getDataset('fire-safety')).householdTokens]).toEqual(['uprn_token']);
    expect([...columnRoles(getDataset('apc')).personTokens]).toEqual(['person_token']);
  });
});
