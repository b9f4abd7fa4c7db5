/**
 * The demo's programme office: a plan and RAID log like the programme's own for January to
 * October 2021, the team's entries for July 2021, and two subscription payments recorded in
 * July — so `kernel report monthly --month 2021-07` drafts that month's update from the
 * demo's state. Everything goes through the same domain functions as the CLI. Milestones
 * tied to Kernel facts complete from the demo's own records when the plan is refreshed;
 * facts the demo makes today (its loads, approvals and onboarding) belong to today's month,
 * not to 2021, and so stay out of the 2021 updates.
 */
import { inTransaction } from '../governance/governance-values.ts';
import { listInvoices, payInvoice } from '../governance/invoices.ts';
import { listUseCases } from '../governance/use-cases.ts';
import type { Queryable, Store } from '../store/store.ts';
import { addUpdateEntry, setUpdateSummary } from './monthly-update.ts';
import { addMilestone, addWorkstream, changeMilestone, readPlan } from './programme-plan.ts';
import { refreshProgramme, type RefreshResult } from './programme-refresh.ts';
import { CLI_OPERATOR, type ProgrammeCaller } from './programme-values.ts';
import { changeRaidItem, raiseRaidItem, type RaidInput } from './raid-log.ts';

export const DEMO_UPDATE_MONTH = '2021-07';

interface DemoMilestone {
  title: string;
  due: string;
  /** the day it was done, for milestones the team recorded by hand */
  done?: string;
  evidence?: string;
  tie?: string;
}

interface DemoWorkstream {
  title: string;
  owner: string;
  supplier?: boolean;
  from: string;
  to: string;
  milestones: DemoMilestone[];
}

const SUPPLIER = 'Platform supplier (synthetic)';
const CONSULTANCY = 'Infrastructure consultancy (synthetic)';

function demoPlan(maternityUseCase: string | undefined): DemoWorkstream[] {
  return [
    {
      title: 'Proof of concept',
      owner: SUPPLIER,
      supplier: true,
      from: '2021-01',
      to: '2021-03',
      milestones: [
        {
          title: 'Proof of concept demonstrated',
          due: '2021-02',
          done: '2021-02-26',
          evidence: 'Demonstration to the Kernel Development Group',
        },
        {
          title: 'Proof of concept signed off',
          due: '2021-03',
          done: '2021-03-31',
          evidence: 'Programme board minutes, 31 March 2021',
        },
      ],
    },
    {
      title: 'IG processes',
      owner: 'QKS',
      from: '2021-01',
      to: '2021-06',
      milestones: [
        { title: 'Data sharing agreement signed by MTW', due: '2021-03', tie: 'agreement:RWF' },
        {
          title: 'DPIA approved by the controllers',
          due: '2021-04',
          done: '2021-04-22',
          evidence: 'DPIA v1.2 approved by the DPOs',
        },
      ],
    },
    {
      title: 'Infrastructure consultancy',
      owner: CONSULTANCY,
      supplier: true,
      from: '2021-02',
      to: '2021-05',
      milestones: [
        {
          title: 'Hosting design agreed',
          due: '2021-04',
          done: '2021-05-06',
          evidence: 'Design authority sign-off',
        },
      ],
    },
    {
      title: 'Phase 1',
      owner: 'QKS',
      from: '2021-03',
      to: '2021-09',
      milestones: [
        { title: 'SUS loads completed for MTW', due: '2021-09', tie: 'loads:RWF:apc+op+ecds' },
        { title: 'MTW onboarded', due: '2021-08', tie: 'onboarded:RWF' },
        { title: 'Phase 1 closure report', due: '2021-09' },
      ],
    },
    {
      title: 'Website',
      owner: 'QKS',
      from: '2021-04',
      to: '2021-07',
      milestones: [
        {
          title: 'Public transparency website live',
          due: '2021-07',
          done: '2021-07-19',
          evidence: 'The public site at /public',
        },
      ],
    },
    {
      title: 'Processing capabilities',
      owner: SUPPLIER,
      supplier: true,
      from: '2021-04',
      to: '2021-09',
      milestones: [
        {
          title: 'Pseudonymisation at source in use by the acute trusts',
          due: '2021-06',
          done: '2021-06-28',
          evidence: 'Agents installed at the five acute trusts',
        },
      ],
    },
    {
      title: 'Auditing capabilities',
      owner: SUPPLIER,
      supplier: true,
      from: '2021-05',
      to: '2021-08',
      milestones: [
        {
          title: 'Tamper-evident audit log verified',
          due: '2021-07',
          done: '2021-07-08',
          evidence: 'kernel audit verify run by the DPO',
        },
      ],
    },
    {
      title: 'Phase 2 & 3 scoping',
      owner: 'QKS',
      from: '2021-06',
      to: '2021-10',
      milestones: [{ title: 'Phase 2 and 3 business case to the board', due: '2021-10' }],
    },
    {
      title: 'Maternity datasets',
      owner: 'RWF',
      from: '2021-05',
      to: '2021-10',
      milestones: [
        { title: 'MSDS feeds agreed with the acute trusts', due: '2021-08' },
        {
          title: 'Maternity datasets loaded for MTW',
          due: '2021-10',
          tie: 'loads:RWF:msds-booking+msds-delivery+msds-baby',
        },
      ],
    },
    {
      title: 'Maternity dashboard',
      owner: 'QKS',
      from: '2021-07',
      to: '2021-10',
      milestones: [
        { title: 'Maternity dashboard prototype to the LMNS board', due: '2021-09' },
        {
          title: 'Maternity dashboard use case approved',
          due: '2021-10',
          ...(maternityUseCase ? { tie: `usecase:${maternityUseCase}` } : {}),
        },
      ],
    },
  ];
}

const RAID: (RaidInput & { closedOn?: string })[] = [
  {
    kind: 'risk',
    title: 'Trust BI teams have no time to test and sign off datasets',
    owner: 'Programme office',
    likelihood: 4,
    impact: 4,
    mitigation: 'Load reports name every finding by line; sign-off packs to make testing a one-hour task',
    reviewOn: '2021-08-02',
    raisedOn: '2021-02-10',
  },
  {
    kind: 'risk',
    title: 'Members do not confirm their 2021/22 subscriptions in time',
    owner: 'Programme office',
    likelihood: 3,
    impact: 4,
    mitigation: 'Letters to chief executives in February; follow-up at the Kernel Development Group',
    reviewOn: '2021-04-01',
    raisedOn: '2021-01-20',
  },
  {
    kind: 'risk',
    title: 'National data opt-out applied differently by each member',
    owner: 'QKS',
    likelihood: 2,
    impact: 5,
    mitigation: "Applied once, by purpose, in Kernel's access policy",
    reviewOn: '2021-09-01',
    raisedOn: '2021-03-03',
  },
  {
    kind: 'risk',
    title: 'Supplier capacity for Phase 2',
    owner: SUPPLIER,
    likelihood: 2,
    impact: 3,
    mitigation: 'Scope Phase 2 with the supplier before the business case',
    reviewOn: '2021-10-01',
    raisedOn: '2021-05-12',
  },
  {
    kind: 'issue',
    title: 'Server procurement delayed by the supply chain',
    owner: 'QKS',
    impact: 3,
    mitigation: 'Interim hosting on the consultancy’s platform',
    raisedOn: '2021-04-06',
    closedOn: '2021-06-15',
  },
  {
    kind: 'issue',
    title: 'Maternity extracts differ between trusts',
    owner: 'RWF',
    impact: 4,
    mitigation: 'A source mapping per trust, applied by the agent',
    raisedOn: '2021-06-21',
  },
  {
    kind: 'assumption',
    title: 'Members keep sending monthly SUS extracts after Phase 1',
    owner: 'QKS',
    raisedOn: '2021-01-15',
  },
  {
    kind: 'dependency',
    title: 'NHS England publishes the MSDS v2 technical output specification',
    owner: 'NHS England',
    raisedOn: '2021-03-01',
  },
];

export interface DemoProgrammeSummary {
  workstreams: number;
  milestones: number;
  raidItems: number;
  refreshed: RefreshResult | null;
  alreadySeeded: boolean;
}

/** Seeds the 2021 plan and RAID log (once), then brings them up to date with the records. */
export async function seedDemoProgramme(
  store: Store | Queryable,
  actor: string,
): Promise<DemoProgrammeSummary> {
  // One transaction: the seed is there whole, or not at all.
  return inTransaction(store, (tx) => seed(tx, actor));
}

async function seed(store: Queryable, actor: string): Promise<DemoProgrammeSummary> {
  const caller: ProgrammeCaller = { actor, role: CLI_OPERATOR };
  if ((await readPlan(store)).workstreams.length > 0) {
    return { workstreams: 0, milestones: 0, raidItems: 0, refreshed: null, alreadySeeded: true };
  }
  const maternity = (await listUseCases(store)).find((u) => u.title === 'Maternity dashboard')?.id;
  let milestones = 0;
  for (const ws of demoPlan(maternity)) {
    const added = await addWorkstream(
      store,
      { title: ws.title, owner: ws.owner, supplier: ws.supplier ?? false, from: ws.from, to: ws.to },
      caller,
    );
    for (const m of ws.milestones) {
      const milestone = await addMilestone(
        store,
        { workstream: added.id, title: m.title, due: m.due, ...(m.tie ? { tie: m.tie } : {}) },
        caller,
      );
      if (m.done) {
        await changeMilestone(
          store,
          milestone.id,
          { state: 'done', doneOn: m.done, evidence: m.evidence ?? null },
          caller,
        );
      }
      milestones++;
    }
  }
  for (const item of RAID) {
    const { closedOn, ...input } = item;
    const raised = await raiseRaidItem(store, input, caller);
    if (closedOn) await changeRaidItem(store, raised.id, { state: 'closed', closedOn }, caller);
  }
  // Two members paid their 2021/22 subscriptions in July 2021.
  const raised = (await listInvoices(store, { year: '2021/22', state: 'raised' })).slice(0, 2);
  for (const [i, invoice] of raised.entries()) {
    if (invoice.number) await payInvoice(store, invoice.number, actor, i === 0 ? '2021-07-20' : '2021-07-27');
  }
  const month = DEMO_UPDATE_MONTH;
  await setUpdateSummary(
    store,
    {
      month,
      summary:
        'Phase 1 is on track: the public website is live, the audit log is verified and pseudonymisation at source runs at the acute trusts. Maternity work has begun.',
    },
    caller,
  );
  await addUpdateEntry(
    store,
    {
      month,
      section: 'completed',
      text: 'Kernel Development Group met on 8 July 2021; Phase 2 & 3 scoping under way',
    },
    caller,
  );
  await addUpdateEntry(
    store,
    { month, section: 'outstanding', text: 'Recruit a second data engineer' },
    caller,
  );
  await addUpdateEntry(
    store,
    { month, section: 'events', text: 'Kernel Development Group, 12 August 2021' },
    caller,
  );
  await addUpdateEntry(
    store,
    { month, section: 'events', text: 'LMNS board: maternity dashboard prototype, 23 September 2021' },
    caller,
  );
  return {
    workstreams: demoPlan(maternity).length,
    milestones,
    raidItems: RAID.length,
    refreshed: await refreshProgramme(store),
    alreadySeeded: false,
  };
}
