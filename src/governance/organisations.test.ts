import { describe, expect, it } from 'vitest';
import { verifyAudit } from '../audit/audit-log.ts';
import type { Store } from '../store/store.ts';
import { openForSuite, testStores } from '../../test/stores.ts';
import {
  getOrganisation,
  listOrganisations,
  registerOrganisation,
  seedOrganisations,
  updateOrganisation,
} from './organisations.ts';

describe.each(testStores())('organisation register on $engine', (engine) => {
  let store: Store;
  openForSuite(engine, (s) => (store = s));

  it('seeds the Kent and Medway members once, keeping unverified codes marked', async () => {
    const first = await seedOrganisations(store, 'test');
    expect(first.added).toContain('RWF');
    expect(first.added).toContain('E10000016');
    const again = await seedOrganisations(store, 'test');
    expect(again.added).toEqual([]);
    expect(again.existing.length).toBe(first.added.length);
    const orgs = await listOrganisations(store);
    const byCode = new Map(orgs.map((o) => [o.code, o]));
    expect(byCode.get('RWF')?.codeVerified).toBe(true);
    expect(byCode.get('NQV')?.codeVerified).toBe(false);
    expect(byCode.get('NQV')?.codeNote).toMatch(/conflicting/);
    expect(byCode.get('IC24')?.codeVerified).toBe(false);
    expect(byCode.get('E06000035')).toMatchObject({ codeSystem: 'gss', type: 'local-authority' });
    expect(byCode.get('QKS')?.kernelRole).toBe('lead-controller');
    expect((await verifyAudit(store)).ok).toBe(true);
  });

  it('refuses a duplicate code and a malformed one, and updates details with an audit event', async () => {
    const org = await getOrganisation(store, 'rwf');
    await expect(registerOrganisation(store, org, 'test')).rejects.toMatchObject({ code: 'conflict' });
    await expect(registerOrganisation(store, { ...org, code: 'not a code' }, 'test')).rejects.toMatchObject({
      code: 'usage',
    });
    await expect(getOrganisation(store, 'ZZZ')).rejects.toMatchObject({ code: 'not-found' });
    // The name is served publicly: a limit like other text fields', on register and update.
    await expect(
      registerOrganisation(store, { ...org, code: 'ZZZ', name: 'x'.repeat(100_000) }, 'test'),
    ).rejects.toMatchObject({ code: 'usage', where: { field: 'name' } });
    await expect(updateOrganisation(store, 'RWF', { name: 'x'.repeat(201) }, 'test')).rejects.toMatchObject({
      code: 'usage',
      where: { field: 'name' },
    });
    const updated = await updateOrganisation(store, 'RWF', { population: 123 }, 'test');
    expect(updated.population).toBe(123);
    expect((await getOrganisation(store, 'RWF')).population).toBe(123);
    const [event] = await store.query<{ action: string }>(
      "SELECT action FROM audit_events WHERE action = 'org.updated'",
    );
    expect(event?.action).toBe('org.updated');
  });

  it('sets a contact by its role, keeping the others, and refuses one without an email address', async () => {
    const before = (await getOrganisation(store, 'RN7')).contacts;
    expect(before.map((c) => c.role)).toEqual(['chief-executive', 'ig-lead', 'finance']);
    const jo = { role: 'chief-executive', name: 'Jo Bloggs', email: 'jo@example.org' };
    const dpo = { role: 'dpo', name: 'Sam Smith', email: 'sam@example.org' };
    const updated = await updateOrganisation(store, 'RN7', { contacts: [jo, dpo] }, 'test');
    expect(updated.contacts).toEqual([jo, ...before.slice(1), dpo]);
    expect((await getOrganisation(store, 'RN7')).contacts).toEqual(updated.contacts);
    for (const contact of [
      { ...jo, email: 'not-an-email' },
      { ...jo, name: ' ' },
      { ...jo, role: 'Chief Executive' },
    ]) {
      await expect(updateOrganisation(store, 'RN7', { contacts: [contact] }, 'test')).rejects.toMatchObject({
        code: 'usage',
        where: { field: 'contact' },
      });
    }
    await expect(updateOrganisation(store, 'RN7', { contacts: [dpo, dpo] }, 'test')).rejects.toMatchObject({
      code: 'usage',
      message: 'RN7 would have two dpo contacts',
    });
    expect((await getOrganisation(store, 'RN7')).contacts).toEqual(updated.contacts);
  });
});
