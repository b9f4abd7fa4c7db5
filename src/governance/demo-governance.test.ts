import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAudit } from '../audit/audit-log.ts';
import type { Store } from '../store/store.ts';
import { testStores } from '../../test/stores.ts';
import { assertAgreementInForce } from './agreements.ts';
import { seedDemoGovernance, type DemoGovernanceSummary } from './demo-governance.ts';
import { yearShares } from './funding-model.ts';
import { listInvoices } from './invoices.ts';
import { publicSite } from './transparency.ts';
import { listUseCases } from './use-cases.ts';

describe.each(testStores())('the demo governance on $engine', (engine) => {
  let store: Store;
  let summary: DemoGovernanceSummary;
  beforeAll(async () => {
    store = await engine.open();
    summary = await seedDemoGovernance(store, 'cli:demo', {
      extraOrganisations: [
        { code: 'Y9K001', name: 'Riverside Surgery 1 (synthetic)', type: 'gp' },
        { code: 'Y9K002', name: 'Oaks Medical Centre 2 (synthetic)', type: 'gp' },
      ],
    });
  });
  afterAll(async () => {
    await store.close();
  });

  it('seeds members, agreements for what each supplies, five active use cases and raised invoices that add up', async () => {
    expect(summary.alreadySeeded).toBe(false);
    expect(summary.organisations).toBe(16);
    expect(summary.useCases).toEqual(['UC-001', 'UC-002', 'UC-003', 'UC-004', 'UC-005']);
    await expect(assertAgreementInForce(store, 'RWF', 'msds-delivery', '2019-04')).resolves.toBeUndefined();
    await expect(assertAgreementInForce(store, 'E10000016', 'asc', '2022-03')).resolves.toBeUndefined();
    await expect(assertAgreementInForce(store, 'Y9K001', 'gp-events', '2020-06')).resolves.toBeUndefined();
    await expect(assertAgreementInForce(store, 'KFRS', 'fire-safety', '2020-06')).resolves.toBeUndefined();
    await expect(assertAgreementInForce(store, 'E07000110', 'asc', '2020-06')).rejects.toMatchObject({
      code: 'refused',
    });
    await expect(assertAgreementInForce(store, 'RWF', 'apc', '2022-04')).rejects.toMatchObject({
      code: 'refused',
    });

    const useCases = await listUseCases(store);
    expect(useCases.every((u) => u.state === 'active' && u.awaiting.length === 0)).toBe(true);
    const maternity = useCases.find((u) => u.title === 'Maternity dashboard');
    expect(maternity).toMatchObject({
      purpose: 'planning',
      datasets: ['msds-baby', 'msds-booking', 'msds-delivery'],
      controllers: ['RN7', 'RPA', 'RVV', 'RWF'],
    });
    expect(useCases.find((u) => u.purpose === 'direct-care')?.optOutApplies).toBe(false);

    const invoices = await listInvoices(store, { year: '2021/22' });
    expect(invoices.length).toBe(summary.invoices.length);
    expect(invoices.every((i) => i.state === 'raised' && i.number !== null)).toBe(true);
    const shares = await yearShares(store, '2021/22');
    expect(shares.netPence).toBe(1_000_000_00);
    expect(invoices.reduce((sum, i) => sum + i.amountPence, 0)).toBe(shares.netPence);
    expect((await verifyAudit(store)).ok).toBe(true);
  });

  it('publishes members, datasets held and approved use cases', async () => {
    const site = await publicSite(store);
    expect(site.members.length).toBe(16);
    expect(site.datasets.map((d) => d.id)).toContain('msds-booking');
    expect(site.datasets.find((d) => d.id === 'asc')?.controllers).toEqual([
      'Kent County Council',
      'Medway Council',
    ]);
    expect(site.useCases.length).toBe(5);
    expect(site.useCases.every((u) => u.legalBasis.length > 0 && u.sponsor.length > 3)).toBe(true);
  });

  it('changes nothing when run again', async () => {
    const again = await seedDemoGovernance(store, 'cli:demo');
    expect(again.alreadySeeded).toBe(true);
    expect((await listUseCases(store)).length).toBe(5);
  });
});
