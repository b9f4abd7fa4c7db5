import { listOrganisations } from '../governance/organisations.ts';
import type { Store } from '../store/store.ts';
import { setOrganisationNames } from './view-engine.ts';

/** How long names read from the register are shown before they are read again. */
const MAX_AGE_MS = 10_000;

let last: { store: Store; at: number; read: Promise<void> } | undefined;

/**
 * Brings the templates' organisation names up to date with the register, at most once every
 * `MAX_AGE_MS`: a member renamed or added appears within seconds, and a page costs no query.
 */
export function refreshOrganisationNames(store: Store, now: number = performance.now()): Promise<void> {
  if (last && last.store === store && now - last.at < MAX_AGE_MS) return last.read;
  const read = listOrganisations(store).then(
    (orgs) => setOrganisationNames(Object.fromEntries(orgs.map((o) => [o.code, o.name]))),
    () => undefined, // names are a courtesy: a page still shows codes if the register cannot be read
  );
  last = { store, at: now, read };
  return read;
}
