import { describe, expect, it } from 'vitest';
import { getDataset, listDatasets } from '../catalogue/catalogue.ts';
import { deidPlan } from '../privacy/deid-plan.ts';
import {
  CHECK_KINDS,
  checkCatalogue,
  checksFor,
  datasetEntry,
  evaluateChecks,
  thresholdsFor,
  type LoadProfile,
} from './check-catalogue.ts';

describe('the check catalogue', () => {
  it('holds at least 150 checks across the datasets, each with a stable id of its own', () => {
    const all = checkCatalogue();
    expect(all.length).toBeGreaterThanOrEqual(150);
    expect(new Set(all.map((c) => c.id)).size).toBe(all.length);
    const kinds = new Set(all.map((c) => c.kind));
    for (const kind of CHECK_KINDS) expect(kinds).toContain(kind);
    // every dataset has checks
    for (const spec of listDatasets()) expect(checksFor(spec.id).length).toBeGreaterThan(10);
  });

  it('names only fields the datasets accept (checks.json agrees with the catalogue)', () => {
    for (const spec of listDatasets()) {
      const columns = new Set(deidPlan(getDataset(spec.id)).columns.map((c) => c.name));
      const entry = datasetEntry(spec.id);
      const named = [
        ...Object.keys(entry.completeness ?? {}),
        ...(entry.plausibility ?? []).flatMap((r) => (r.kind === 'range' ? [r.field] : [r.from, r.to])),
        ...(entry.unique ?? []).flatMap((u) => u.fields),
        ...(entry.keyFields ?? []),
        ...Object.keys(entry.fieldThresholds ?? {}),
      ];
      for (const name of named) expect([spec.id, name, columns.has(name)]).toEqual([spec.id, name, true]);
    }
  });
});

/** A profile of 1,000 rows of `msds-delivery` with every field filled, nothing wrong. */
function cleanProfile(rows = 1000): LoadProfile {
  const columns = deidPlan(getDataset('msds-delivery')).columns.map((c) => c.name);
  return {
    rowsRead: rows,
    rowsKept: rows,
    rowsLoaded: rows,
    quarantinedByField: {},
    filled: Object.fromEntries(columns.map((c) => [c, rows])),
    ranges: {},
    top: {},
    implausible: { 'age-at-delivery': 0, 'blood-loss': 0, 'onset-to-delivery': 0 },
    duplicates: { 'one-delivery-per-pregnancy': 0, 'labour-delivery': 0 },
  };
}

const status = (results: ReturnType<typeof evaluateChecks>, id: string) =>
  results.find((r) => r.id === id)?.status;

describe('judging a month', () => {
  it('passes a clean month, and has nothing to compare a first month with', () => {
    const results = evaluateChecks('msds-delivery', '2021-03', cleanProfile(), []);
    expect(results.filter((r) => r.status === 'fail' || r.status === 'warn')).toEqual([]);
    expect(status(results, 'msds-delivery/volume/rows')).toBe('not-applicable');
    expect(status(results, 'msds-delivery/completeness-over-time/SmokingStatusDelivery')).toBe(
      'not-applicable',
    );
    // an optional field with no expected level is not judged on completeness
    expect(status(results, 'msds-delivery/completeness/LabourOnsetDate')).toBe('not-applicable');
    expect(status(results, 'msds-delivery/completeness/SmokingStatusDelivery')).toBe('pass');
  });

  it('fails what falls past its thresholds, and warns on what is close', () => {
    const month = cleanProfile();
    month.filled.SmokingStatusDelivery = 700; // 70% against 90% expected: 20 points below
    month.filled.BloodLossMl = 870; // 87% against 90%: 3 points below, a warning
    month.quarantinedByField.DeliveryDate = 20; // 2% of rows quarantined on a field
    month.implausible['age-at-delivery'] = 6; // 0.6%: a warning (msds-delivery's own threshold is 0.5%)
    month.duplicates['one-delivery-per-pregnancy'] = 10; // 1%: two deliveries for one pregnancy
    const before = { period: '2021-02', profile: cleanProfile() };
    const results = evaluateChecks('msds-delivery', '2021-03', month, [before]);
    expect(status(results, 'msds-delivery/completeness/SmokingStatusDelivery')).toBe('fail');
    expect(status(results, 'msds-delivery/completeness/BloodLossMl')).toBe('warn');
    expect(status(results, 'msds-delivery/completeness-over-time/SmokingStatusDelivery')).toBe('fail');
    expect(status(results, 'msds-delivery/conformance/DeliveryDate')).toBe('fail');
    expect(status(results, 'msds-delivery/plausibility/age-at-delivery')).toBe('warn');
    expect(status(results, 'msds-delivery/uniqueness/one-delivery-per-pregnancy')).toBe('fail');
    // failing first
    expect(results[0]?.status).toBe('fail');
    expect(results.at(-1)?.status).toBe('not-applicable');
  });

  it('takes a dataset’s and a field’s own thresholds over the catalogue’s', () => {
    // msds-delivery sets plausibility at 0.5% (warn): 0.2% passes there, where 0.1% would warn
    const month = cleanProfile();
    month.implausible['age-at-delivery'] = 2;
    expect(
      status(
        evaluateChecks('msds-delivery', '2021-03', month, []),
        'msds-delivery/plausibility/age-at-delivery',
      ),
    ).toBe('pass');
    expect(thresholdsFor(datasetEntry('msds-booking'), null).plausibility.warnAbovePercent).toBe(0.1);
    // apc's Primary_Diagnosis_ICD warns on any quarantined row; another field not at 0.1%
    const apc = thresholdsFor(datasetEntry('apc'), 'Primary_Diagnosis_ICD');
    expect(apc.conformance).toEqual({ warnAbovePercent: 0, failAbovePercent: 0.5 });
    expect(thresholdsFor(datasetEntry('apc'), 'Admission_Method').conformance).toEqual({
      warnAbovePercent: 0.1,
      failAbovePercent: 1,
    });
  });

  it('compares volume with the same month last year before the month before', () => {
    const lastYear = { period: '2020-03', profile: cleanProfile(1000) };
    const february = { period: '2021-02', profile: cleanProfile(600) };
    const results = evaluateChecks('msds-delivery', '2021-03', cleanProfile(1000), [lastYear, february]);
    const volume = results.find((r) => r.id === 'msds-delivery/volume/rows');
    expect(volume?.detail).toContain('against 1000 in 2020-03');
    // a fall of 40% from last year is worth a look; one of 70% fails
    expect(
      evaluateChecks('msds-delivery', '2021-03', cleanProfile(600), [lastYear]).find(
        (r) => r.id === 'msds-delivery/volume/rows',
      )?.status,
    ).toBe('warn');
    expect(
      evaluateChecks('msds-delivery', '2021-03', cleanProfile(300), [lastYear]).find(
        (r) => r.id === 'msds-delivery/volume/rows',
      )?.status,
    ).toBe('fail');
  });

  it('says what it could not judge for a load from before profiles were kept', () => {
    const old = cleanProfile();
    old.implausible = {};
    old.duplicates = {};
    const results = evaluateChecks('msds-delivery', '2021-03', old, []);
    expect(status(results, 'msds-delivery/plausibility/blood-loss')).toBe('not-applicable');
    expect(status(results, 'msds-delivery/uniqueness/labour-delivery')).toBe('not-applicable');
  });
});
