import { describe, expect, it } from 'vitest';
import { listAudit } from '../audit/audit-log.ts';
import { setSubscription } from '../governance/subscriptions.ts';
import type { Store } from '../store/store.ts';
import { feedWorld, type FeedWorld } from '../../test/programme-world.ts';
import { openForSuite, testStores } from '../../test/stores.ts';
import { parseTie } from './milestone-ties.ts';
import {
  addMilestone,
  addWorkstream,
  changeMilestone,
  getMilestone,
  milestoneHistory,
  readPlan,
  stateAsAt,
  updateWorkstream,
} from './programme-plan.ts';
import { refreshProgramme } from './programme-refresh.ts';
import type { ProgrammeCaller } from './programme-values.ts';

const team: ProgrammeCaller = { actor: 'user:pm@kernel.test', role: 'programme' };

describe.each(testStores())('the programme plan on $engine', (engine) => {
  let store: Store;
  let world: FeedWorld;

  openForSuite(
    engine,
    (s) => (store = s),
    async (s) => {
      world = await feedWorld(s, [{ org: 'RWF', datasets: ['apc', 'op', 'ecds'] }]);
    },
  );

  it('keeps workstreams and milestones, numbered, audited, with history', async () => {
    const poc = await addWorkstream(
      store,
      {
        title: 'Proof of concept',
        owner: 'Kernel supplier Ltd',
        supplier: true,
        from: '2021-01',
        to: '2021-03',
      },
      team,
    );
    const ig = await addWorkstream(
      store,
      { title: 'IG processes', owner: 'qks', from: '2021-01', to: '2021-06' },
      team,
    );
    expect([poc.id, ig.id]).toEqual(['WS-01', 'WS-02']);
    expect(ig.owner).toBe('QKS');
    const m = await addMilestone(
      store,
      { workstream: 'WS-01', title: 'Proof of concept signed off', due: '2021-03' },
      team,
    );
    expect(m).toMatchObject({ id: 'M-01', state: 'planned', doneOn: null, tie: null });

    const done = await changeMilestone(
      store,
      'M-01',
      { state: 'done', doneOn: '2021-03-26', evidence: 'Board minutes', evidenceHref: '/programme' },
      team,
    );
    expect(done).toMatchObject({ state: 'done', doneOn: '2021-03-26', evidence: 'Board minutes' });
    expect((await milestoneHistory(store, 'M-01')).map((h) => h.action)).toEqual(['added', 'done']);
    const actions = (await listAudit(store, { limit: 100 })).map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining(['plan.workstream-added', 'plan.milestone-added', 'plan.milestone-done']),
    );

    await updateWorkstream(store, 'WS-02', { to: '2021-07' }, team);
    const plan = await readPlan(store);
    expect(plan.from).toBe('2021-01');
    expect(plan.to).toBe('2021-07');
    expect(plan.workstreams.find((w) => w.id === 'WS-01')?.milestones.map((x) => x.id)).toEqual(['M-01']);
  });

  it('refuses what is wrong, saying what and where', async () => {
    const viewer: ProgrammeCaller = { actor: 'user:v@kernel.test', role: 'viewer' };
    await expect(
      addWorkstream(store, { title: 'X', owner: 'QKS', from: '2021-01', to: '2021-02' }, viewer),
    ).rejects.toMatchObject({ code: 'forbidden' });
    await expect(
      addWorkstream(store, { title: 'X', owner: 'QKS', from: '2021-05', to: '2021-02' }, team),
    ).rejects.toMatchObject({ code: 'usage', where: { field: 'to' } });
    await expect(
      addWorkstream(store, { title: 'X', owner: 'NOPE1', from: '2021-01', to: '2021-02' }, team),
    ).rejects.toMatchObject({ code: 'not-found' });
    await expect(
      addMilestone(store, { workstream: 'WS-01', title: 'Y', due: '2021-13' }, team),
    ).rejects.toMatchObject({ code: 'usage', where: { field: 'due' } });
    await expect(
      addMilestone(
        store,
        { workstream: 'WS-01', title: 'Y', due: '2021-02', tie: 'loads:RWF:apc+nope' },
        team,
      ),
    ).rejects.toMatchObject({ code: 'not-found' });
    // A tie the records could never meet: an organisation not registered, a use case never proposed.
    for (const [tie, message] of [
      ['loads:ZZZ99:apc', 'No organisation ZZZ99 is registered to tie the milestone to'],
      ['onboarded:ZZZ99', 'No organisation ZZZ99 is registered to tie the milestone to'],
      ['usecase:UC-999', 'There is no use case UC-999 to tie the milestone to'],
    ] as const) {
      await expect(
        addMilestone(store, { workstream: 'WS-01', title: 'Y', due: '2021-09', tie }, team),
      ).rejects.toMatchObject({ code: 'not-found', message, where: { field: 'tie' } });
      await expect(changeMilestone(store, 'M-01', { tie }, team)).rejects.toMatchObject({
        code: 'not-found',
        where: { field: 'tie' },
      });
    }
    expect((await getMilestone(store, 'M-01')).tie).toBeNull();
    expect((await readPlan(store)).workstreams.flatMap((w) => w.milestones).map((m) => m.id)).toEqual([
      'M-01',
    ]);
    expect(() => parseTie('weather:RWF')).toThrow(/not a milestone tie/);
    expect(() => parseTie('usecase:frailty')).toThrow(/UC-001/);
    await expect(changeMilestone(store, 'M-99', { state: 'done' }, team)).rejects.toMatchObject({
      code: 'not-found',
    });
  });

  it('completes a milestone tied to a Kernel fact when the fact appears, on its day, with evidence', async () => {
    const phase1 = await addWorkstream(
      store,
      { title: 'Phase 1', owner: 'RWF', from: '2021-01', to: '2021-12' },
      team,
    );
    const sus = await addMilestone(
      store,
      {
        workstream: phase1.id,
        title: 'SUS loads completed for RWF',
        due: '2030-12',
        tie: 'loads:RWF:ecds+apc+op',
      },
      team,
    );
    expect(sus.tie).toBe('loads:RWF:apc+ecds+op');
    const subscription = await addMilestone(
      store,
      {
        workstream: phase1.id,
        title: 'RWF subscribes for 2021/22',
        due: '2030-12',
        tie: 'subscription:RWF:2021-22',
      },
      team,
    );

    // Two of the three datasets for May, the third for June: no month is complete yet.
    await world.send('RWF', ['apc', 'op'], '2021-05');
    await world.send('RWF', ['ecds'], '2021-06');
    expect((await refreshProgramme(store)).milestonesDone).toEqual([]);
    expect((await getMilestone(store, sus.id)).state).toBe('planned');

    await world.send('RWF', ['ecds'], '2021-05');
    const refreshed = await refreshProgramme(store);
    expect(refreshed.milestonesDone).toEqual([sus.id]);
    const done = await getMilestone(store, sus.id);
    const [ecdsLoad] = await store.query<{ finished_at: string }>(
      "SELECT finished_at FROM loads WHERE org_code = 'RWF' AND dataset_id = 'ecds' AND period = '2021-05'",
    );
    expect(done).toMatchObject({
      state: 'done',
      doneOn: ecdsLoad?.finished_at.slice(0, 10),
      evidence: "RWF's apc, ecds, op loaded for 2021-05",
      evidenceHref: '/loads?org=RWF&period=2021-05',
    });
    const history = await milestoneHistory(store, sus.id);
    expect(history.at(-1)).toMatchObject({ actor: 'system', action: 'done' });
    expect((await refreshProgramme(store)).milestonesDone).toEqual([]);

    expect((await getMilestone(store, subscription.id)).state).toBe('planned');
    await setSubscription(store, { org: 'RWF', year: '2021/22', state: 'confirmed', tier: 'large' }, 'test');
    expect((await refreshProgramme(store)).milestonesDone).toEqual([subscription.id]);
    expect((await getMilestone(store, subscription.id)).evidence).toBe(
      'RWF confirmed its 2021/22 subscription',
    );
  });

  it('marks a planned milestone slipped once its month has ended, and reads any month as it stood', async () => {
    const ws = await addWorkstream(
      store,
      { title: 'Website', owner: 'QKS', from: '2021-01', to: '2021-04' },
      team,
    );
    const site = await addMilestone(
      store,
      { workstream: ws.id, title: 'Website live', due: '2021-04' },
      team,
    );
    const result = await refreshProgramme(store, { now: new Date('2021-04-20T12:00:00Z') });
    expect(result.milestonesSlipped).not.toContain(site.id);
    expect(
      (await refreshProgramme(store, { now: new Date('2021-05-02T12:00:00Z') })).milestonesSlipped,
    ).toContain(site.id);
    const slipped = await getMilestone(store, site.id);
    expect(slipped.state).toBe('slipped');
    const done = await changeMilestone(store, site.id, { state: 'done', doneOn: '2021-06-03' }, team);
    expect(stateAsAt(done, '2021-03').state).toBe('planned');
    expect(stateAsAt(done, '2021-04').state).toBe('slipped');
    expect(stateAsAt(done, '2021-06')).toEqual({ state: 'done', doneOn: '2021-06-03' });
  });
});
