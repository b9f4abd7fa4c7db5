import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { getDataset, loadCatalogue } from './catalogue.ts';

const CATALOGUE_DIR = path.dirname(fileURLToPath(import.meta.url));
const roots: string[] = [];
afterAll(() => {
  for (const root of roots) fs.rmSync(root, { recursive: true, force: true });
});

/** The real catalogue with asc's linkageEncoding edited. */
function withAscEncoding(encoding: unknown): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kernel-catalogue-linkage-'));
  roots.push(root);
  for (const sub of ['datasets', 'code-lists']) {
    fs.cpSync(path.join(CATALOGUE_DIR, sub), path.join(root, sub), { recursive: true });
  }
  const file = path.join(root, 'datasets', 'asc.json');
  const spec = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  spec.linkageEncoding = encoding;
  fs.writeFileSync(file, JSON.stringify(spec, null, 2));
  return root;
}

describe('linkageEncoding in a dataset specification', () => {
  it('is declared for the council and PMI datasets, naming their identifier fields', () => {
    expect(getDataset('asc').linkageEncoding?.fields.family_name).toBe('Person_Family_Name');
    expect(getDataset('pmi').linkageEncoding?.fields.date_of_birth).toBe('Person_Birth_Date');
    expect(getDataset('apc').linkageEncoding).toBeUndefined();
  });

  it('refuses a field that does not exist, an unknown input and an unknown scheme', () => {
    const bad = (encoding: unknown) => () => loadCatalogue(withAscEncoding(encoding));
    expect(bad({ scheme: 'person-v1', fields: { family_name: 'Surname' } })).toThrow(
      /'Surname', which is not a field/,
    );
    expect(bad({ scheme: 'person-v1', fields: { shoe_size: 'Gender' } })).toThrow(/no input 'shoe_size'/);
    expect(bad({ scheme: 'person-v9', fields: {} })).toThrow(/must be \{ scheme: 'person-v1'/);
  });
});
