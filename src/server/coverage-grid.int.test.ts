import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../store/store.ts';
import { testStores } from '../../test/stores.ts';
import { CoverageGridReader, MAX_GRID_MONTHS } from './coverage-grid.ts';

describe.each(testStores())('the coverage grid’s months on $engine', (engine) => {
  let store: Store;
  let grid: CoverageGridReader;
  beforeAll(async () => {
    store = await engine.open();
    grid = new CoverageGridReader(store);
  });
  afterAll(async () => store.close());

  it('refuses a month outside 1900 to 2999 rather than writing it wrongly', async () => {
    await expect(grid.read({ from: '0000-01', to: '0000-02' })).rejects.toMatchObject({
      code: 'usage',
      where: { field: 'from' },
    });
    await expect(grid.read({ from: '2021-01', to: '9999-12' })).rejects.toMatchObject({
      code: 'usage',
      where: { field: 'to' },
    });
  });

  it(`refuses a period over ${120} months instead of cutting it short`, async () => {
    await expect(grid.read({ from: '1900-01', to: '2100-12' })).rejects.toMatchObject({
      code: 'usage',
      where: { field: 'from' },
      message: expect.stringContaining('2412 months'),
    });
    const ten = await grid.read({ from: '2011-01', to: '2020-12' });
    expect(ten.months).toHaveLength(MAX_GRID_MONTHS);
    expect(ten.months.at(-1)).toBe('2020-12');
  });
});
