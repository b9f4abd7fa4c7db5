/**
 * Spells, Charlson and the HFRS through the real path on both engines: a small synthetic
 * world's APC feeds, de-identified by each trust's agent and loaded, read back through the
 * governed reader, and held to the synthetic truth (the world's own extracts, whose rows the
 * truth ties to people). Then the wider APC's validation: a bad code in diagnosis or procedure
 * position 17 is quarantined with its line and field.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsv } from '../files/csv-file-writer.ts';
import type { ReadAccess } from '../governance/access-policy.ts';
import { openGovernedRead } from '../governance/access-policy.ts';
import { listUseCases } from '../governance/use-cases.ts';
import { loadFeed } from '../ingest/load-feed.ts';
import { deidentifyFile } from '../privacy/deidentify-file.ts';
import { newLinkKey } from '../privacy/link-key.ts';
import { readPostcodeLookup } from '../privacy/postcode-lookup.ts';
import { readSigningPrivateKey } from '../privacy/signing-key.ts';
import { readSourceMapping } from '../privacy/source-mapping.ts';
import { hmacTokeniser } from '../privacy/token-scheme.ts';
import { getDataset } from '../catalogue/catalogue.ts';
import { writeExtract } from '../../bench/ingest/extract-writer.ts';
import { catalogueSpecs } from '../ingest/catalogue-specs.ts';
import type { Store } from '../store/store.ts';
import { runCli } from '../../test/cli.ts';
import { putCodeFaults } from '../../test/code-faults.ts';
import { apcFeed, prepareForApc } from '../../test/kill-load.ts';
import { kidWorldForFile, openWorldForSuite } from '../../test/kid-world.ts';
import { auditEventCount } from '../../test/audit-event-count.ts';
import { quarantinedRows } from '../../test/quarantined-rows.ts';
import { testStores } from '../../test/stores.ts';
import { apcDiagnosisFields, apcSpellsSql, readApcSpells, scoreSpell } from './apc-spells.ts';
import { providerSpells, type ApcEpisode } from './spells.ts';
import { csvLine } from '../files/csv-file-writer.ts';

const world = kidWorldForFile({
  people: 2500,
  from: '2021-06',
  to: '2021-11',
  datasets: ['apc'],
  defects: 'none',
  timeout: 120_000,
});

/** The truth's spells: the world's own extracts, each row's person found by NHS number in truth/people.csv. */
function truthSpells(): ReturnType<typeof scoreSpell>[] {
  const [peopleHeader = [], ...peopleRows] = parseCsv(
    readFileSync(path.join(world.dir, 'world', 'truth', 'people.csv'), 'utf8'),
  ).filter((r) => r.length > 1);
  const id = peopleHeader.indexOf('person_id');
  const nhs = peopleHeader.indexOf('nhs_number');
  const tokenOf = new Map(peopleRows.map((r) => [r[nhs] ?? '', world.people[Number(r[id])]?.token ?? null]));
  const episodes: ApcEpisode[] = [];
  const feeds = path.join(world.dir, 'world', 'feeds');
  for (const org of readdirSync(feeds)) {
    let files: string[] = [];
    try {
      files = readdirSync(path.join(feeds, org, 'apc'));
    } catch {
      continue;
    }
    for (const name of files) {
      const [header = [], ...rows] = parseCsv(
        readFileSync(path.join(feeds, org, 'apc', name), 'utf8'),
      ).filter((r) => r.length > 1);
      rows.forEach((row) => {
        const v = (field: string): string => row[header.indexOf(field)] ?? '';
        episodes.push({
          provider: v('Provider_Code'),
          person: tokenOf.get(v('NHS_Number')) ?? null,
          spellNumber: v('Hospital_Provider_Spell_Number'),
          episodeNumber: Number(v('Episode_Number')),
          admissionDate: v('Admission_Date'),
          episodeStart: v('Episode_Start_Date'),
          episodeEnd: v('Episode_End_Date'),
          dischargeDate: v('Discharge_Date') || null,
          admissionMethod: v('Admission_Method'),
          admissionSource: v('Admission_Source'),
          dischargeMethod: v('Discharge_Method'),
          dischargeDestination: v('Discharge_Destination'),
          diagnoses: apcDiagnosisFields()
            .map((f) => v(f))
            .filter(Boolean),
        });
      });
    }
  }
  return providerSpells(episodes).map(scoreSpell);
}

const analyst = { id: 'analyst-1', role: 'analyst', org: null };
const spellKey = (s: { provider: string; person: string | null; spellNumber: string }): string =>
  `${s.provider}/${s.person}/${s.spellNumber}`;

describe.each(testStores())('APC spells, Charlson and HFRS on $engine (issue 18)', (engine) => {
  let store: Store;
  let access: ReadAccess;
  const suite = openWorldForSuite(engine, (s) => (store = s), { world: () => world });
  beforeAll(async () => {
    const useCase = (await listUseCases(store, { state: ['active'] })).find((u) =>
      u.title.startsWith('Costs of frailty'),
    );
    access = { user: analyst, useCaseId: useCase?.id ?? '' };
  });

  it('builds the same provider spells as the truth, with length of stay and both indices', async () => {
    const truth = truthSpells();
    const read = await readApcSpells(store, access);
    expect(read.spells.length).toBeGreaterThan(50);
    const byKey = new Map(read.spells.map((s) => [spellKey(s), s]));
    expect(read.summary.providerSpells).toBe(truth.length);
    for (const t of truth) {
      const s = byKey.get(spellKey(t));
      expect(s, spellKey(t)).toBeDefined();
      expect({
        admission: s?.admissionDate,
        discharge: s?.dischargeDate,
        los: s?.lengthOfStay,
        episodes: s?.episodes,
        charlson: s?.charlson,
        hfrs: s?.hfrs,
      }).toEqual({
        admission: t.admissionDate,
        discharge: t.dischargeDate,
        los: t.lengthOfStay,
        episodes: t.episodes,
        charlson: t.charlson,
        hfrs: t.hfrs,
      });
    }
    // The synthetic trusts transfer nobody: every continuous spell is one provider spell.
    expect(read.summary.continuousSpells).toBe(truth.length);
    expect(read.summary.transfers).toBe(0);
  });

  it("scores each spell from the person's conditions as the truth holds them", async () => {
    const read = await readApcSpells(store, access);
    const byToken = new Map(world.people.map((p) => [p.token, p]));
    let dementia = 0;
    let frail = 0;
    for (const s of read.spells) {
      const person = s.person ? byToken.get(s.person) : undefined;
      if (!person) continue;
      const has = (c: string): boolean =>
        person.conditionsAtStart.includes(c) ||
        (person.incident === c && (person.incidentDate ?? '9999') <= s.admissionDate);
      // Unspecified dementia (F03X) is a Charlson condition (weight 1) and 2.1 HFRS points;
      // frailty is coded R54X, senility, 2.2 points.
      if (has('dementia')) {
        dementia++;
        expect(s.charlsonConditions).toContain('dementia');
        expect(s.diagnoses).toContain('F03X');
        expect(s.hfrs).toBeGreaterThanOrEqual(2.1);
      }
      if (has('frailty')) {
        frail++;
        expect(s.diagnoses).toContain('R54X');
        expect(s.hfrs).toBeGreaterThanOrEqual(2.2);
      }
    }
    expect(dementia).toBeGreaterThan(0);
    expect(frail).toBeGreaterThan(0);
  });

  it('answers the same spells from the SQL view over the governed read, and audits the read', async () => {
    const read = await openGovernedRead(store, access, 'apc');
    const rows = await store.query<{
      provider: string;
      person: string;
      spell_number: string;
      admission_date: string;
      discharge_date: string | null;
      length_of_stay: number | string | null;
      episodes: number | string;
    }>(apcSpellsSql(read.sql));
    const spells = (await readApcSpells(store, access)).spells;
    expect(rows.length).toBe(spells.length);
    const byKey = new Map(spells.map((s) => [spellKey(s), s]));
    for (const r of rows) {
      const s = byKey.get(`${r.provider}/${r.person}/${r.spell_number}`);
      expect({
        admission: r.admission_date,
        discharge: r.discharge_date,
        los: r.length_of_stay === null ? null : Number(r.length_of_stay),
        episodes: Number(r.episodes),
      }).toEqual({
        admission: s?.admissionDate,
        discharge: s?.dischargeDate,
        los: s?.lengthOfStay,
        episodes: s?.episodes,
      });
    }
    expect(await auditEventCount(store, 'data.read', 'dataset:apc')).toBeGreaterThanOrEqual(4);
  });

  it('prints the summary from kernel apc spells, read under the use case by the operator', async () => {
    const expected = (await readApcSpells(store, access)).summary;
    await suite.whileClosed(async (flags) => {
      const json = await runCli(['apc', 'spells', '--usecase', access.useCaseId, '--json', ...flags]);
      expect(json.code).toBe(0);
      const printed = JSON.parse(json.stdout) as typeof expected;
      expect({ ...printed, useCase: '' }).toEqual({ ...expected, useCase: '' });
      const table = await runCli(['apc', 'spells', '--usecase', access.useCaseId, ...flags]);
      expect(table.stdout).toContain(
        `${expected.episodes} episodes make ${expected.providerSpells} provider spells`,
      );
      const refused = await runCli(['apc', 'spells', '--usecase', 'UC-NONE', ...flags]);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).not.toMatch(/\bat .*\.ts:/);
    });
  });

  it('refuses a reader outside the use case', async () => {
    await expect(
      readApcSpells(store, { user: { id: 'stranger', role: 'analyst', org: null }, useCaseId: 'uc-none' }),
    ).rejects.toMatchObject({ code: expect.stringMatching(/forbidden|not-found/) });
  });
});

const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-apc17-'));
/** Row 3 gets a malformed ICD-10 code in diagnosis position 17, row 5 a malformed OPCS-4 code in procedure position 17. */
function badPosition17(extract: string): void {
  const [header = [], ...rows] = parseCsv(readFileSync(extract, 'utf8')).filter((r) => r.length > 1);
  putCodeFaults(
    header,
    rows,
    { diagnosis: 'Secondary_Diagnosis_ICD_17', procedure: 'Secondary_Procedure_OPCS_17' },
    { malformed: 'I2.1', valid: 'F03X' },
  );
  writeFileSync(extract, [header, ...rows].map(csvLine).join(''));
}
const feed = apcFeed(dir, 'apc-2025-04', 40, '2025-04', 7, undefined, badPosition17);

describe.each(testStores())('the wider APC validation on $engine (issue 18)', (engine) => {
  let store: Store;
  beforeAll(async () => {
    store = await engine.open();
    await prepareForApc(store, dir);
  });
  afterAll(async () => {
    await store?.close();
  });

  it('quarantines a bad code in position 17 with its line and field, and loads a good one', async () => {
    const report = await loadFeed(store, { org: 'RWF', dataset: 'apc', file: await feed, actor: 'test' });
    expect(report.status).toBe('loaded');
    expect(await quarantinedRows(store, report.loadId ?? '')).toEqual([
      { source_line: 3, rule: 'code', field: 'Secondary_Diagnosis_ICD_17' },
      { source_line: 5, rule: 'code', field: 'Secondary_Procedure_OPCS_17' },
    ]);
    const header =
      readFileSync(await feed, 'utf8')
        .split('\n')[0]
        ?.split(',') ?? [];
    // the column a reader would look in, counted from 1 in the accepted file
    expect(header.indexOf('Secondary_Diagnosis_ICD_17') + 1).toBeGreaterThan(30);
    const loaded = await store.query<{ n: number | string }>(
      `SELECT count(*) AS n FROM ds_apc WHERE "Secondary_Diagnosis_ICD_17" = 'F03X'`,
    );
    expect(Number(loaded[0]?.n)).toBe(1);
  });
  it('loads an extract with the three positions of version 1.0 through a source mapping, its new fields empty', async () => {
    await feed; // makes RWF's signing key
    const extract = path.join(dir, 'apc-v1.extract.csv');
    await writeExtract({
      spec: getDataset('apc'),
      codeList: catalogueSpecs.codeList,
      file: extract,
      rows: 30,
      period: '2025-05',
      seed: 11,
    });
    // Version 1.0's columns: everything but what 1.1 added.
    const added =
      /^(Secondary_Diagnosis_ICD_([4-9]|1[0-9])|Secondary_Procedure_OPCS_([3-9]|[12][0-9])|Secondary_Procedure_Date_[0-9]+|Administrative_Category|Intended_Management|Main_Specialty_Code|Decided_To_Admit_Date|Discharge_Ready_Date|Episode_HRG|Spell_Core_HRG|Tariff_Year|Tariff_Total_Payment)$/;
    const [header = [], ...rows] = parseCsv(readFileSync(extract, 'utf8')).filter((r) => r.length > 1);
    const keep = header.map((h, i) => (added.test(h) ? -1 : i)).filter((i) => i >= 0);
    expect(keep.length).toBe(32);
    writeFileSync(extract, [header, ...rows].map((r) => csvLine(keep.map((i) => r[i] ?? ''))).join(''));
    const mappingFile = path.join(dir, 'rwf-apc-v1.json');
    const columns = Object.fromEntries(keep.map((i) => [header[i] as string, header[i] as string]));
    writeFileSync(mappingFile, JSON.stringify({ org: 'RWF', dataset: 'apc', columns }));
    const out = path.join(dir, 'apc-v1.csv');
    const result = await deidentifyFile({
      spec: getDataset('apc'),
      org: 'RWF',
      input: extract,
      output: out,
      tokeniser: hmacTokeniser(newLinkKey()),
      postcodes: await readPostcodeLookup(path.join(dir, 'postcodes.csv')),
      signing: readSigningPrivateKey(path.join(dir, 'rwf.key')),
      mapping: readSourceMapping(mappingFile),
    });
    expect(result.mapping?.unsourcedFields.some((f) => f.required)).toBe(false);
    const report = await loadFeed(store, { org: 'RWF', dataset: 'apc', file: out, actor: 'test' });
    expect(report).toMatchObject({ status: 'loaded', rowsRead: 30, rowsLoaded: 30 });
    const [row] = await store.query<{ n: number | string; filled: number | string }>(
      `SELECT count(*) AS n, count("Secondary_Diagnosis_ICD_17") AS filled FROM ds_apc WHERE load_id = $1`,
      [report.loadId],
    );
    expect({ n: Number(row?.n), filled: Number(row?.filled) }).toEqual({ n: 30, filled: 0 });
  });
});
