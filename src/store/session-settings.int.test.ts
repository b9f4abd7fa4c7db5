import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testStores } from '../../test/stores.ts';
import type { Store } from './store.ts';
import { withSessionSettings } from './session-settings.ts';

// Settings held for the span of one job (Dialect.bulkLoad, Dialect.kidBuild) are put back
// however the job ends, and one the engine refuses does not stop it.
describe.each(testStores())('settings for the span of a job on $engine', (engine) => {
  let store: Store;
  beforeAll(async () => {
    store = await engine.open();
  });
  afterAll(async () => store.close());

  // A setting both engines have, read back as text.
  const setting = engine.engine === 'duckdb' ? 'threads' : 'work_mem';
  const read = async (): Promise<string> =>
    String((await store.query<{ v: string }>(`SELECT current_setting('${setting}') AS v`))[0]?.v);
  const changed = engine.engine === 'duckdb' ? '1' : '7MB';
  const settings = { before: `SET ${setting} = '${changed}'`, after: `RESET ${setting}` };

  it('hold for the work and are put back after it', async () => {
    const before = await read();
    expect(before).not.toBe(changed);
    const during = await withSessionSettings(store, settings, read);
    expect(during).toBe(changed);
    expect(await read()).toBe(before);
  });

  it('are put back when the work fails', async () => {
    const before = await read();
    await expect(
      withSessionSettings(store, settings, async () => {
        expect(await read()).toBe(changed);
        throw new Error('the work failed');
      }),
    ).rejects.toThrow('the work failed');
    expect(await read()).toBe(before);
  });

  it('let the work go ahead when the engine refuses them', async () => {
    const refused = { before: 'SET kernel_no_such_setting = 1', after: 'RESET kernel_no_such_setting' };
    expect(await withSessionSettings(store, refused, async () => 'done')).toBe('done');
  });

  it('cap DuckDB\u2019s memory for a KID build and nothing on PostgreSQL', async () => {
    const cap = store.dialect.kidBuild;
    if (engine.engine === 'postgres') {
      expect(cap).toBeNull();
      return;
    }
    const memory = async (): Promise<string> =>
      String((await store.query<{ v: string }>(`SELECT current_setting('memory_limit') AS v`))[0]?.v);
    const before = await memory();
    expect(await withSessionSettings(store, cap, memory)).toBe('2.0 GiB');
    expect(await memory()).toBe(before);
  });
});
