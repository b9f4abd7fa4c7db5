/**
 * Plausibility: the headline rates of a pre-pandemic world fall in the ranges
 * docs/synthetic-data.md states (section "Headline rates"). 6,000 people for nine months
 * gives stable rates in a few seconds; maternity rates need a bigger world and are listed
 * in the docs with the figures a 20,000-person run gives.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateWorld } from './generate-world.ts';
import { headlineRates, type HeadlineRates } from './headline-rates.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'kernel-synth-rates-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('headline rates of the synthetic world', () => {
  const out = path.join(tmp, 'world');
  generateWorld({ out, people: 6000, seed: 11, from: '2019-04', to: '2019-12' });
  const rates: HeadlineRates = headlineRates(out, { from: '2019-04', to: '2019-12' });

  it.each([
    ['birthsPer1000', 6, 15],
    ['deathsPer1000', 7, 15],
    ['emergencyAdmissionsPer1000', 85, 150],
    ['electiveAdmissionsPer1000', 100, 200],
    ['dayCaseShare', 0.7, 0.9],
    ['edAttendancesPer1000', 300, 520],
    ['edFourHourMetShare', 0.7, 0.9],
    ['outpatientAppointmentsPer1000', 1000, 2000],
    ['outpatientDnaRate', 0.06, 0.11],
    ['outpatientFollowUpsPerFirst', 1.5, 2.5],
    ['sicknessAbsenceRate', 0.03, 0.06],
  ] as const)('%s is between %d and %d', (name, low, high) => {
    const value = rates[name];
    expect(value).toBeGreaterThanOrEqual(low);
    expect(value).toBeLessThanOrEqual(high);
  });

  it('has emergency admissions per 1,000 by age band in range, rising steeply in old age', () => {
    const byAge = rates.emergencyAdmissionsPer1000ByAge;
    const ranges: Record<string, [number, number]> = {
      '0-4': [100, 200],
      '5-14': [20, 60],
      '65-74': [120, 240],
      '75-84': [180, 380],
      '85+': [400, 900],
    };
    for (const [band, [low, high]] of Object.entries(ranges)) {
      expect(byAge[band], band).toBeGreaterThanOrEqual(low);
      expect(byAge[band], band).toBeLessThanOrEqual(high);
    }
    expect(byAge['85+']).toBeGreaterThan(byAge['75-84'] ?? 0);
    expect(byAge['75-84']).toBeGreaterThan(byAge['65-74'] ?? 0);
    expect(byAge['65-74']).toBeGreaterThan(byAge['45-64'] ?? 0);
    expect(byAge['45-64']).toBeGreaterThan(byAge['5-14'] ?? 0);
  });

  it('has more emergency admissions in the most deprived fifth than the least', () => {
    const q = rates.emergencyAdmissionsPer1000ByImdQuintile;
    expect(q['1'] ?? 0).toBeGreaterThan(1.3 * (q['5'] ?? Infinity));
  });
});
