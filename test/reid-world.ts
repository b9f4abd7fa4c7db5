/**
 * A small warehouse for the re-identification tests (src/reid/, src/cli/reid-command):
 * RWF and RPA with agreements for maternity bookings, each with a registered agent encryption
 * key; one direct-care and one planning use case over both; and bookings whose person tokens
 * are made with a fresh link key from NHS numbers of the 999 test range (valid check digits
 * only). RWF holds people 0–6, RPA people 7–9; people 10 and 11 are in neither.
 */
import { createAgreement } from '../src/governance/agreements.ts';
import { seedOrganisations } from '../src/governance/organisations.ts';
import type { Principal } from '../src/operations/principal.ts';
import { newEncryptionKeyPair, type EncryptionKeyPair } from '../src/privacy/encryption-key.ts';
import { newLinkKey, type LinkKey } from '../src/privacy/link-key.ts';
import { testRangeNhsNumber } from '../src/privacy/nhs-number.ts';
import { hmacTokeniser } from '../src/privacy/token-scheme.ts';
import { trustEncryptionKey } from '../src/reid/reid-requests.ts';
import type { Store } from '../src/store/store.ts';
import { activeUseCase } from './use-cases.ts';

export interface ReidWorld {
  linkKey: LinkKey;
  /** NHS numbers: the people of the world */
  people: string[];
  nhs(i: number): string;
  tokenOf(nhsNumber: string): string;
  /** each controller's agent encryption key pair (the warehouse trusts the public halves) */
  keys: Record<'RWF' | 'RPA', EncryptionKeyPair>;
  useCases: { direct: string; planning: string };
}

export const RWF_PEOPLE = [0, 1, 2, 3, 4, 5, 6];
export const RPA_PEOPLE = [7, 8, 9];

export function principal(userId: string, role: Principal['role'], org: string | null): Principal {
  return { userId, email: `${userId}@reid.test`, role, org, via: 'session', mustChangePassword: false };
}

export async function buildReidWorld(store: Store): Promise<ReidWorld> {
  const people: string[] = [];
  for (let serial = 1; people.length < 12; serial++) {
    const n = testRangeNhsNumber(serial);
    if (n) people.push(n);
  }
  const linkKey = newLinkKey();
  const tokeniser = hmacTokeniser(linkKey);
  const nhs = (i: number): string => people[i] as string;
  const keys = { RWF: newEncryptionKeyPair(), RPA: newEncryptionKeyPair() };
  await seedOrganisations(store, 'test');
  for (const org of ['RWF', 'RPA'] as const) {
    await createAgreement(
      store,
      {
        org,
        datasets: ['msds-booking'],
        purposes: ['direct-care', 'planning'],
        from: '2019-04',
        to: '2022-03',
      },
      'test',
    );
    await trustEncryptionKey(store, org, keys[org].publicKeyPem, 'test');
  }
  const useCases = { direct: '', planning: '' };
  for (const purpose of ['direct-care', 'planning'] as const) {
    const uc = await activeUseCase(store, {
      title: `Frailty case finding (${purpose})`,
      purpose,
      datasets: ['msds-booking'],
      controllers: ['RWF', 'RPA'],
      users: ['role:analyst'],
      months: 'loaded',
    });
    useCases[purpose === 'direct-care' ? 'direct' : 'planning'] = uc.id;
  }
  // The warehouse table in the accepted shape the ingest module makes: tokens, never numbers.
  await store.exec(
    'CREATE TABLE ds_msds_booking (load_id TEXT NOT NULL, org_code TEXT NOT NULL, source_line BIGINT NOT NULL, person_token TEXT, "UniqPregID" TEXT)',
  );
  await store.insertRows(
    'ds_msds_booking',
    ['load_id', 'org_code', 'source_line', 'person_token', 'UniqPregID'],
    [
      ...RWF_PEOPLE.map((p, i) => ['load-1', 'RWF', i + 2, tokeniser.token(nhs(p)), `PREG-RWF-${p}`]),
      ...RPA_PEOPLE.map((p, i) => ['load-2', 'RPA', i + 2, tokeniser.token(nhs(p)), `PREG-RPA-${p}`]),
    ],
  );
  return { linkKey, people, nhs, tokenOf: (n) => tokeniser.token(n), keys, useCases };
}
