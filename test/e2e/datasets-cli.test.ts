import { describe, expect, it } from 'vitest';
import { listDatasets } from '../../src/catalogue/catalogue.ts';
import { runCli, spawnCli } from '../cli.ts';

interface JsonField {
  name: string;
  type: string;
  required: boolean;
  role: string;
}

describe('kernel datasets', () => {
  it('lists all eleven datasets as JSON, each field with name, type, required and role', async () => {
    const result = await runCli(['datasets', '--json']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const specs = JSON.parse(result.stdout) as { id: string; fields: JsonField[] }[];
    expect(specs.map((s) => s.id)).toEqual([
      'apc',
      'apc-critical-care',
      'asc',
      'council-benefits',
      'council-housing',
      'csds-care-activity',
      'csds-care-contact',
      'csds-referral',
      'ecds',
      'esr',
      'fire-safety',
      'gp-events',
      'gp-medications',
      'gp-registrations',
      'mhsds-care-contact',
      'mhsds-hospital-spell',
      'mhsds-referral',
      'mhsds-ward-stay',
      'msds-baby',
      'msds-booking',
      'msds-delivery',
      'ooh-cases',
      'op',
      'pmi',
    ]);
    for (const spec of specs) {
      for (const field of spec.fields) {
        expect(typeof field.name).toBe('string');
        expect(typeof field.type).toBe('string');
        expect(typeof field.required).toBe('boolean');
        expect(typeof field.role).toBe('string');
      }
    }
  });

  it('lists them as a table', async () => {
    const result = await runCli(['datasets']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^msds-delivery\s+Maternity labours and deliveries \(MSDS\)\s+patient/m);
    // a header and one line per dataset
    expect(result.stdout.trim().split('\n')).toHaveLength(listDatasets().length + 1);
  });

  it('prints a data dictionary page', async () => {
    const result = await runCli(['datasets', 'show', 'apc']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Admitted patient care');
    expect(result.stdout).toMatch(/^Period:\s+Episode_End_Date/m);
    expect(result.stdout).toMatch(/^NHS_Number\s+token\s+person_token$/m);
    expect(result.stdout).toMatch(/^Person_Birth_Date\s+birth-date\s+age_on_admission, birth_year_month$/m);
    expect(result.stdout).toMatch(/^Local_Patient_Identifier\s+drop\s+\(dropped\)$/m);
    expect(result.stdout).toContain('Admission_Date ≤ Discharge_Date');
    expect(result.stdout).toMatch(/^\s+2A\s+Emergency: Emergency Care Department of another provider/m);
  });

  it('prints the page as JSON from a real process', async () => {
    const result = await spawnCli(['datasets', 'show', 'msds-baby', '--json']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const page = JSON.parse(result.stdout) as {
      table: string;
      acceptedColumns: string[];
      dataset: { id: string };
    };
    expect(page.dataset.id).toBe('msds-baby');
    expect(page.table).toBe('ds_msds_baby');
    expect(page.acceptedColumns).toEqual(expect.arrayContaining(['person_token', 'mother_person_token']));
    expect(page.acceptedColumns).not.toContain('PersonBirthDateBaby');
  });

  it('refuses an unknown dataset with one line and exit code 66', async () => {
    const result = await runCli(['datasets', 'show', 'apcc']);
    expect(result.code).toBe(66);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain(
      "There is no dataset 'apcc'. Known datasets: apc, apc-critical-care, asc,",
    );
  });
});
