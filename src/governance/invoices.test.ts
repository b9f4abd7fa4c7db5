import { describe, expect, it } from 'vitest';
import { verifyAudit } from '../audit/audit-log.ts';
import type { Store } from '../store/store.ts';
import { openWithMembersForSuite } from '../../test/members-store.ts';
import { testStores } from '../../test/stores.ts';
import { openStore } from '../store/open-store.ts';
import { addFundingSource, setFundingModel, yearShares } from './funding-model.ts';
import { invoiceHtml, invoicePdf, invoicesCsv, subscriptionLetters } from './invoice-documents.ts';
import {
  cancelInvoice,
  draftInvoices,
  getInvoice,
  listInvoices,
  payInvoice,
  raiseInvoices,
} from './invoices.ts';
import { seedOrganisations } from './organisations.ts';
import { inviteMembers, listSubscriptions, setSubscription } from './subscriptions.ts';

const YEAR = '2021/22';
const MEMBERS = ['RWF', 'RVV', 'RPA', 'RN7', 'RYY', 'RXY', 'E10000016'];

describe.each(testStores())('subscriptions, funding and invoices on $engine', (engine) => {
  let store: Store;
  openWithMembersForSuite(engine, (s) => (store = s));

  it('moves subscriptions through their states and refuses the rest', async () => {
    const invited = await inviteMembers(store, '2021-22', 'test');
    expect(invited.length).toBeGreaterThanOrEqual(MEMBERS.length);
    expect(invited.every((s) => s.state === 'invited' && s.year === YEAR)).toBe(true);
    for (const org of MEMBERS)
      await setSubscription(
        store,
        { org, year: YEAR, state: 'confirmed', tier: org.startsWith('R') ? 'large' : 'small' },
        'test',
      );
    await setSubscription(store, { org: 'QKS', year: YEAR, state: 'declined' }, 'test');
    await expect(
      setSubscription(store, { org: 'QKS', year: YEAR, state: 'lapsed' }, 'test'),
    ).rejects.toMatchObject({
      code: 'conflict',
      message: 'A subscription cannot go from declined to lapsed',
    });
    await expect(
      setSubscription(store, { org: 'RWF', year: '2021/23', state: 'confirmed' }, 'test'),
    ).rejects.toMatchObject({ code: 'usage' });
    expect(
      (await listSubscriptions(store, { year: YEAR, state: 'confirmed' })).map((s) => s.org).sort(),
    ).toEqual([...MEMBERS].sort());
  });

  it('shares the cost less other funding between confirmed subscribers, to the penny, and recomputes on a rule change', async () => {
    await setFundingModel(
      store,
      { year: YEAR, costPence: 100_000_00, rule: { kind: 'tiers', tiers: { large: 3, small: 1 } } },
      'test',
    );
    await addFundingSource(store, { year: YEAR, name: 'One-off allocation', amountPence: 10_000_01 }, 'test');
    const tiered = await yearShares(store, YEAR);
    expect(tiered.netPence).toBe(89_999_99);
    expect(tiered.shares.reduce((s, x) => s + x.sharePence, 0)).toBe(89_999_99);
    // Six large (3 units) and one small (1 unit): 19 units.
    expect(tiered.totalWeight).toBe(19);
    expect(tiered.shares.find((s) => s.org === 'E10000016')?.sharePence).toBe(Math.floor(89_999_99 / 19) + 0);

    const drafts = await draftInvoices(store, YEAR, 'test');
    expect(drafts.length).toBe(MEMBERS.length);
    expect(drafts.every((d) => d.number === null && d.state === 'draft')).toBe(true);

    await setFundingModel(store, { year: YEAR, rule: { kind: 'population' } }, 'test');
    const byPopulation = await yearShares(store, YEAR);
    expect(byPopulation.shares.reduce((s, x) => s + x.sharePence, 0)).toBe(89_999_99);
    const redrafted = await listInvoices(store, { year: YEAR, state: 'draft' });
    for (const draft of redrafted) {
      expect(draft.amountPence).toBe(byPopulation.shares.find((s) => s.org === draft.org)?.sharePence);
      expect(draft.basis.rule).toBe('shared in proportion to population');
    }
    expect(redrafted.reduce((s, d) => s + d.amountPence, 0)).toBe(89_999_99);
  });

  it('numbers raised invoices without gaps, never edits them, and replaces a cancelled one', async () => {
    const raised = await raiseInvoices(store, YEAR, 'test');
    expect(raised.map((i) => i.number)).toEqual(
      MEMBERS.map((_, i) => `KER-2122-${String(i + 1).padStart(4, '0')}`),
    );
    expect(raised.reduce((s, i) => s + i.amountPence, 0)).toBe(89_999_99);
    await expect(raiseInvoices(store, YEAR, 'test')).rejects.toMatchObject({ code: 'conflict' });

    // A rule change no longer touches raised invoices.
    const before = await getInvoice(store, 'KER-2122-0001');
    await setFundingModel(store, { year: YEAR, rule: { kind: 'income' } }, 'test');
    expect((await getInvoice(store, 'KER-2122-0001')).amountPence).toBe(before.amountPence);

    const { cancelled, replacement } = await cancelInvoice(
      store,
      'KER-2122-0002',
      'Wrong funding rule',
      'test',
      { replace: true },
    );
    expect(cancelled.state).toBe('cancelled');
    expect(replacement?.number).toBe('KER-2122-0008');
    expect(replacement?.replaces).toBe('KER-2122-0002');
    expect(replacement?.basis.rule).toBe('shared in proportion to annual income');
    await expect(cancelInvoice(store, 'KER-2122-0002', 'again', 'test')).rejects.toMatchObject({
      code: 'conflict',
    });
    await expect(cancelInvoice(store, 'KER-2122-0003', '  ', 'test')).rejects.toMatchObject({
      code: 'usage',
    });

    // The error names the field the caller sent (`on`, `--on`).
    await expect(payInvoice(store, 'KER-2122-0003', 'test', '2021-02-30')).rejects.toMatchObject({
      code: 'usage',
      where: { field: 'on' },
    });
    const paid = await payInvoice(store, 'KER-2122-0003', 'test', '2021-05-01');
    expect(paid).toMatchObject({ state: 'paid', paidAt: '2021-05-01' });
    await expect(payInvoice(store, 'KER-2122-0003', 'test')).rejects.toMatchObject({ code: 'conflict' });
    await expect(cancelInvoice(store, 'KER-2122-0003', 'paid already', 'test')).rejects.toMatchObject({
      code: 'conflict',
    });

    const all = await listInvoices(store, { year: YEAR });
    const numbers = all.map((i) => i.number).filter((n): n is string => n !== null);
    expect(numbers).toEqual(numbers.map((_, i) => `KER-2122-${String(i + 1).padStart(4, '0')}`));
    expect((await verifyAudit(store)).ok).toBe(true);
  });

  it('prints invoices as HTML and PDF, exports CSV, and writes letters to chief executives', async () => {
    const invoice = await getInvoice(store, 'KER-2122-0001');
    const html = await invoiceHtml(store, invoice);
    expect(html).toContain('Invoice KER-2122-0001');
    // Numbers follow organisation code order: E10000016 comes first.
    expect(invoice.org).toBe('E10000016');
    expect(html).toContain('Kent County Council (E10000016)');
    expect(html).toContain(`weight is ${invoice.basis.weight} of ${invoice.basis.totalWeight}`);
    const pdf = await invoicePdf(store, invoice);
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pdf.length).toBeGreaterThan(1000);
    const csv = await invoicesCsv(store, await listInvoices(store, { year: YEAR }));
    const lines = csv.trimEnd().split('\r\n');
    expect(lines[0]).toBe(
      'number,financial_year,org_code,organisation,state,amount_pence,amount,raised_at,paid_at,cancelled_at,replaces',
    );
    expect(lines.length).toBe(MEMBERS.length + 2);
    expect(lines.some((l) => l.startsWith('KER-2122-0002,2021/22,') && l.includes(',cancelled,'))).toBe(true);

    const letters = await subscriptionLetters(store, YEAR, { date: '2021-03-01' });
    const rwf = letters.find((l) => l.org === 'RWF');
    expect(rwf?.recipient).toBe('Chief Executive');
    expect(rwf?.html).toContain('Dear Chief Executive');
    expect(rwf?.html).toContain('Maidstone and Tunbridge Wells NHS Trust');
    expect(rwf?.html).toMatch(/share is <strong>£[\d,]+\.\d\d<\/strong>/);
  });
  it('refuses a tier the year’s funding rule does not name', async () => {
    await setFundingModel(
      store,
      { year: '2023/24', costPence: 1_000_00, rule: { kind: 'tiers', tiers: { large: 3, small: 1 } } },
      'test',
    );
    await expect(
      setSubscription(store, { org: 'RWF', year: '2023/24', state: 'invited', tier: 'gigantic' }, 'test'),
    ).rejects.toMatchObject({
      code: 'usage',
      where: { field: 'tier' },
      message: 'The funding rule for 2023/24 names no tier "gigantic"',
      hint: 'Its tiers are large, small',
    });
    const kept = await setSubscription(
      store,
      { org: 'RWF', year: '2023/24', state: 'invited', tier: 'small' },
      'test',
    );
    expect(kept.tier).toBe('small');
  });
});

// DuckDB has one writer per file (a second process gets `busy`), so only PostgreSQL can
// have two raisers at once: their numbers must still come out 1, 2, 3 with no gap or twin.
describe.each(testStores().filter((e) => e.engine === 'postgres'))(
  'invoice numbers under concurrency on $engine',
  (engine) => {
    it('gives concurrent raisers consecutive numbers', async () => {
      const target = await engine.fresh();
      const stores = [await openStore(target), await openStore(target), await openStore(target)];
      try {
        const [first] = stores as [Store, ...Store[]];
        await seedOrganisations(first, 'test');
        for (const org of ['RWF', 'RPA', 'RVV'])
          await setSubscription(first, { org, year: YEAR, state: 'confirmed' }, 'test');
        await setFundingModel(
          first,
          { year: YEAR, costPence: 30_000_00, rule: { kind: 'population' } },
          'test',
        );
        await draftInvoices(first, YEAR, 'test');
        const raised = await Promise.all(
          ['RWF', 'RPA', 'RVV'].map((org, i) =>
            raiseInvoices(stores[i] as Store, YEAR, `test-${i}`, { org }),
          ),
        );
        expect(
          raised
            .flat()
            .map((inv) => inv.number)
            .sort(),
        ).toEqual(['KER-2122-0001', 'KER-2122-0002', 'KER-2122-0003']);
      } finally {
        for (const store of stores) await store.close();
      }
    });
  },
);
