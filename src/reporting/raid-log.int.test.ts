import { describe, expect, it } from 'vitest';
import { completeStep, ONBOARDING_STEPS } from '../governance/onboarding.ts';
import { setSubscription } from '../governance/subscriptions.ts';
import type { Store } from '../store/store.ts';
import { feedWorld, type FeedWorld } from '../../test/programme-world.ts';
import { openForSuite, testStores } from '../../test/stores.ts';
import { refreshProgramme } from './programme-refresh.ts';
import { readRuleOptions, setSignOffWeeks } from './raid-rules.ts';
import type { ProgrammeCaller } from './programme-values.ts';
import {
  changeRaidItem,
  findAutoItem,
  getRaidItem,
  listRaidItems,
  openAt,
  raidHistory,
  raiseRaidItem,
} from './raid-log.ts';

const team: ProgrammeCaller = { actor: 'user:pm@kernel.test', role: 'programme' };
const at = (iso: string): Date => new Date(`${iso}T12:00:00Z`);

describe.each(testStores())('the RAID log on $engine', (engine) => {
  let store: Store;
  let world: FeedWorld;

  openForSuite(
    engine,
    (s) => (store = s),
    async (s) => {
      world = await feedWorld(s, [
        { org: 'RWF', datasets: ['apc'] },
        { org: 'RVV', datasets: ['apc'] },
      ]);
    },
  );

  it('keeps risks, issues, assumptions and dependencies, each with its history', async () => {
    const risk = await raiseRaidItem(
      store,
      {
        kind: 'risk',
        title: 'Trust BI teams have no time to test and sign off',
        owner: 'Programme office',
        likelihood: 4,
        impact: '4',
        mitigation: 'Load reports make testing quick',
        reviewOn: '2021-08-01',
        raisedOn: '2021-02-10',
      },
      team,
    );
    expect(risk).toMatchObject({ id: 'R-001', state: 'open', score: 16, raisedOn: '2021-02-10' });
    const dependency = await raiseRaidItem(
      store,
      { kind: 'dependencies', title: 'National maternity dataset v2 published', owner: 'NHS England' },
      team,
    );
    expect(dependency.id).toBe('D-001');

    await changeRaidItem(store, 'R-001', { likelihood: 2, note: 'Sign-off packs in use' }, team);
    const closed = await changeRaidItem(store, 'r-001', { state: 'closed', closedOn: '2021-09-30' }, team);
    expect(closed).toMatchObject({ state: 'closed', closedOn: '2021-09-30', score: 8 });
    expect(openAt(closed, '2021-08')).toBe(true);
    expect(openAt(closed, '2021-09')).toBe(false);
    expect(openAt(closed, '2021-01')).toBe(false);
    const reopened = await changeRaidItem(store, 'R-001', { state: 'open' }, team);
    expect(reopened.closedOn).toBeNull();
    const history = await raidHistory(store, 'R-001');
    expect(history.map((h) => h.action)).toEqual(['raised', 'updated', 'closed', 'reopened']);
    expect(history[1]).toMatchObject({ changes: { likelihood: 2, score: 8 }, note: 'Sign-off packs in use' });

    await expect(
      raiseRaidItem(store, { kind: 'risk', title: 'No score', owner: 'X' }, team),
    ).rejects.toMatchObject({ code: 'usage', where: { field: 'likelihood' } });
    await expect(
      raiseRaidItem(store, { kind: 'issue', title: 'T', owner: 'X', likelihood: 3 }, team),
    ).rejects.toMatchObject({ code: 'usage', where: { field: 'likelihood' } });
    await expect(
      raiseRaidItem(store, { kind: 'risk', title: 'T', owner: 'X', likelihood: 6, impact: 1 }, team),
    ).rejects.toMatchObject({ code: 'usage' });
    await expect(
      raiseRaidItem(
        store,
        { kind: 'issue', title: 'T', owner: 'X', evidenceHref: 'javascript:alert(1)' },
        team,
      ),
    ).rejects.toMatchObject({ code: 'usage', where: { field: 'href' } });
    await expect(
      raiseRaidItem(store, { kind: 'issue', title: 'T', owner: 'X' }, { actor: 'user:a', role: 'analyst' }),
    ).rejects.toMatchObject({ code: 'forbidden' });
  });

  it('opens an issue when subscriptions are unconfirmed at the start of the year, and closes it when they are', async () => {
    await setSubscription(store, { org: 'RWF', year: '2021/22', state: 'invited' }, 'test');
    await setSubscription(store, { org: 'RVV', year: '2021/22', state: 'confirmed' }, 'test');
    // Before 1 April it is not yet late.
    expect((await refreshProgramme(store, { now: at('2021-03-20') })).raidOpened).toEqual([]);

    const opened = await refreshProgramme(store, { now: at('2021-04-06') });
    expect(opened.raidOpened).toHaveLength(1);
    const issue = await findAutoItem(store, 'subscription-unconfirmed:2021/22');
    expect(issue).toMatchObject({
      id: opened.raidOpened[0],
      kind: 'issue',
      state: 'open',
      raisedOn: '2021-04-06',
      evidenceHref: '/funding?year=2021%2F22',
    });
    expect(issue?.description).toContain('RWF');
    expect(issue?.description).not.toContain('RVV');
    // Nothing changed: nothing written.
    expect(await refreshProgramme(store, { now: at('2021-04-07') })).toMatchObject({
      raidOpened: [],
      raidUpdated: [],
      raidClosed: [],
    });

    await setSubscription(store, { org: 'RWF', year: '2021/22', state: 'confirmed' }, 'test');
    const cleared = await refreshProgramme(store, { now: at('2021-04-20') });
    expect(cleared.raidClosed).toEqual([issue?.id]);
    expect(await getRaidItem(store, issue?.id ?? '')).toMatchObject({
      state: 'closed',
      closedOn: '2021-04-20',
    });

    // The same state again reopens the same item.
    await setSubscription(store, { org: 'RWF', year: '2021/22', state: 'lapsed' }, 'test');
    await setSubscription(store, { org: 'RWF', year: '2021/22', state: 'invited' }, 'test');
    expect((await refreshProgramme(store, { now: at('2021-05-03') })).raidReopened).toEqual([issue?.id]);
    const history = await raidHistory(store, issue?.id ?? '');
    expect(history.map((h) => [h.actor, h.action])).toEqual([
      ['system', 'raised'],
      ['system', 'closed'],
      ['system', 'reopened'],
    ]);
    await setSubscription(store, { org: 'RWF', year: '2021/22', state: 'confirmed' }, 'test');
    await refreshProgramme(store, { now: at('2021-05-04') });
  });

  it("opens an issue when a member's regular feed is late two months running, and closes it when the data comes", async () => {
    for (const step of ONBOARDING_STEPS) await completeStep(store, 'RWF', step.id, 'test');
    await world.send('RWF', ['apc'], '2021-01');
    await world.send('RWF', ['apc'], '2021-02');
    // RVV sends too, but its regular feed is not agreed: nothing is expected of it.
    await world.send('RVV', ['apc'], '2021-01');

    // In mid-April, February is the latest month due: on time.
    expect((await refreshProgramme(store, { now: at('2021-04-15') })).raidOpened).toEqual([]);
    // In May, March is due and missing: one month late is not yet an issue.
    expect((await refreshProgramme(store, { now: at('2021-05-15') })).raidOpened).toEqual([]);
    // In June, March and April are both missing.
    const opened = await refreshProgramme(store, { now: at('2021-06-15') });
    const late = await findAutoItem(store, 'feed-late:RWF');
    expect(opened.raidOpened).toEqual([late?.id]);
    expect(late).toMatchObject({
      owner: 'RWF',
      state: 'open',
      description: 'apc: nothing loaded for 2021-03 or 2021-04',
      evidenceHref: '/catalogue/coverage?org=RWF',
    });
    expect(await findAutoItem(store, 'feed-late:RVV')).toBeUndefined();

    await world.send('RWF', ['apc'], '2021-04');
    const cleared = await refreshProgramme(store, { now: at('2021-06-16') });
    expect(cleared.raidClosed).toEqual([late?.id]);
    expect((await listRaidItems(store, { automatic: true, state: 'open' })).map((i) => i.autoKey)).toEqual(
      [],
    );
  });

  it('waits as many weeks as the programme team set, for every refresh, and audits the change', async () => {
    // RVV's first load finished today: at seven weeks it is not yet late under a ten-week rule.
    const sevenWeeks = new Date(Date.now() + 7 * 7 * 86_400_000);
    await expect(setSignOffWeeks(store, 'ten', team)).rejects.toMatchObject({ code: 'usage' });
    await expect(
      setSignOffWeeks(store, 10, { actor: 'user:v@x.test', role: 'viewer' }),
    ).rejects.toMatchObject({
      code: 'forbidden',
    });
    expect(await setSignOffWeeks(store, 10, team)).toEqual({ signOffWeeks: 10 });
    expect(await readRuleOptions(store)).toEqual({ signOffWeeks: 10 });
    await refreshProgramme(store, { now: sevenWeeks });
    expect(await findAutoItem(store, 'signoff-wait:RVV')).toBeUndefined();
    await setSignOffWeeks(store, 6, team);
    const changes = await store.query<{ details: string }>(
      "SELECT details FROM audit_events WHERE action = 'raid.rules-changed' ORDER BY seq",
    );
    expect(changes.map((c) => JSON.parse(c.details) as unknown)).toEqual([
      { from: 6, to: 10 },
      { from: 10, to: 6 },
    ]);
  });

  it('opens an issue when a member waits for sign-off more than the weeks allowed, and closes it once signed off', async () => {
    // RVV's first load finished today; seven weeks on, it has waited more than six.
    const later = new Date(Date.now() + 7 * 7 * 86_400_000);
    const opened = await refreshProgramme(store, { now: later });
    const waiting = await findAutoItem(store, 'signoff-wait:RVV');
    expect(opened.raidOpened).toContain(waiting?.id);
    expect(waiting?.title).toBe("RVV's data waiting for sign-off more than 6 weeks");
    expect(await findAutoItem(store, 'signoff-wait:RWF')).toBeUndefined();

    for (const step of ONBOARDING_STEPS.slice(0, 6)) await completeStep(store, 'RVV', step.id, 'test');
    expect((await refreshProgramme(store, { now: later })).raidClosed).toContain(waiting?.id);
  });
});
