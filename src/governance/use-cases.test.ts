import { describe, expect, it } from 'vitest';
import type { Store } from '../store/store.ts';
import { openWithMembersForSuite } from '../../test/members-store.ts';
import { testStores } from '../../test/stores.ts';
import { addAccounts } from '../workspace/workspace-world.ts';
import { createAgreement } from './agreements.ts';
import { completeStep, onboardingOverview, onboardingStatus } from './onboarding.ts';
import {
  activateUseCase,
  approveUseCase,
  closeUseCase,
  getUseCase,
  listUseCases,
  proposeUseCase,
  setUseCaseUsers,
} from './use-cases.ts';

describe.each(testStores())('use cases and onboarding on $engine', (engine) => {
  let store: Store;
  openWithMembersForSuite(engine, (s) => (store = s));

  it('approves a use case only when every controller has approved, recording each approval', async () => {
    const proposed = await proposeUseCase(
      store,
      {
        title: 'Costs of frailty',
        sponsor: 'QKS',
        purpose: 'Planning',
        legalBasis: 'UK GDPR Art 6(1)(e) and 9(2)(h)',
        datasets: ['apc', 'asc'],
        controllers: ['RWF', 'E10000016'],
        users: ['role:analyst'],
        start: '2021-04-01',
        end: '2024-03-31',
      },
      'cli:admin',
    );
    expect(proposed).toMatchObject({
      id: 'UC-001',
      state: 'proposed',
      purpose: 'planning',
      optOutApplies: true,
      awaiting: ['E10000016', 'RWF'],
    });
    await expect(activateUseCase(store, 'UC-001', 'cli:admin')).rejects.toMatchObject({
      code: 'conflict',
      message: expect.stringContaining('still awaiting E10000016, RWF'),
    });
    await expect(approveUseCase(store, 'UC-001', 'RPA', 'user:ig')).rejects.toMatchObject({
      code: 'refused',
    });
    const half = await approveUseCase(store, 'UC-001', 'RWF', 'user:ig-rwf');
    expect(half.state).toBe('proposed');
    expect(half.awaiting).toEqual(['E10000016']);
    await expect(approveUseCase(store, 'UC-001', 'RWF', 'user:ig-rwf')).rejects.toMatchObject({
      code: 'conflict',
    });
    const approved = await approveUseCase(store, 'uc-001', 'e10000016', 'user:ig-kcc');
    expect(approved.state).toBe('approved');
    expect(approved.approvals.map((a) => [a.org, a.by])).toEqual([
      ['RWF', 'user:ig-rwf'],
      ['E10000016', 'user:ig-kcc'],
    ]);
    expect((await activateUseCase(store, 'UC-001', 'cli:admin')).state).toBe('active');
    expect((await closeUseCase(store, 'UC-001', 'cli:admin')).state).toBe('closed');
    await expect(activateUseCase(store, 'UC-001', 'cli:admin')).rejects.toMatchObject({ code: 'conflict' });
    const actions = await store.query<{ action: string }>(
      "SELECT action FROM audit_events WHERE target = 'usecase:UC-001' ORDER BY seq",
    );
    expect(actions.map((a) => a.action)).toEqual([
      'usecase.proposed',
      'usecase.controller-approved',
      'usecase.controller-approved',
      'usecase.approved',
      'usecase.active',
      'usecase.closed',
    ]);
  });

  it('refuses incomplete or impossible use cases', async () => {
    const base = {
      title: 'X',
      sponsor: 'QKS',
      purpose: 'research',
      legalBasis: 's251',
      datasets: ['apc'],
      controllers: ['RWF'],
      start: '2021-04-01',
      end: '2022-03-31',
    };
    await expect(proposeUseCase(store, { ...base, purpose: 'curiosity' }, 't')).rejects.toMatchObject({
      code: 'usage',
    });
    await expect(proposeUseCase(store, { ...base, legalBasis: ' ' }, 't')).rejects.toMatchObject({
      code: 'usage',
    });
    await expect(proposeUseCase(store, { ...base, datasets: ['nope'] }, 't')).rejects.toMatchObject({
      code: 'not-found',
    });
    await expect(proposeUseCase(store, { ...base, controllers: ['ZZZ'] }, 't')).rejects.toMatchObject({
      code: 'not-found',
      where: { field: 'controllers' },
    });
    await expect(proposeUseCase(store, { ...base, sponsor: 'ZZZ' }, 't')).rejects.toMatchObject({
      code: 'not-found',
      where: { field: 'sponsor' },
    });
    await expect(listUseCases(store, { controller: 'ZZZ99' })).rejects.toMatchObject({
      code: 'not-found',
      where: { field: 'controller' },
      message: 'No organisation ZZZ99 is registered',
    });
    await expect(proposeUseCase(store, { ...base, end: '2020-01-01' }, 't')).rejects.toMatchObject({
      code: 'usage',
    });
    const care = await proposeUseCase(store, { ...base, purpose: 'direct care' }, 't');
    expect(care.optOutApplies).toBe(false);
    expect((await listUseCases(store, { controller: 'RWF' })).map((u) => u.id)).toEqual(['UC-001', care.id]);
    expect((await getUseCase(store, care.id)).legalBasis).toBe('s251');
  });

  it('runs the onboarding checklist in order, with evidence for the agreement', async () => {
    const start = await onboardingStatus(store, 'RPA');
    expect(start).toMatchObject({ done: 0, total: 7, complete: false });
    expect(start.next?.id).toBe('agreement-signed');
    await expect(completeStep(store, 'RPA', 'dpia-reviewed', 't')).rejects.toMatchObject({
      code: 'conflict',
      message: expect.stringContaining('cannot be done before'),
    });
    await expect(completeStep(store, 'RPA', 'agreement-signed', 't')).rejects.toMatchObject({
      code: 'refused',
    });
    await expect(completeStep(store, 'RPA', 'tea-made', 't')).rejects.toMatchObject({ code: 'usage' });
    await createAgreement(store, { org: 'RPA', datasets: ['apc'], from: '2019-04', to: '2022-03' }, 't');
    let status = await completeStep(
      store,
      'RPA',
      'agreement-signed',
      'user:admin',
      'Signed by the Caldicott Guardian',
    );
    expect(status.steps[0]).toMatchObject({
      done: true,
      by: 'user:admin',
      note: 'Signed by the Caldicott Guardian',
    });
    for (const step of [
      'dpia-reviewed',
      'signing-key-trusted',
      'test-feed-loaded',
      'data-quality-reviewed',
      'dataset-signed-off',
      'regular-feed-agreed',
    ]) {
      status = await completeStep(store, 'RPA', step, 'user:admin');
    }
    expect(status).toMatchObject({ done: 7, complete: true, next: null });
    await expect(completeStep(store, 'RPA', 'dpia-reviewed', 't')).rejects.toMatchObject({
      code: 'conflict',
      message: expect.stringContaining('already done'),
    });
    const overview = await onboardingOverview(store);
    expect(overview.find((o) => o.org === 'RPA')?.done).toBe(7);
    expect(overview.find((o) => o.org === 'RWF')?.done).toBe(0);
  });
  it('refuses a member that is no role and no account, keeping the members it had', async () => {
    await addAccounts(store, [{ id: 'u-real', role: 'analyst', org: null }]);
    const proposal = {
      title: 'Members that exist',
      sponsor: 'QKS',
      purpose: 'planning',
      legalBasis: 'UK GDPR Art 6(1)(e) and 9(2)(h)',
      datasets: ['apc'],
      controllers: ['RWF'],
      start: '2021-04-01',
      end: '2024-03-31',
    };
    await expect(
      proposeUseCase(store, { ...proposal, users: ['u_nope'] }, 'cli:admin'),
    ).rejects.toMatchObject({
      code: 'usage',
      where: { field: 'users' },
      message: 'There is no user "u_nope"',
    });
    const added = await proposeUseCase(store, { ...proposal, users: ['u-real', 'role:viewer'] }, 'cli:admin');
    await expect(
      setUseCaseUsers(store, added.id, ['role:bogus', 'u-real'], 'cli:admin'),
    ).rejects.toMatchObject({
      code: 'usage',
      where: { field: 'users' },
      message: '"role:bogus" names no role',
    });
    await expect(
      setUseCaseUsers(store, added.id, ['role:analyst', 'u_nope'], 'cli:admin'),
    ).rejects.toMatchObject({ code: 'usage', where: { field: 'users' } });
    expect((await getUseCase(store, added.id)).users.sort()).toEqual(['role:viewer', 'u-real']);
    const set = await setUseCaseUsers(store, added.id, ['role:analyst', ' u-real '], 'cli:admin');
    expect(set.users).toEqual(['role:analyst', 'u-real']);
  });

  it('acts on the use case a lower-case id names, and audits it under the register’s id', async () => {
    const { id } = await proposeUseCase(
      store,
      {
        title: 'Lower-case id',
        sponsor: 'QKS',
        purpose: 'planning',
        legalBasis: 'UK GDPR Art 6(1)(e)',
        datasets: ['apc'],
        controllers: ['RWF'],
        users: ['role:analyst'],
        start: '2021-04-01',
        end: '2027-03-31',
      },
      'cli:admin',
    );
    const lower = id.toLowerCase();
    await approveUseCase(store, lower, 'RWF', 'user:ig-rwf');
    expect(await activateUseCase(store, lower, 'cli:admin')).toMatchObject({ id, state: 'active' });
    expect((await getUseCase(store, id)).state).toBe('active');
    expect(await setUseCaseUsers(store, lower, ['role:viewer'], 'cli:admin')).toMatchObject({
      id,
      users: ['role:viewer'],
    });
    expect((await getUseCase(store, id)).users).toEqual(['role:viewer']);
    expect(await closeUseCase(store, ` ${lower} `, 'cli:admin')).toMatchObject({ id, state: 'closed' });
    expect((await getUseCase(store, id)).state).toBe('closed');
    const [stray] = await store.query<{ n: number }>(
      'SELECT count(*) AS n FROM use_case_users WHERE use_case_id = $1',
      [lower],
    );
    expect(Number(stray?.n)).toBe(0);
    const events = await store.query<{ action: string; target: string }>(
      "SELECT action, target FROM audit_events WHERE action IN ('usecase.active', 'usecase.users-set', 'usecase.closed') AND lower(target) = $1 ORDER BY seq",
      [`usecase:${lower}`],
    );
    expect(events).toEqual([
      { action: 'usecase.active', target: `usecase:${id}` },
      { action: 'usecase.users-set', target: `usecase:${id}` },
      { action: 'usecase.closed', target: `usecase:${id}` },
    ]);
  });
});
