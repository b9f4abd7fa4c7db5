import { describe, expect, it } from 'vitest';
import { openWithMembersForSuite } from '../../test/members-store.ts';
import { testStores } from '../../test/stores.ts';
import type { Store } from '../store/store.ts';
import { listFeedSchedules, setFeedSchedule } from './feed-schedules.ts';

describe.each(testStores())('feed schedules name real feeds on $engine', (engine) => {
  let store: Store;
  openWithMembersForSuite(engine, (s) => (store = s));

  it('refuses an organisation not registered and a dataset not in the catalogue', async () => {
    const feed = { org: 'RWF', dataset: 'apc', dueWorkingDay: 5, from: '2021-01' };
    await expect(setFeedSchedule(store, { ...feed, org: 'NOPE' }, 'test')).rejects.toMatchObject({
      code: 'usage',
      where: { field: 'org' },
    });
    await expect(setFeedSchedule(store, { ...feed, dataset: 'nope' }, 'test')).rejects.toMatchObject({
      code: 'usage',
      where: { field: 'dataset' },
    });
    expect(await listFeedSchedules(store)).toEqual([]);
    expect(await setFeedSchedule(store, feed, 'test')).toMatchObject({ org: 'RWF', dataset: 'apc' });
  });
});
