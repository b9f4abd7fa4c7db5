import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { postcodeKey, readPostcodeLookup } from './postcode-lookup.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-postcodes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function lookupFile(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('the postcode lookup', () => {
  it('gives LSOA and IMD decile, and names the geography it gives them in', async () => {
    const lookup = await readPostcodeLookup(
      lookupFile('onspd.csv', 'pcd,pcds,lsoa11,lsoa21,imd\nME169QQ,ME16 9QQ,Z01000001,Z01000001,3284\n'),
    );
    expect(lookup.get(postcodeKey('me16 9qq'))).toEqual({ lsoa: 'Z01000001', imdDecile: '1' });
    expect(lookup.geography).toEqual({ lsoaVintage: '2011', imdVersion: 'IMD2019' });
  });

  it('takes the index of deprivation a lookup names for itself', async () => {
    const lookup = await readPostcodeLookup(
      lookupFile('named.csv', 'pcds,lsoa11,imd,imd_version\nME16 9QQ,Z01000001,20000,IMD2019-revised\n'),
    );
    expect(lookup.geography?.imdVersion).toBe('IMD2019-revised');
  });

  it('refuses a lookup without the columns it needs, naming them', async () => {
    await expect(
      readPostcodeLookup(lookupFile('bad.csv', 'pcds,lsoa21\nME16 9QQ,Z01000001\n')),
    ).rejects.toMatchObject({
      code: 'config',
      message: expect.stringContaining('lsoa11, imd'),
    });
  });
});
