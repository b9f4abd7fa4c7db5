import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractText, getDocumentProxy } from 'unpdf';
import { listAudit } from '../audit/audit-log.ts';
import { createAgreement } from '../governance/agreements.ts';
import { setFundingModel } from '../governance/funding-model.ts';
import { draftInvoices, payInvoice, raiseInvoices } from '../governance/invoices.ts';
import { completeStep, ONBOARDING_STEPS } from '../governance/onboarding.ts';
import { setSubscription } from '../governance/subscriptions.ts';
import type { Store } from '../store/store.ts';
import { feedWorld } from '../../test/programme-world.ts';
import { testStores } from '../../test/stores.ts';
import { FACT_KINDS, type FactKind } from './kernel-facts.ts';
import {
  addUpdateEntry,
  issueMonthlyUpdate,
  listMonthlyUpdates,
  monthlyUpdate,
  removeUpdateEntry,
  setUpdateSummary,
  type MonthlyUpdate,
} from './monthly-update.ts';
import { addMilestone, addWorkstream, changeMilestone } from './programme-plan.ts';
import { addMonths } from '../governance/governance-values.ts';
import type { ProgrammeCaller } from './programme-values.ts';
import { changeRaidItem, raiseRaidItem } from './raid-log.ts';
import { monthlyUpdateHtml, monthlyUpdatePdf } from './update-documents.ts';
import { updateLines as updateText } from './programme-operations.ts';
import { activeUseCase } from '../../test/use-cases.ts';

const team: ProgrammeCaller = { actor: 'user:pm@kernel.test', role: 'programme' };
const JULY = '2021-07';

/**
 * What the records themselves say happened in a month, queried directly from each table
 * (not through the reporting module), to check the update against.
 */
async function recordsInMonth(store: Store, month: string): Promise<Record<FactKind, string[]>> {
  const from = `${month}-01`;
  const to = `${addMonths(month, 1)}-01`;
  const ids = async (sql: string): Promise<string[]> =>
    (await store.query<{ id: string }>(sql, [from, to])).map((r) => r.id).sort();
  return {
    load: await ids(
      "SELECT load_id AS id FROM loads WHERE status IN ('loaded', 'superseded') AND finished_at >= $1 AND finished_at < $2",
    ),
    'subscription-confirmed': await ids(
      "SELECT substr(target, 5) || ' ' || (SELECT financial_year FROM subscriptions s WHERE s.org_code = substr(target, 5) LIMIT 1) AS id FROM audit_events WHERE action = 'subscription.confirmed' AND occurred_at >= $1 AND occurred_at < $2",
    ),
    'invoice-raised': await ids('SELECT number AS id FROM invoices WHERE raised_at >= $1 AND raised_at < $2'),
    'invoice-paid': await ids('SELECT number AS id FROM invoices WHERE paid_at >= $1 AND paid_at < $2'),
    'use-case-approved': await ids(
      'SELECT use_case_id AS id FROM use_cases u WHERE (SELECT max(approved_at) FROM use_case_approvals a WHERE a.use_case_id = u.use_case_id) >= $1 AND (SELECT max(approved_at) FROM use_case_approvals a WHERE a.use_case_id = u.use_case_id) < $2',
    ),
    'member-onboarded': await ids(
      "SELECT org_code AS id FROM onboarding_steps WHERE step = 'regular-feed-agreed' AND done_at >= $1 AND done_at < $2",
    ),
    'agreement-signed': await ids(
      'SELECT agreement_id AS id FROM agreements WHERE signed_at >= $1 AND signed_at < $2',
    ),
  };
}

function factRefs(update: MonthlyUpdate): Record<FactKind, string[]> {
  const out = {} as Record<FactKind, string[]>;
  for (const kind of FACT_KINDS) {
    out[kind] = update.facts
      .filter((f) => f.kind === kind)
      .map((f) => f.ref)
      .sort();
  }
  return out;
}

function allLines(update: MonthlyUpdate) {
  return [
    ...update.completed.flatMap((g) => g.lines),
    ...update.keyIssues,
    ...update.outstanding,
    ...update.events,
    ...update.keyRisks,
  ];
}

describe.each(testStores())('the monthly update on $engine', (engine) => {
  let store: Store;
  const thisMonth = new Date().toISOString().slice(0, 7);
  const ids: Record<string, string> = {};

  /** An agreement for one dataset signed on a day: a fact of that day's month. Answers its id. */
  async function signAgreement(org: string, dataset: string, signedOn: string): Promise<string> {
    const agreement = { org, datasets: [dataset], from: '2021-04', to: '2024-03', signedOn };
    return (await createAgreement(store, agreement, 'test')).id;
  }

  beforeAll(async () => {
    store = await engine.open();
    const world = await feedWorld(store, [
      { org: 'RWF', datasets: ['apc', 'op', 'ecds'] },
      { org: 'RVV', datasets: ['apc'] },
    ]);
    // Facts dated by their records in June and July 2021 …
    ids.julyAgreement = await signAgreement('RWF', 'msds-booking', '2021-07-12');
    ids.juneAgreement = await signAgreement('RVV', 'op', '2021-06-30');
    for (const org of ['RWF', 'RVV']) {
      await setSubscription(store, { org, year: '2021/22', state: 'confirmed', tier: 'large' }, 'test');
    }
    await setFundingModel(
      store,
      { year: '2021/22', costPence: 100_000_00, rule: { kind: 'tiers', tiers: { large: 1 } } },
      'test',
    );
    await draftInvoices(store, '2021/22', 'test');
    const [rvvInvoice, rwfInvoice] = await raiseInvoices(store, '2021/22', 'test');
    ids.julyPaid = (await payInvoice(store, rwfInvoice?.number ?? '', 'test', '2021-07-20')).number ?? '';
    ids.junePaid = (await payInvoice(store, rvvInvoice?.number ?? '', 'test', '2021-06-30')).number ?? '';
    // … and facts of this month: loads, an approval, an onboarding.
    await world.send('RWF', ['apc', 'op'], '2021-05');
    await world.send('RVV', ['apc'], '2021-05');
    await activeUseCase(store, {
      title: 'Outpatient follow-up backlog',
      sponsor: 'RWF',
      datasets: ['op'],
      controllers: ['RWF'],
      start: '2021-04-01',
      end: '2030-03-31',
    });
    for (const step of ONBOARDING_STEPS) await completeStep(store, 'RVV', step.id, 'test');

    // The plan and RAID log, kept by the team.
    const ws = await addWorkstream(
      store,
      { title: 'Phase 1', owner: 'QKS', from: '2021-01', to: '2021-10' },
      team,
    );
    const milestone = async (title: string, due: string, doneOn?: string): Promise<string> => {
      const m = await addMilestone(store, { workstream: ws.id, title, due }, team);
      if (doneOn)
        await changeMilestone(store, m.id, { state: 'done', doneOn, evidence: `${title} evidence` }, team);
      return m.id;
    };
    ids.doneInJuly = await milestone('Proof of concept signed off', '2021-07', '2021-07-14');
    ids.doneInJune = await milestone('IG framework agreed', '2021-06', '2021-06-03');
    ids.dueInAugust = await milestone('Maternity dashboard live', '2021-08');
    ids.doneLate = await milestone('Website live', '2021-06', '2021-08-02');
    ids.dueInDecember = await milestone('Phase 2 business case', '2021-12');
    const risk = await raiseRaidItem(
      store,
      {
        kind: 'risk',
        title: 'BI teams lack time for sign-off',
        owner: 'Programme office',
        likelihood: 4,
        impact: 4,
        raisedOn: '2021-02-10',
      },
      team,
    );
    ids.risk = risk.id;
    const closedIssue = await raiseRaidItem(
      store,
      { kind: 'issue', title: 'Server procurement delayed', owner: 'QKS', impact: 3, raisedOn: '2021-05-01' },
      team,
    );
    await changeRaidItem(store, closedIssue.id, { state: 'closed', closedOn: '2021-06-15' }, team);
    ids.closedIssue = closedIssue.id;
    ids.julyIssue = (
      await raiseRaidItem(
        store,
        {
          kind: 'issue',
          title: 'Maternity extract late from one trust',
          owner: 'RWF',
          impact: 4,
          raisedOn: '2021-07-05',
        },
        team,
      )
    ).id;
    ids.augustIssue = (
      await raiseRaidItem(
        store,
        { kind: 'issue', title: 'Later issue', owner: 'QKS', impact: 5, raisedOn: '2021-08-03' },
        team,
      )
    ).id;
    ids.entry = (
      await addUpdateEntry(
        store,
        {
          month: JULY,
          section: 'completed',
          text: 'Maternity dashboard shown to the LMNS board',
          href: '/dashboards/maternity',
        },
        team,
      )
    ).id;
    await addUpdateEntry(
      store,
      { month: JULY, section: 'events', text: 'Kernel Development Group, 12 August 2021' },
      team,
    );
    await setUpdateSummary(
      store,
      { month: JULY, summary: 'A month of agreements and the first payments.' },
      team,
    );
  });
  afterAll(async () => {
    await store.close();
  });

  it("lists exactly the month's facts, checked against the records, and nothing from another month", async () => {
    const july = await monthlyUpdate(store, JULY, team);
    expect(factRefs(july)).toEqual(await recordsInMonth(store, JULY));
    expect(factRefs(july)['agreement-signed']).toEqual([ids.julyAgreement]);
    expect(factRefs(july)['invoice-paid']).toEqual([ids.julyPaid]);
    expect(july.facts).toHaveLength(2);

    const now = await monthlyUpdate(store, thisMonth, team);
    const records = await recordsInMonth(store, thisMonth);
    expect(factRefs(now)).toEqual(records);
    expect(records.load).toHaveLength(3);
    expect(records['invoice-raised']).toHaveLength(2);
    expect(records['use-case-approved']).toHaveLength(1);
    expect(records['member-onboarded']).toEqual(['RVV']);
    expect(factRefs(now)['agreement-signed']).not.toContain(ids.julyAgreement);
    expect(factRefs(now)['invoice-paid']).toEqual([]);

    // Every generated line links to its evidence, and names only July's records.
    const julyRefs = new Set([
      ...july.facts.map((f) => f.ref),
      ids.doneInJuly,
      ids.dueInAugust,
      ids.doneLate,
      ids.risk,
      ids.julyIssue,
      ids.entry,
    ]);
    for (const line of allLines(july)) {
      if (line.source !== 'entry') expect(line.href, line.text).toMatch(/^\//);
      for (const ref of line.refs) if (!ref.startsWith('E-')) expect(julyRefs, line.text).toContain(ref);
    }
    expect(july.completed.map((g) => g.heading)).toEqual([
      'Invoices paid',
      'Data sharing agreements signed',
      'Milestones achieved',
      'Other activities',
    ]);
    expect(
      july.completed.find((g) => g.heading === 'Milestones achieved')?.lines.map((l) => l.refs[0]),
    ).toEqual([ids.doneInJuly]);
    expect(july.outstanding.map((l) => l.refs[0])).toEqual([ids.doneLate, ids.dueInAugust]);
    expect(july.outstanding[0]?.text).toContain('slipped');
    expect(july.keyIssues.map((l) => l.refs[0])).toEqual([ids.julyIssue]);
    expect(july.keyRisks.map((l) => l.refs[0])).toEqual([ids.risk]);
    expect(july.events.map((l) => l.text)).toEqual(['Kernel Development Group, 12 August 2021']);
    expect(july.plan.now).toBe(JULY);
    expect(july.plan.rows[0]?.milestones.find((m) => m.id === ids.doneLate)?.state).toBe('slipped');

    const loadLines = now.completed.find((g) => g.heading === 'Loads completed')?.lines ?? [];
    expect(loadLines.map((l) => l.href)).toEqual([
      '/loads?org=RVV&dataset=apc',
      '/loads?org=RWF&dataset=apc',
      '/loads?org=RWF&dataset=op',
    ]);
    expect(loadLines.flatMap((l) => l.refs).sort()).toEqual(records.load);
  });

  it('renders the update as HTML with the plan as SVG, and as a PDF whose text reads back', async () => {
    const july = await monthlyUpdate(store, JULY, team);
    const html = monthlyUpdateHtml(july, { nonce: 'n0nce' });
    expect(html).toContain('Kernel Development Group – Update: July 2021');
    expect(html).toContain('<style nonce="n0nce">');
    expect(html).toContain(
      `<a href="/organisations/RWF">Data sharing agreement ${ids.julyAgreement} signed by`,
    );
    expect(html).toMatch(/<svg[^>]+role="img"/);
    expect(html).toContain('>Now</text>');

    const pdf = await monthlyUpdatePdf(july, { baseUrl: 'https://kernel.test' });
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    const { totalPages, text } = await extractText(await getDocumentProxy(new Uint8Array(pdf)), {
      mergePages: true,
    });
    expect(totalPages).toBeGreaterThanOrEqual(2);
    const flat = text.replace(/\s+/g, ' ');
    for (const expected of [
      'Kernel Development Group – Update: July 2021',
      '1. Completed activities and milestones achieved',
      `Data sharing agreement ${ids.julyAgreement} signed by`,
      `Invoice ${ids.julyPaid} paid by`,
      'Maternity dashboard shown to the LMNS board',
      '2. Key issues',
      'Maternity extract late from one trust',
      '4. Key risks',
      'BI teams lack time for sign-off',
      '5. High-level plan as at 2021-07-31',
      'Phase 1',
      'Now',
    ]) {
      expect(flat).toContain(expected);
    }
    expect(flat).not.toContain('Later issue');
    expect(pdf.toString('latin1')).toContain('(https://kernel.test/organisations/RWF)');
  });

  it('keeps an issued update exactly as issued; drafts alone can change', async () => {
    const entry = await addUpdateEntry(store, { month: JULY, section: 'risks', text: 'To remove' }, team);
    await removeUpdateEntry(store, { id: entry.id }, team);
    expect((await monthlyUpdate(store, JULY, team)).keyRisks.map((l) => l.text)).not.toContain('To remove');

    await expect(issueMonthlyUpdate(store, thisMonth, team)).rejects.toMatchObject({ code: 'conflict' });
    const issued = await issueMonthlyUpdate(store, JULY, team);
    expect(issued).toMatchObject({ state: 'issued', issuedBy: team.actor });
    expect(issued.issuedSha256).toMatch(/^[0-9a-f]{64}$/);

    // The records move on; the issued update does not.
    await changeMilestone(store, ids.dueInAugust ?? '', { state: 'done', doneOn: '2021-07-30' }, team);
    await signAgreement('RVV', 'ecds', '2021-07-28');
    expect(await monthlyUpdate(store, JULY, team)).toEqual(issued);

    await expect(
      addUpdateEntry(store, { month: JULY, section: 'events', text: 'Late' }, team),
    ).rejects.toMatchObject({
      code: 'conflict',
    });
    await expect(setUpdateSummary(store, { month: JULY, summary: 'Changed' }, team)).rejects.toMatchObject({
      code: 'conflict',
    });
    await expect(issueMonthlyUpdate(store, JULY, team)).rejects.toMatchObject({ code: 'conflict' });
    await expect(removeUpdateEntry(store, { id: ids.entry ?? '' }, team)).rejects.toMatchObject({
      code: 'conflict',
    });
    expect(await listMonthlyUpdates(store, team)).toEqual([
      expect.objectContaining({ month: JULY, state: 'issued' }),
    ]);
    await expect(monthlyUpdate(store, JULY, { actor: 'user:v', role: 'viewer' })).rejects.toMatchObject({
      code: 'forbidden',
    });
  });

  it('removes an entry only from the month named, when one is named', async () => {
    const august = '2021-08';
    const entry = await addUpdateEntry(store, { month: august, section: 'events', text: 'Board' }, team);
    await expect(removeUpdateEntry(store, { id: entry.id, month: '2020-01' }, team)).rejects.toMatchObject({
      code: 'not-found',
      message: `There is no entry ${entry.id} in the update for January 2020`,
    });
    await expect(removeUpdateEntry(store, { id: entry.id, month: '2021-99' }, team)).rejects.toMatchObject({
      code: 'usage',
      where: { field: 'month' },
    });
    expect((await monthlyUpdate(store, august, team)).events.map((l) => l.refs[0])).toEqual([entry.id]);
    expect(await removeUpdateEntry(store, { id: entry.id, month: august }, team)).toEqual(entry);
    expect((await monthlyUpdate(store, august, team)).events).toEqual([]);
  });

  // Last: it issues this month's update, as if read from the month after.
  it('shows rows loaded under the loads API’s disclosure rule, drafted or issued, and audits each read', async () => {
    const admin: ProgrammeCaller = { actor: 'user:admin@kernel.test', role: 'admin' };
    const loadsOf = (update: MonthlyUpdate) =>
      update.completed.find((g) => g.heading === 'Loads completed') ?? { lines: [], note: undefined };
    const [before] = await listAudit(store, { limit: 1 });

    // Each feed loaded at most 6 rows: 1–7 is shown as * to the programme team, as by /api/v1/loads.
    const teamDraft = await monthlyUpdate(store, thisMonth, team);
    expect(teamDraft.disclosure).toBe('hes2018');
    expect(loadsOf(teamDraft).lines.map((l) => l.text)).toEqual([
      expect.stringMatching(/: apc loaded for 2021-05 \(1 load, \* rows\)$/),
      expect.stringMatching(/: apc loaded for 2021-05 \(1 load, \* rows\)$/),
      expect.stringMatching(/: op loaded for 2021-05 \(1 load, \* rows\)$/),
    ]);
    expect(loadsOf(teamDraft).note).toMatch(/counts from 1 to 7 are shown as \*/);
    expect(teamDraft.facts.filter((f) => f.kind === 'load').map((f) => f.rows)).toEqual(['*', '*', '*']);
    expect(updateText(teamDraft)).not.toMatch(/\b[1-7] rows/);
    const html = monthlyUpdateHtml(teamDraft);
    expect(html).toContain('(1 load, * rows)');
    expect(html).toContain('counts from 1 to 7 are shown as *');

    // An admin reconciles feeds with their senders, so sees them exactly, as in the loads API.
    const adminDraft = await monthlyUpdate(store, thisMonth, admin);
    expect(adminDraft.disclosure).toBe('none');
    expect(loadsOf(adminDraft).lines.map((l) => l.text)).toEqual([
      expect.stringMatching(/\(1 load, [1-7] rows\)$/),
      expect.stringMatching(/\(1 load, [1-7] rows\)$/),
      expect.stringMatching(/\(1 load, [1-7] rows\)$/),
    ]);
    expect(loadsOf(adminDraft).note).toBeUndefined();

    // Issued, it is circulated to the group: controlled whoever issues it or reads it.
    const nextMonth = new Date(`${addMonths(thisMonth, 1)}-02T00:00:00Z`);
    const issued = await issueMonthlyUpdate(store, thisMonth, admin, { now: nextMonth });
    expect(issued.disclosure).toBe('hes2018');
    expect(loadsOf(issued).lines.every((l) => l.text.endsWith('(1 load, * rows)'))).toBe(true);
    expect(await monthlyUpdate(store, thisMonth, admin)).toEqual(issued);

    // One issued before the rule applied is shown under it; its SHA-256 is that of what was issued.
    const legacy = { ...adminDraft, month: '2020-01', state: 'issued', issuedSha256: 'f'.repeat(64) };
    delete (legacy as Partial<MonthlyUpdate>).disclosure;
    await store.run(
      `INSERT INTO programme_updates (month, state, summary, issued_content, issued_sha256, issued_at, issued_by, created_at, created_by, updated_at, updated_by)
       VALUES ('2020-01', 'issued', '', $1, $2, $3, 'test', $3, 'test', $3, 'test')`,
      [JSON.stringify(legacy), 'f'.repeat(64), '2020-02-03T00:00:00.000Z'],
    );
    const shown = await monthlyUpdate(store, '2020-01', admin);
    expect(shown).toMatchObject({ disclosure: 'hes2018', issuedSha256: 'f'.repeat(64) });
    expect(loadsOf(shown).lines.map((l) => l.text)).toEqual(loadsOf(teamDraft).lines.map((l) => l.text));
    expect(shown.facts.filter((f) => f.kind === 'load').map((f) => f.rows)).toEqual(['*', '*', '*']);

    // Every read and the issue are audited as reads of load metadata, with the rule applied.
    const reads = (await listAudit(store, { action: 'metadata.read', limit: 100 }))
      .filter((e) => e.seq > (before?.seq ?? 0))
      .map((e) => ({ actor: e.actor, target: e.target, ...(JSON.parse(e.details) as object) }))
      .reverse();
    expect(reads).toEqual([
      {
        actor: team.actor,
        target: `update:${thisMonth}`,
        role: 'programme',
        disclosure: 'hes2018',
        month: thisMonth,
      },
      {
        actor: admin.actor,
        target: `update:${thisMonth}`,
        role: 'admin',
        disclosure: 'none',
        month: thisMonth,
      },
      {
        actor: admin.actor,
        target: `update:${thisMonth}`,
        role: 'admin',
        disclosure: 'hes2018',
        month: thisMonth,
      },
      {
        actor: admin.actor,
        target: `update:${thisMonth}`,
        role: 'admin',
        disclosure: 'hes2018',
        month: thisMonth,
      },
      {
        actor: admin.actor,
        target: 'update:2020-01',
        role: 'admin',
        disclosure: 'hes2018',
        month: '2020-01',
      },
    ]);
  });
});
