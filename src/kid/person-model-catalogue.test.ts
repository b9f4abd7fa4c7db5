/**
 * The person-level model as the catalogue describes it: every column of the table, and
 * nothing else, with lineage that the access policy's field groups (KID_LINEAGE) cover.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountsForEveryRole, portalApp, sessionFor } from '../../test/e2e/portal-helpers.ts';
import { getDerivedDataset, lineageOf, listDerivedDatasets } from '../catalogue/derived-datasets.ts';
import { openStore } from '../store/open-store.ts';
import type { Store } from '../store/store.ts';
import { KID_LINEAGE } from './kid-read.ts';
import { MODEL_FIELD_GROUPS } from './person-model.ts';

const MIGRATION = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../store/migrations/097-kid-model.sql',
);

/** The model table's columns as the migration makes them (without the build version). */
function tableColumns(): string[] {
  const sql = readFileSync(MIGRATION, 'utf8');
  const body = /CREATE TABLE kid_model \(([\s\S]*?)\n\);/.exec(sql)?.[1] ?? '';
  return body
    .split('\n')
    .map((line) => /^\s+([a-z_]+) /.exec(line)?.[1])
    .filter((name): name is string => name !== undefined && name !== 'version');
}

describe('the person-level model in the catalogue', () => {
  const model = getDerivedDataset('kid-model');

  it('describes every column of the table, in order, with a meaning and a derivation', () => {
    expect(tableColumns().length).toBeGreaterThan(30);
    expect(model.fields.map((f) => f.name)).toEqual(tableColumns());
    expect(model.fields.find((f) => f.name === 'cost_ae')?.reference).toBe(
      'src/kid/reference/unit-costs.json',
    );
  });

  it('derives each field only from datasets the model\u2019s reads ask the policy about', () => {
    const covered = new Set<string>(MODEL_FIELD_GROUPS.flatMap((g) => KID_LINEAGE[g]));
    expect(lineageOf(model).filter((d) => !covered.has(d))).toEqual([]);
    expect(model.fields.find((f) => f.name === 'segment')?.lineage).toEqual(
      expect.arrayContaining([...KID_LINEAGE.segments]),
    );
    // Community and mental health contacts are counted from the CSDS and MHSDS care contacts,
    // so reading them needs a use case that covers those datasets.
    expect(model.fields.find((f) => f.name === 'community_contacts')?.lineage).toEqual(['csds-care-contact']);
    expect(model.fields.find((f) => f.name === 'mh_contacts')?.lineage).toEqual(['mhsds-care-contact']);
  });

  it('refuses a description whose lineage names a dataset the catalogue does not have', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-derived-'));
    const bad = {
      ...model,
      id: 'broken',
      fields: [{ ...model.fields[0], lineage: ['csds'] }],
    };
    writeFileSync(path.join(dir, 'broken.json'), JSON.stringify(bad));
    expect(() => listDerivedDatasets(dir)).toThrow(
      /derives person_token from "csds", which is not in the catalogue/,
    );
  });
});

describe('the catalogue pages', () => {
  let store: Store;
  beforeAll(async () => {
    store = await openStore({
      dataDir: mkdtempSync(path.join(os.tmpdir(), 'kernel-test-')),
      store: 'duckdb',
    });
  });
  afterAll(async () => {
    await store.close();
  });

  it('list the model beside the feeds and show its fields with their lineage', async () => {
    const accounts = await accountsForEveryRole(store);
    const { cookie } = await sessionFor(store, accounts.viewer.userId);
    const { app } = portalApp(store);
    const list = await app.request('/catalogue', { headers: { cookie } });
    expect(list.status).toBe(200);
    const listed = await list.text();
    expect(listed).toContain('href="/catalogue/derived/kid-model"');
    expect(listed).toContain('Built by Kernel');
    const page = await app.request('/catalogue/derived/kid-model', { headers: { cookie } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('kid_person_model');
    expect(html).toContain('emergency_admissions');
    expect(html).toContain('href="/catalogue/apc"');
    expect(html).toContain('Not yet available');
    expect((await app.request('/catalogue/derived/nothing', { headers: { cookie } })).status).toBe(404);
  });
});
