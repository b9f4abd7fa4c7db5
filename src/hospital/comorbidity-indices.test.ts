/**
 * Charlson (Quan 2005 ICD-10 coding, Charlson weights) and the HFRS (Gilbert et al. 2018),
 * against cases worked by hand from the published tables.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { KernelError } from '../errors.ts';
import { CHARLSON_FILE, charlsonScore, loadCharlson } from './charlson.ts';
import { HFRS_CATEGORIES, HFRS_FILE, hfrsScore, loadHfrs } from './hfrs.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-indices-'));
function variant(file: string, change: (json: Record<string, unknown>) => void): string {
  const json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  change(json);
  const out = path.join(dir, `${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(out, JSON.stringify(json));
  return out;
}

describe('Charlson (Quan et al. 2005)', () => {
  it('holds the 17 conditions with their weights and names its source', () => {
    const index = loadCharlson();
    expect(index.conditions).toHaveLength(17);
    expect(index.source).toMatch(/Quan H.*Med Care 2005/);
    const weights = Object.fromEntries(index.conditions.map((c) => [c.id, c.weight]));
    expect(weights['metastatic-solid-tumour']).toBe(6);
    expect(weights['moderate-severe-liver-disease']).toBe(3);
    expect(weights['renal-disease']).toBe(2);
  });

  it('scores hand-checked cases over every position, each condition once', () => {
    // No comorbidity: hypertension, hyperlipidaemia.
    expect(charlsonScore(['I10X', 'E785'])).toEqual({ score: 0, conditions: [] });
    // MI (I21) 1 + CHF (I500) 1 + COPD (J449) 1 + CKD (N183) 2 = 5; two COPD codes count once.
    expect(charlsonScore(['I214', 'I500', 'J449', 'J441', 'N183']).score).toBe(5);
    // Dementia F03X 1 + old MI I252 1 = 2; I251 (chronic IHD) is not a Charlson condition.
    expect(charlsonScore(['I251', 'F03X', 'I252']).score).toBe(2);
    // Diabetes with complications (E112, 2) supersedes uncomplicated (E119, 1).
    expect(charlsonScore(['E119', 'E112'])).toEqual({
      score: 2,
      conditions: ['diabetes-with-complications'],
    });
    // Metastases (C787, 6) supersede the primary (C509, 2); blanks are ignored.
    expect(charlsonScore(['C509', '', null, 'C787']).score).toBe(6);
    // F05.1 (delirium superimposed on dementia) is dementia; F05.9 is not.
    expect(charlsonScore(['F051']).conditions).toEqual(['dementia']);
    expect(charlsonScore(['F059']).score).toBe(0);
  });

  it('refuses a code list with a bad code, a missing source or an unknown superseded condition', () => {
    const badCode = variant(CHARLSON_FILE, (j) => {
      (j.conditions as { codes: string[] }[])[0]!.codes.push('I2.1');
    });
    expect(() => loadCharlson(badCode)).toThrow(/"I2\.1", which is no ICD-10 code/);
    const noSource = variant(CHARLSON_FILE, (j) => {
      j.source = '';
    });
    try {
      loadCharlson(noSource);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(KernelError);
      expect((error as KernelError).where).toMatchObject({ file: noSource, field: 'source' });
    }
    const badSupersedes = variant(CHARLSON_FILE, (j) => {
      (j.conditions as { supersedes?: string[] }[])[0]!.supersedes = ['nothing'];
    });
    expect(() => loadCharlson(badSupersedes)).toThrow(/supersede "nothing"/);
  });
});

describe('the Hospital Frailty Risk Score (Gilbert et al. 2018)', () => {
  it('holds the 109 categories and names its source', () => {
    const index = loadHfrs();
    expect(index.codes).toHaveLength(HFRS_CATEGORIES);
    expect(index.source).toMatch(/Gilbert T.*Lancet 2018/);
    expect(index.codes.find((c) => c.code === 'F00')?.weight).toBe(7.1);
    expect(index.codes.find((c) => c.code === 'R50')?.weight).toBe(0.1);
  });

  it('scores hand-checked cases by three-character category, each once, and bands them', () => {
    // Pneumonia J189 1.1 + UTI N390 3.2 + unspecified dementia F03X 2.1 = 6.4: intermediate.
    expect(hfrsScore(['J189', 'N390', 'F03X'])).toEqual({
      score: 6.4,
      band: 'intermediate',
      categories: ['N39', 'F03', 'J18'],
    });
    // Two N39 codes count once: 3.2, low.
    expect(hfrsScore(['N390', 'N393'])).toMatchObject({ score: 3.2, band: 'low' });
    // Alzheimer's dementia F00 7.1 + G30 4.0 + fall W19 3.2 + senility R54 2.2 = 16.5: high.
    expect(hfrsScore(['F009', 'G309', 'W19X', 'R54X'])).toMatchObject({ score: 16.5, band: 'high' });
    // Above 15 is high: F00 7.1 + F05 3.2 + N39 3.2 + R55 1.8 = 15.3. F05 3.2 + E86 2.3 = 5.5 is
    // intermediate; R50 0.1 + K52 0.3 = 0.4 is low.
    expect(hfrsScore(['F00', 'F05', 'N39', 'R55']).band).toBe('high');
    expect(hfrsScore(['F059', 'E86X']).band).toBe('intermediate');
    expect(hfrsScore(['R509', 'K529'])).toMatchObject({ score: 0.4, band: 'low' });
    expect(hfrsScore(['I10X', 'E119'])).toEqual({ score: 0, band: 'low', categories: [] });
  });

  it('refuses a list without its 109 categories, or with a category twice', () => {
    const short = variant(HFRS_FILE, (j) => {
      (j.codes as unknown[]).pop();
    });
    expect(() => loadHfrs(short)).toThrow(/108 categories, not the 109/);
    const twice = variant(HFRS_FILE, (j) => {
      const codes = j.codes as { code: string }[];
      codes[1]!.code = codes[0]!.code;
    });
    expect(() => loadHfrs(twice)).toThrow(/F00 twice/);
  });
});
