import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Hono } from 'hono';
import { postcodeLookupCsv, writeExtract } from '../../bench/ingest/extract-writer.ts';
import { createAgreement } from '../../src/governance/agreements.ts';
import { seedOrganisations } from '../../src/governance/organisations.ts';
import { catalogueSpecs } from '../../src/ingest/catalogue-specs.ts';
import { deidentifyFile } from '../../src/privacy/deidentify-file.ts';
import { newLinkKey } from '../../src/privacy/link-key.ts';
import { readPostcodeLookup } from '../../src/privacy/postcode-lookup.ts';
import {
  newSigningKeyPair,
  readSigningPrivateKey,
  writeSigningKeyPair,
} from '../../src/privacy/signing-key.ts';
import { hmacTokeniser } from '../../src/privacy/token-scheme.ts';
import { trustSigningKey } from '../../src/ingest/trusted-keys.ts';
import { resolveConfig } from '../../src/config/config.ts';
import { createApp, SESSION_COOKIE, type AppEnv } from '../../src/server/app.ts';
import { createApiToken } from '../../src/server/auth/api-tokens.ts';
import { createSession } from '../../src/server/auth/sessions.ts';
import { addUser, changePassword } from '../../src/server/auth/user-accounts.ts';
import { buildRouteTable } from '../../src/server/route-table.ts';
import {
  ORGANISATION_ROLES,
  ROLES,
  type Role,
  type RouteDeclaration,
  type ServerDeps,
} from '../../src/server/routes.ts';
import type { Store } from '../../src/store/store.ts';
import { openForSuite, type TestStore } from '../stores.ts';

export const PASSWORD = 'portal test passphrase';

export interface TestAccount {
  role: Role;
  email: string;
  userId: string;
  token: string;
}

/** The app on a store, with its route table and a log that keeps every line. */
export function portalApp(store: Store, dataDir = '/tmp') {
  const lines: string[] = [];
  const deps: ServerDeps = {
    store,
    config: { ...resolveConfig({ data: dataDir }).config, dataDir },
    log: (line) => lines.push(line),
  };
  const routes: RouteDeclaration[] = buildRouteTable(deps);
  const app: Hono<AppEnv> = createApp(deps, { routes });
  return { app, routes, deps, lines };
}

/** One ready account per role (password changed, so no redirect), with an API token. */
export async function accountsForEveryRole(store: Store, org = 'RWF'): Promise<Record<Role, TestAccount>> {
  await seedOrganisations(store, 'test'); // an account's organisation must be a member
  const out = {} as Record<Role, TestAccount>;
  for (const role of ROLES) {
    const email = `${role}@portal.test`;
    const { user } = await addUser(
      store,
      { email, role, org: ORGANISATION_ROLES.includes(role) ? org : undefined, password: `${PASSWORD} 0` },
      'test',
    );
    // This IG lead belongs to no organisation, as one made before `--org` was required for the
    // role may: the tests of that refusal use it (`igLeadOf` makes one that belongs to one).
    if (role === 'ig-lead') await store.run('UPDATE users SET org_code = NULL WHERE id = $1', [user.id]);
    await changePassword(store, user.id, `${PASSWORD} 0`, PASSWORD, 'test');
    const { token } = await createApiToken(store, email, 'test');
    out[role] = { role, email, userId: user.id, token };
  }
  return out;
}

/** What a suite over the portal needs: its store, one account per role, and the portal over it. */
export interface PortalSuite {
  store: Store;
  accounts: Record<Role, TestAccount>;
  portal: ReturnType<typeof portalApp>;
}

/**
 * Opens a store for the suite, with one account per role and the portal over it; `use` receives
 * them. `prepare` runs first on the store (a feed to send, say), once the accounts are made.
 */
export function openPortalForSuite(
  engine: TestStore,
  use: (suite: PortalSuite) => void,
  prepare: (store: Store) => Promise<unknown> = async () => undefined,
): void {
  let accounts: Record<Role, TestAccount>;
  let portal: ReturnType<typeof portalApp>;
  openForSuite(
    engine,
    (store) => use({ store, accounts, portal }),
    async (store) => {
      accounts = await accountsForEveryRole(store);
      await prepare(store);
      portal = portalApp(store);
    },
  );
}

/** An IG lead who belongs to an organisation, as `kernel users add --role ig-lead --org ODS` makes one. */
export async function igLeadOf(store: Store, org: string): Promise<{ userId: string; token: string }> {
  await seedOrganisations(store, 'test');
  const email = `ig-${org.toLowerCase()}@portal.test`;
  const { user } = await addUser(store, { email, role: 'ig-lead', org, password: `${PASSWORD} 0` }, 'test');
  await changePassword(store, user.id, `${PASSWORD} 0`, PASSWORD, 'test');
  const { token } = await createApiToken(store, email, 'test');
  return { userId: user.id, token };
}

/** A fresh session for an account: the cookie header and the session's CSRF token. */
export async function sessionFor(store: Store, userId: string): Promise<{ cookie: string; csrf: string }> {
  const { sessionId, csrfToken } = await createSession(store, userId);
  return { cookie: `${SESSION_COOKIE}=${sessionId}`, csrf: csrfToken };
}

/** A route's path with its example parameters filled in. */
export function concretePath(route: RouteDeclaration): string {
  return route.path.replace(/:([A-Za-z0-9_]+)/g, (_, name: string) => route.example?.[name] ?? 'example');
}

export interface PseudonymisedFeed {
  /** the pseudonymised APC file for RWF, April 2025, 30 rows with one bad code */
  file: string;
  manifest: string;
  /** RWF's agent's public key, for trustSigningKey */
  publicKey: string;
}

/** A synthetic extract through the real de-identification agent, as `kernel deid` makes it. */
export async function pseudonymisedFeed(dir: string): Promise<PseudonymisedFeed> {
  const spec = catalogueSpecs.spec('apc');
  writeSigningKeyPair(path.join(dir, 'rwf.key'), newSigningKeyPair());
  writeFileSync(path.join(dir, 'postcodes.csv'), postcodeLookupCsv());
  const extract = path.join(dir, 'apc.extract.csv');
  await writeExtract({
    spec,
    codeList: catalogueSpecs.codeList,
    file: extract,
    rows: 30,
    period: '2025-04',
    seed: 7,
    faults: { code: [4] },
  });
  const file = path.join(dir, 'apc-2025-04.csv');
  await deidentifyFile({
    spec,
    org: 'RWF',
    input: extract,
    output: file,
    tokeniser: hmacTokeniser(newLinkKey()),
    postcodes: await readPostcodeLookup(path.join(dir, 'postcodes.csv')),
    signing: readSigningPrivateKey(path.join(dir, 'rwf.key')),
  });
  return {
    file,
    manifest: `${file}.manifest.json`,
    publicKey: readFileSync(path.join(dir, 'rwf.key.pub'), 'utf8'),
  };
}

/** What a load of that feed needs in the warehouse: the organisations, an agreement, the trusted key. */
export async function prepareForFeed(store: Store, feed: PseudonymisedFeed): Promise<void> {
  await seedOrganisations(store, 'test');
  await createAgreement(store, { org: 'RWF', datasets: ['apc'], from: '2025-01', to: '2025-12' }, 'test');
  await trustSigningKey(store, 'RWF', feed.publicKey, 'test');
}

/**
 * A load record as a finished load leaves it, without loading rows: 10 read, 9 loaded, 1
 * quarantined (counts a viewer may not see exactly), one finding and one field's filled count.
 */
export async function insertLoad(
  store: Store,
  id: string,
  org: string,
  dataset: string,
  period: string,
  status: string,
  /** the row counts and the field's filled count: 10 read, 9 loaded, 1 quarantined, 0 dropped, 9 filled unless given */
  counts: {
    read: number;
    loaded: number;
    quarantined: number;
    dropped: number;
    filled: number;
    percent: number;
  } = {
    read: 10,
    loaded: 9,
    quarantined: 1,
    dropped: 0,
    filled: 9,
    percent: 100,
  },
): Promise<void> {
  await store.run(
    `INSERT INTO loads (load_id, org_code, dataset_id, period, file_name, sha256, status, started_at, finished_at,
       actor, host, pid, rows_read, rows_loaded, rows_quarantined, rows_dropped, seconds, report)
     VALUES ($1, $2, $3, $4, 'f.csv', NULL, $5, $6, $6, 'test', 'h', 1, $8, $9, $10, $11, 0.5, $7)`,
    [
      id,
      org,
      dataset,
      period,
      status,
      `${period}-02T10:00:00.000Z`,
      JSON.stringify({
        findings: [{ rule: 'code', field: 'Delivery_Method', count: counts.quarantined, firstLine: 7 }],
        completeness: [{ field: 'Delivery_Method', filled: counts.filled, percent: counts.percent }],
        supersedes: [],
      }),
      counts.read,
      counts.loaded,
      counts.quarantined,
      counts.dropped,
    ],
  );
}
