/**
 * The demo's governance: what `kernel demo` calls after building the synthetic world.
 * Everything goes through the same domain functions as the CLI, in one transaction, so
 * the audit log tells the story of an afternoon's onboarding.
 */
import type { Queryable, Store } from '../store/store.ts';
import { createAgreement } from './agreements.ts';
import { findMember } from '../catalogue/members.ts';
import { datasetsSuppliedBy } from './datasets.ts';
import { setFundingModel, addFundingSource } from './funding-model.ts';
import { parsePounds } from './governance-values.ts';
import { draftInvoices, raiseInvoices } from './invoices.ts';
import { KENT_AND_MEDWAY_MEMBERS } from './kent-medway-members.ts';
import { completeStep, ONBOARDING_STEPS } from './onboarding.ts';
import { listOrganisations, seedOrganisations, type Organisation, type OrgType } from './organisations.ts';
import { setSubscription } from './subscriptions.ts';
import {
  activateUseCase,
  approveUseCase,
  listUseCases,
  proposeUseCase,
  type NewUseCase,
} from './use-cases.ts';

export const DEMO_YEAR = '2021/22';
/** Agreements cover the synthetic world's months and the year invoiced. */
export const DEMO_AGREEMENT_FROM = '2019-04';
export const DEMO_AGREEMENT_TO = '2022-03';

/** Everyone signed in may use the demo's use cases; the policy still narrows each read by role. */
const DEMO_USERS = ['role:admin', 'role:analyst', 'role:ig-lead', 'role:provider', 'role:viewer'];

export interface ExtraOrganisation {
  code: string;
  name: string;
  type: OrgType;
}

export interface DemoGovernanceSummary {
  organisations: number;
  agreements: number;
  subscriptions: number;
  useCases: string[];
  invoices: { number: string | null; org: string; amountPence: number }[];
  alreadySeeded: boolean;
}

/**
 * Which datasets an organisation supplies: a member's, from the one list of members
 * (src/catalogue/members.json); another organisation's (the world's GP practices), what the
 * catalogue says its type may send. In the catalogue's order either way.
 */
function supplies(org: Organisation): string[] {
  const member = findMember(org.code);
  const mayers = datasetsSuppliedBy(org.type);
  return member ? mayers.filter((d) => member.supplies.includes(d)) : mayers;
}

const TIER_BY_TYPE: Partial<Record<OrgType, string>> = {
  acute: 'large',
  icb: 'large',
  community: 'medium',
  'mental-health': 'medium',
  'local-authority': 'medium',
};

/**
 * Seeds the Kent and Medway members (plus `extraOrganisations`, e.g. the synthetic
 * world's GP practices), their 2021/22 subscriptions and funding model, agreements for
 * every organisation × dataset it supplies covering 2019-04..2022-03, five realistic use
 * cases taken through approval to active, onboarding progress, and raised invoices.
 * Running it again on a seeded store changes nothing.
 */
export async function seedDemoGovernance(
  store: Store | Queryable,
  actor: string,
  options: {
    extraOrganisations?: readonly ExtraOrganisation[];
    /**
     * which months the demo's use cases read: `published` for the demo itself (its history is
     * signed off and published), `loaded` (the default here) for worlds that load feeds and
     * read them straight away, with no sign-off in between
     */
    months?: 'published' | 'loaded';
  } = {},
): Promise<DemoGovernanceSummary> {
  const run = async (tx: Queryable): Promise<DemoGovernanceSummary> => {
    if ((await listUseCases(tx)).length > 0) {
      return {
        organisations: 0,
        agreements: 0,
        subscriptions: 0,
        useCases: [],
        invoices: [],
        alreadySeeded: true,
      };
    }
    const extras: Organisation[] = (options.extraOrganisations ?? []).map((o) => ({
      code: o.code,
      codeSystem: 'local',
      codeVerified: false,
      codeNote: 'Synthetic code from the demo world; not an ODS code',
      name: o.name,
      type: o.type,
      kernelRole: 'data-controller',
      population: o.type === 'gp' ? 9_000 : null,
      incomePence: null,
      contacts: [],
    }));
    await seedOrganisations(tx, actor, [...KENT_AND_MEDWAY_MEMBERS, ...extras]);
    const orgs = await listOrganisations(tx);
    const byType = (type: OrgType): string[] => orgs.filter((o) => o.type === type).map((o) => o.code);

    let agreements = 0;
    for (const org of orgs) {
      const datasets = supplies(org);
      if (datasets.length === 0) continue;
      await createAgreement(
        tx,
        {
          org: org.code,
          datasets,
          from: DEMO_AGREEMENT_FROM,
          to: DEMO_AGREEMENT_TO,
          signedBy: 'Caldicott Guardian',
          signedOn: '2021-03-15',
        },
        actor,
      );
      agreements++;
      await completeStep(tx, org.code, 'agreement-signed', actor);
      // The acute trusts are furthest along: their maternity feeds run the dashboard.
      if (org.type === 'acute') {
        for (const step of ONBOARDING_STEPS.slice(1)) await completeStep(tx, org.code, step.id, actor);
      } else if (org.type === 'community' || org.type === 'mental-health' || org.type === 'local-authority') {
        await completeStep(tx, org.code, 'dpia-reviewed', actor);
        await completeStep(tx, org.code, 'signing-key-trusted', actor);
      }
    }

    // Practices are funded through the ICB's primary care budget, not by subscription.
    const subscribers = orgs.filter((o) => o.type !== 'gp' && o.kernelRole !== 'processor');
    for (const org of subscribers) {
      await setSubscription(
        tx,
        { org: org.code, year: DEMO_YEAR, state: 'confirmed', tier: TIER_BY_TYPE[org.type] ?? 'small' },
        actor,
      );
    }
    await setFundingModel(
      tx,
      {
        year: DEMO_YEAR,
        costPence: parsePounds('1250000'),
        rule: { kind: 'tiers', tiers: { large: 4, medium: 2, small: 1 } },
      },
      actor,
    );
    await addFundingSource(
      tx,
      {
        year: DEMO_YEAR,
        name: 'NHS England one-off allocation for shared care records',
        amountPence: parsePounds('250000'),
      },
      actor,
    );
    await draftInvoices(tx, DEMO_YEAR, actor);
    const invoices = await raiseInvoices(tx, DEMO_YEAR, actor);

    const acute = byType('acute');
    const practices = byType('gp');
    const councils = ['E10000016', 'E06000035'].filter((c) => orgs.some((o) => o.code === c));
    const keep = (codes: string[], dataset: string): string[] =>
      codes.filter((code) => {
        const org = orgs.find((o) => o.code === code);
        return org !== undefined && supplies(org).includes(dataset);
      });
    const useCases: NewUseCase[] = [
      {
        title: 'Costs of frailty across health and social care',
        summary:
          'How much hospital, GP and adult social care people living with frailty use, and what it costs, to plan integrated neighbourhood teams; the population health dashboard of the Kent Integrated Dataset.',
        sponsor: 'QKS',
        purpose: 'planning',
        legalBasis:
          'UK GDPR Art 6(1)(e) and 9(2)(h); pseudonymised data for health and care planning under the system data sharing agreement',
        // Every source the KID's person-level model derives from (KID_LINEAGE), so the
        // population health dashboard shows every panel under it.
        datasets: [
          'pmi',
          'apc',
          'ecds',
          'op',
          'csds-care-contact',
          'mhsds-care-contact',
          'gp-events',
          'asc',
          'fire-safety',
          'msds-booking',
          'msds-delivery',
        ],
        controllers: [
          ...acute,
          ...byType('community'),
          ...byType('mental-health'),
          ...practices,
          ...councils,
          ...byType('fire-and-rescue'),
        ],
        users: DEMO_USERS,
        start: '2021-04-01',
        end: '2028-03-31',
      },
      {
        title: 'Prevalence of a rare condition',
        summary:
          'How many people in Kent and Medway live with a rare condition, by age band and deprivation, for a research study.',
        sponsor: 'RVV',
        purpose: 'research',
        legalBasis:
          'UK GDPR Art 6(1)(e) and 9(2)(j); s251 support under COPI Regulation 5 (national data opt-out applies)',
        // the practices' registrations give prevalence its denominator (issue 18)
        datasets: ['gp-events', 'apc', 'gp-registrations', 'gp-medications'],
        controllers: [...practices, ...acute],
        users: DEMO_USERS,
        start: '2021-06-01',
        end: '2028-03-31',
      },
      {
        title: 'Non-elective admission risk by GP practice',
        summary:
          "Risk-stratified lists of each practice's own patients most likely to be admitted as an emergency, for case finding by their care teams.",
        sponsor: 'QKS',
        purpose: 'direct-care',
        legalBasis: 'UK GDPR Art 6(1)(e) and 9(2)(h); risk stratification for case finding in direct care',
        datasets: ['apc', 'ecds', 'gp-events'],
        controllers: [...acute, ...practices],
        users: DEMO_USERS,
        start: '2021-04-01',
        end: '2028-03-31',
      },
      {
        title: 'Maternity dashboard',
        summary:
          'National maternity measures per provider and for the system, month by month, for the Local Maternity and Neonatal System.',
        sponsor: 'QKS',
        purpose: 'planning',
        legalBasis: 'UK GDPR Art 6(1)(e) and 9(2)(h); aggregate maternity measures for service planning',
        datasets: ['msds-booking', 'msds-delivery', 'msds-baby'],
        controllers: acute,
        users: DEMO_USERS,
        start: '2021-04-01',
        end: '2028-03-31',
      },
      {
        title: 'Workforce planning',
        summary:
          'Staff in post, turnover and sickness absence across the providers, for the system people plan.',
        sponsor: 'QKS',
        purpose: 'planning',
        legalBasis:
          'UK GDPR Art 6(1)(e) and 9(2)(b) and (h); pseudonymised staff records for workforce planning',
        datasets: ['esr'],
        controllers: orgs.filter((o) => supplies(o).includes('esr')).map((o) => o.code),
        users: DEMO_USERS,
        start: '2021-04-01',
        end: '2028-03-31',
      },
    ];
    const ids: string[] = [];
    for (const input of useCases) {
      // Keep only controllers that supply at least one of the use case's datasets.
      const controllers = [...new Set(input.datasets.flatMap((d) => keep([...input.controllers], d)))];
      if (controllers.length === 0) continue;
      const proposed = await proposeUseCase(
        tx,
        { ...input, controllers, months: options.months ?? 'loaded' },
        actor,
      );
      for (const org of controllers) await approveUseCase(tx, proposed.id, org, actor);
      await activateUseCase(tx, proposed.id, actor);
      ids.push(proposed.id);
    }
    return {
      organisations: orgs.length,
      agreements,
      subscriptions: subscribers.length,
      useCases: ids,
      invoices: invoices.map((i) => ({ number: i.number, org: i.org, amountPence: i.amountPence })),
      alreadySeeded: false,
    };
  };
  const maybeStore = store as Partial<Store>;
  return typeof maybeStore.transaction === 'function' ? maybeStore.transaction(run) : run(store);
}
