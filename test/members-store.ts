/**
 * A store for one suite with the Kent and Medway members registered: what a governance or
 * accounts test needs first, since agreements, use cases, subscriptions and users all name
 * a member organisation.
 */
import { seedOrganisations } from '../src/governance/organisations.ts';
import type { Store } from '../src/store/store.ts';
import { openForSuite, type TestStore } from './stores.ts';

/** `openWithMembersForSuite(engine, (s) => (store = s))`, as `openForSuite` otherwise. */
export function openWithMembersForSuite(engine: TestStore, use: (store: Store) => void): void {
  openForSuite(engine, use, (s) => seedOrganisations(s, 'test'));
}
