import { describe, expect, it } from 'vitest';
import type { Store } from '../store/store.ts';
import { openWithMembersForSuite } from '../../test/members-store.ts';
import { testStores } from '../../test/stores.ts';
import {
  assertAgreementInForce,
  controllersWithAgreement,
  createAgreement,
  listAgreements,
  setAgreementState,
  type NewAgreement,
} from './agreements.ts';

describe.each(testStores())('data sharing agreements on $engine', (engine) => {
  let store: Store;
  openWithMembersForSuite(engine, (s) => (store = s));

  it('refuses a feed with no agreement, naming the organisation, the dataset and the command', async () => {
    const error = await assertAgreementInForce(store, 'RWF', 'apc', '2021-05').catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'refused',
      message: 'No data sharing agreement covers RWF sending apc',
    });
    expect((error as { hint: string }).hint).toMatch(/kernel agreements add --org RWF --dataset apc/);
  });

  it('accepts a feed inside the period and refuses one outside it', async () => {
    const agreement = await createAgreement(
      store,
      { org: 'RWF', datasets: ['apc', 'op'], from: '2019-04', to: '2022-03' },
      'test',
    );
    expect(agreement.id).toBe('DSA-RWF-001');
    expect(agreement.purposes).toEqual(['direct-care', 'planning', 'research']);
    await expect(assertAgreementInForce(store, 'RWF', 'apc', '2019-04')).resolves.toBeUndefined();
    await expect(assertAgreementInForce(store, 'rwf', 'op', '2022-03')).resolves.toBeUndefined();
    await expect(assertAgreementInForce(store, 'RWF', 'apc', '2022-04')).rejects.toMatchObject({
      code: 'refused',
      message: 'The data sharing agreement for RWF sending apc covers 2019-04 to 2022-03, not 2022-04',
    });
    await expect(assertAgreementInForce(store, 'RWF', 'ecds', '2021-01')).rejects.toMatchObject({
      code: 'refused',
    });
    await expect(assertAgreementInForce(store, 'RPA', 'apc', '2021-01')).rejects.toMatchObject({
      code: 'refused',
    });
  });

  it('stops feeds while suspended and after the end, and says why', async () => {
    await setAgreementState(store, 'DSA-RWF-001', 'suspended', 'test');
    await expect(assertAgreementInForce(store, 'RWF', 'apc', '2021-01')).rejects.toMatchObject({
      code: 'refused',
      message: 'No data sharing agreement in force covers RWF sending apc (DSA-RWF-001 is suspended)',
    });
    await setAgreementState(store, 'DSA-RWF-001', 'in-force', 'test');
    await expect(assertAgreementInForce(store, 'RWF', 'apc', '2021-01')).resolves.toBeUndefined();
    await setAgreementState(store, 'DSA-RWF-001', 'ended', 'test');
    await expect(setAgreementState(store, 'DSA-RWF-001', 'in-force', 'test')).rejects.toMatchObject({
      code: 'conflict',
    });
    await expect(assertAgreementInForce(store, 'RWF', 'apc', '2021-01')).rejects.toMatchObject({
      code: 'refused',
    });
  });

  it('limits purposes, refuses bad input, and audits each change', async () => {
    await createAgreement(
      store,
      { org: 'RPA', datasets: ['apc'], purposes: ['direct-care'], from: '2020-01', to: '2020-12' },
      'test',
    );
    expect(await controllersWithAgreement(store, 'apc', 'direct-care')).toEqual(['RPA']);
    expect(await controllersWithAgreement(store, 'apc', 'planning')).toEqual([]);
    const refused: [NewAgreement, string][] = [
      // a dataset Kernel does not know, an organisation that is not a member
      [{ org: 'RPA', datasets: ['nope'], from: '2020-01', to: '2020-12' }, 'not-found'],
      [{ org: 'ZZZ', datasets: ['apc'], from: '2020-01', to: '2020-12' }, 'not-found'],
      // a period that ends before it starts, a month that does not exist
      [{ org: 'RPA', datasets: ['apc'], from: '2020-12', to: '2020-01' }, 'usage'],
      [{ org: 'RPA', datasets: ['apc'], from: '2020-13', to: '2021-01' }, 'usage'],
    ];
    for (const [agreement, code] of refused) {
      await expect(createAgreement(store, agreement, 'test')).rejects.toMatchObject({ code });
    }
    // The error names the field the caller sent (`signedOn`, `--signed-on`).
    await expect(
      createAgreement(
        store,
        { org: 'RPA', datasets: ['apc'], from: '2020-01', to: '2020-12', signedOn: '2021-02-30' },
        'test',
      ),
    ).rejects.toMatchObject({ code: 'usage', where: { field: 'signedOn' } });
    expect((await listAgreements(store, { dataset: 'apc' })).map((a) => a.id)).toEqual([
      'DSA-RPA-001',
      'DSA-RWF-001',
    ]);
    const actions = await store.query<{ action: string }>(
      "SELECT action FROM audit_events WHERE action LIKE 'agreement.%' ORDER BY seq",
    );
    expect(actions.map((a) => a.action)).toEqual([
      'agreement.created',
      'agreement.suspended',
      'agreement.reinstated',
      'agreement.ended',
      'agreement.created',
    ]);
  });

  it('refuses a filter or a check naming a dataset it does not know or an organisation not registered', async () => {
    const unknownDataset = {
      code: 'not-found',
      where: { field: 'dataset' },
      message: "There is no dataset 'nonsense'",
    };
    await expect(listAgreements(store, { dataset: 'nonsense' })).rejects.toMatchObject(unknownDataset);
    const error = await assertAgreementInForce(store, 'RWF', 'nonsense', '2021-01').catch((e: unknown) => e);
    expect(error).toMatchObject(unknownDataset);
    expect((error as { hint: string }).hint).toMatch(/^Known datasets: .*\bapc\b/);
    await expect(listAgreements(store, { org: 'ZZZ99' })).rejects.toMatchObject({
      code: 'not-found',
      where: { field: 'org' },
      message: 'No organisation ZZZ99 is registered',
    });
    expect((await listAgreements(store, { org: 'rpa' })).map((a) => a.id)).toEqual(['DSA-RPA-001']);
  });
});
