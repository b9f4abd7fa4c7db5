import { describe, expect, it } from 'vitest';
import { ACCESS_COLUMNS } from '../audit/view-audit.ts';
import type { Store } from '../store/store.ts';
import { openWithMembersForSuite } from '../../test/members-store.ts';
import { testStores } from '../../test/stores.ts';
import { accessesOf, countAccessesOf } from './transparency.ts';
import { proposeUseCase } from './use-cases.ts';

describe.each(testStores())('the transparency record on $engine', (engine) => {
  let store: Store;
  openWithMembersForSuite(engine, (s) => (store = s));

  it('finds reads under a use case named in lower case, and refuses filters that could match nothing', async () => {
    const { id } = await proposeUseCase(
      store,
      {
        title: 'Reads of RWF',
        sponsor: 'QKS',
        purpose: 'planning',
        legalBasis: 'UK GDPR Art 6(1)(e)',
        datasets: ['apc'],
        controllers: ['RWF'],
        start: '2021-04-01',
        end: '2027-03-31',
      },
      'test',
    );
    await store.insertRows('data_access_log', ACCESS_COLUMNS, [
      ['read-1', '2021-06-01T09:00:00.000Z', 'u-x', 'analyst', id, 'apc', 'RWF', true],
    ]);
    const reads = await accessesOf(store, { org: 'rwf', useCaseId: id.toLowerCase() });
    expect(reads.map((r) => [r.useCaseId, r.org])).toEqual([[id, 'RWF']]);
    expect(await countAccessesOf(store, { org: 'RWF', from: '2021-06-01', to: '2021-06-01' })).toBe(1);

    await expect(accessesOf(store, { org: 'RWF', useCaseId: 'UC-999' })).rejects.toMatchObject({
      code: 'not-found',
      where: { field: 'useCase' },
      message: 'No use case UC-999',
    });
    await expect(
      accessesOf(store, { org: 'RWF', from: '2027-01-01', to: '2020-01-01' }),
    ).rejects.toMatchObject({ code: 'usage', where: { field: 'to' } });
    await expect(countAccessesOf(store, { org: 'ZZZ99' })).rejects.toMatchObject({
      code: 'not-found',
      where: { field: 'org' },
    });
  });
});
