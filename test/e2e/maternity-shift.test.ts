/**
 * Issue 17: a real change, injected into the synthetic world, is flagged on the dashboard
 * within the run length. The world's induced share of labours rises from about 33% to 55%
 * from June 2021 (truth/changes.json); its MSDS extracts go through the real agent and the
 * real load, and the induction-of-labour chart must show special cause in one of the seven
 * months from the change, and no high one in the 17 months before it. (Months before the change
 * may be flagged low: the chart's mean includes the raised months, as it would for a board
 * until the chart is rebased at the change.)
 */
import { createPrivateKey } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NO_DISCLOSURE_CONTROL } from '../../src/analytics/disclosure-control.ts';
import { clearMaternityCache, maternityDashboard } from '../../src/analytics/maternity-dashboard.ts';
import { getDataset } from '../../src/catalogue/catalogue.ts';
import { seedDemoGovernance } from '../../src/governance/demo-governance.ts';
import { loadFeed } from '../../src/ingest/load-feed.ts';
import { deidentifyFile } from '../../src/privacy/deidentify-file.ts';
import { newLinkKey } from '../../src/privacy/link-key.ts';
import { readPostcodeLookup } from '../../src/privacy/postcode-lookup.ts';
import { newSigningKeyPair } from '../../src/privacy/signing-key.ts';
import { readSourceMapping, type SourceMapping } from '../../src/privacy/source-mapping.ts';
import { hmacTokeniser } from '../../src/privacy/token-scheme.ts';
import { trustSigningKey } from '../../src/privacy/trusted-keys.ts';
import { DEFECT_KINDS } from '../../src/synth/defects.ts';
import { generateWorld } from '../../src/synth/generate-world.ts';
import { worldMappingFile } from '../../src/synth/world-feeds.ts';
import { testStores } from '../stores.ts';

const FROM = '2020-01';
const TO = '2021-12';
const CHANGE = '2021-06';
const ACUTE = ['RN7', 'RPA', 'RVV', 'RWF'];

describe('a change injected into the synthetic world', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-maternity-shift-'));
  const worldDir = path.join(dir, 'world');
  const mappingOf = (org: string, dataset: string): { mapping?: SourceMapping } => {
    const file = worldMappingFile(worldDir, org, dataset);
    return file ? { mapping: readSourceMapping(file) } : {};
  };

  it.each(testStores().filter((s) => s.engine === 'duckdb'))(
    'is flagged within the run length on the induction chart ($engine)',
    async (engine) => {
      clearMaternityCache();
      generateWorld({
        out: worldDir,
        people: 80_000,
        seed: 3,
        from: FROM,
        to: TO,
        defectRates: Object.fromEntries(DEFECT_KINDS.map((k) => [k, 0])),
        changes: [{ kind: 'induction-of-labour', from: CHANGE, share: 0.55 }],
      });
      expect(JSON.parse(readFileSync(path.join(worldDir, 'truth', 'changes.json'), 'utf8'))).toEqual([
        { kind: 'induction-of-labour', from: CHANGE, share: 0.55 },
      ]);
      const store = await engine.open();
      try {
        await seedDemoGovernance(store, 'test');
        const tokeniser = hmacTokeniser(newLinkKey());
        const postcodes = await readPostcodeLookup(path.join(worldDir, 'reference', 'postcodes.csv'));
        for (const org of ACUTE) {
          const pair = newSigningKeyPair();
          const signing = { keyId: pair.keyId, privateKey: createPrivateKey(pair.privateKeyPem) };
          await trustSigningKey(store, org, pair.publicKeyPem, 'test');
          for (const dataset of ['msds-booking', 'msds-delivery', 'msds-baby']) {
            for (const name of readdirSync(path.join(worldDir, 'feeds', org, dataset)).sort()) {
              const input = path.join(worldDir, 'feeds', org, dataset, name);
              if (readFileSync(input, 'utf8').trim().split('\n').length < 2) continue;
              const output = path.join(dir, 'outbox', org, dataset, name);
              mkdirSync(path.dirname(output), { recursive: true });
              const period = name.slice(0, 7);
              await deidentifyFile({
                spec: getDataset(dataset),
                org,
                input,
                output,
                tokeniser,
                postcodes,
                signing,
                period,
                // RPA and RN7 export in layouts of their own: the agent maps them first.
                ...mappingOf(org, dataset),
              });
              await loadFeed(store, { org, dataset, period, file: output, actor: 'test' });
            }
          }
        }
        const result = await maternityDashboard(
          store,
          { user: { id: 'u-analyst', role: 'analyst', org: null } },
          { from: FROM, to: TO },
          { disclosure: NO_DISCLOSURE_CONTROL },
        );
        const induction = result.measures.find((m) => m.id === 'induction-of-labour')!;
        const points = induction.series.points;
        const changeAt = result.months.indexOf(CHANGE);
        expect(changeAt).toBe(17);
        const mean = induction.series.spc.mean ?? NaN;
        const high = (i: number): boolean =>
          (points[i]?.rules.length ?? 0) > 0 &&
          typeof points[i]?.value === 'number' &&
          (points[i]?.value as number) > mean;
        // found high within the run length of the change ...
        const firstHigh = points.findIndex((_, i) => high(i));
        expect(firstHigh).toBeGreaterThanOrEqual(changeAt);
        expect(firstHigh).toBeLessThan(changeAt + 7);
        // ... and every month from the change on is part of the signal (the shift's run)
        expect(points.slice(changeAt).every((p) => p.rules.includes('shift'))).toBe(true);
      } finally {
        await store.close();
      }
    },
    300_000,
  );
});
