/**
 * The council datasets' rules on both engines: a month of each synthetic feed (district
 * council housing and benefits, and adult social care under the CLD code lists) loads whole
 * when clean, and each row broken in one field is quarantined naming that field, while the
 * rest load. Kernel's former ASC codes are now refused: the CLD values are the codes.
 */
import { createPrivateKey } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testStores } from '../../test/stores.ts';
import { getDataset } from '../catalogue/catalogue.ts';
import { parseCsv, csvLine } from '../files/csv-file-writer.ts';
import { seedDemoGovernance } from '../governance/demo-governance.ts';
import { loadFeed } from '../ingest/load-feed.ts';
import { trustSigningKey } from '../ingest/trusted-keys.ts';
import { deidentifyFile } from '../privacy/deidentify-file.ts';
import { newLinkKey } from '../privacy/link-key.ts';
import { newSigningKeyPair } from '../privacy/signing-key.ts';
import { hmacTokeniser } from '../privacy/token-scheme.ts';
import type { Store } from '../store/store.ts';
import { DEFECT_KINDS } from './defects.ts';
import { generateWorld } from './generate-world.ts';
import { isNilReturn, listWorldFeeds } from './world-feeds.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-council-rules-'));
const world = path.join(dir, 'world');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Per dataset: one broken value per row, and the field the quarantine must name. */
const BROKEN: Record<string, Record<string, string>> = {
  'council-housing': {
    Event_Type: 'eviction',
    Event_End_Date: '2000-01-01',
    Household_Size: '25',
    Council_Code: 'X1',
    Case_Reference: '',
    Temporary_Accommodation_Type: 'caravan',
  },
  'council-benefits': {
    Benefit_Type: 'universal-credit',
    Claim_End_Date: '1990-01-01',
    Weekly_Award: '-5',
    Passported: 'maybe',
    Claim_Reference: '',
    Tenure: 'houseboat',
  },
  asc: {
    Service_Type: 'ltc-home-care',
    Primary_Support_Reason: 'memory-cognition',
    Event_Type: 'Contact',
    Event_Outcome: 'NFA - Deceased',
    Client_Type: 'carer',
    Service_Component: 'Meals on wheels',
  },
};
const ORG: Record<string, string> = {
  'council-housing': 'E07000110',
  'council-benefits': 'E07000113',
  asc: 'E10000016',
};

interface Case {
  dataset: string;
  period: string;
  file: string;
  clean: number;
  /** source line → the field broken on it */
  broken: Map<number, string>;
}
const cases: Case[] = [];
const tokeniser = hmacTokeniser(newLinkKey());
const keys = new Map(Object.values(ORG).map((org) => [org, newSigningKeyPair()]));

beforeAll(async () => {
  // No injected defects: every row is clean until the test breaks one field of it.
  const none = Object.fromEntries(DEFECT_KINDS.map((kind) => [kind, 0]));
  generateWorld({ out: world, people: 20_000, seed: 11, from: '2020-04', to: '2020-06', defectRates: none });
  for (const [dataset, broken] of Object.entries(BROKEN)) {
    const feed = listWorldFeeds(world, [dataset]).find(
      (f) =>
        f.org === ORG[dataset] && !isNilReturn(f.file) && parseCsv(readFileSync(f.file, 'utf8')).length > 3,
    )!;
    const [header = [], ...rows] = parseCsv(readFileSync(feed.file, 'utf8'));
    const lines = [header];
    const brokenAt = new Map<number, string>();
    // A Service row for ASC, so a service's own fields are there to break.
    const base =
      rows.find((r) => dataset !== 'asc' || r[header.indexOf('Event_Type')] === 'Service') ?? rows[0]!;
    for (const [field, value] of Object.entries(broken)) {
      const row = [...base];
      row[header.indexOf(field)] = value;
      lines.push(row);
      brokenAt.set(lines.length, field);
    }
    lines.push(...rows);
    const extract = path.join(dir, 'extracts', dataset, `${feed.period}.csv`);
    mkdirSync(path.dirname(extract), { recursive: true });
    writeFileSync(extract, lines.map((l) => csvLine(l)).join(''));
    const pair = keys.get(feed.org)!;
    const output = path.join(dir, 'outbox', dataset, `${feed.period}.csv`);
    mkdirSync(path.dirname(output), { recursive: true });
    await deidentifyFile({
      spec: getDataset(dataset),
      org: feed.org,
      input: extract,
      output,
      tokeniser,
      signing: { keyId: pair.keyId, privateKey: createPrivateKey(pair.privateKeyPem) },
      period: feed.period,
    });
    cases.push({ dataset, period: feed.period, file: output, clean: rows.length, broken: brokenAt });
  }
}, 120_000);

describe.each(testStores())('council datasets’ rules on $engine', (engine) => {
  let store: Store;
  beforeAll(async () => {
    store = await engine.open();
    await seedDemoGovernance(store, 'test');
    for (const [org, pair] of keys) await trustSigningKey(store, org, pair.publicKeyPem, 'test');
  });
  afterAll(async () => {
    await store.close();
  });

  it.each(Object.keys(BROKEN))(
    '%s: loads the clean rows and quarantines each broken one by its field',
    async (dataset) => {
      const c = cases.find((x) => x.dataset === dataset)!;
      const report = await loadFeed(store, {
        org: ORG[dataset]!,
        dataset,
        period: c.period,
        file: c.file,
        actor: 'test',
      });
      expect(report.status).toBe('loaded');
      expect(report.rowsLoaded).toBe(c.clean);
      const quarantined = await store.query<{ source_line: number; field: string | null }>(
        'SELECT source_line, field FROM load_quarantine WHERE load_id = $1 ORDER BY source_line',
        [report.loadId],
      );
      const byLine = new Map<number, Set<string>>();
      for (const q of quarantined) {
        const line = Number(q.source_line);
        if (!byLine.has(line)) byLine.set(line, new Set());
        byLine.get(line)!.add(q.field ?? '');
      }
      expect([...byLine.keys()].sort((a, b) => a - b)).toEqual([...c.broken.keys()]);
      for (const [line, field] of c.broken)
        expect([line, byLine.get(line)?.has(field)]).toEqual([line, true]);
    },
  );
});
