/**
 * A small world for the workspace tests (used by them only): two maternity datasets loaded
 * for three trusts from generated rows, one person per trust on the national data opt-out
 * list, and use cases that differ in exactly what the access policy decides — purpose (so the
 * opt-out applies or not), controllers (one without an agreement for planning), a provider,
 * months published or loaded, a dataset with nothing loaded — and users for each role tier.
 * User ids carry a tag, because PostgreSQL login roles are shared by every database on a server.
 */
import { createHash } from 'node:crypto';
import { getDataset } from '../catalogue/catalogue.ts';
import type { ReadUser } from '../governance/access-policy.ts';
import { createAgreement } from '../governance/agreements.ts';
import { loadOptOutTokens } from '../governance/optouts.ts';
import { seedOrganisations } from '../governance/organisations.ts';
import { activeUseCase } from '../../test/use-cases.ts';
import { ensureDatasetTable } from '../ingest/dataset-table.ts';
import { deidPlan, type AcceptedColumn } from '../privacy/deid-plan.ts';
import type { SqlValue, Store } from '../store/store.ts';

const ACTOR = 'test:workspace';
export const WORLD_DATASETS = ['msds-booking', 'msds-delivery'] as const;
const TRUSTS = ['RWF', 'RVV', 'RPA'] as const;
const PEOPLE = ['p1', 'p2', 'p3', 'p4'];
const MONTHS = ['2021-01', '2021-02'];

/** A made-up person token, shaped like Kernel's HMAC tokens. */
export const personToken = (org: string, person: string): string =>
  createHash('sha256').update(`workspace-world-${org}-${person}`).digest('hex');

/** One generated value per accepted column, by its kind and type; varied by row. */
function value(column: AcceptedColumn, org: string, person: string, month: string, i: number): SqlValue {
  if (column.kind === 'token') return column.tokenKind === 'nhs-number' ? personToken(org, person) : null;
  if (column.kind === 'lsoa') return `E0100${1000 + i}`;
  if (column.kind === 'imd-decile' || column.kind === 'age')
    return (i % 10) + 1 + (column.kind === 'age' ? 20 : 0);
  if (column.kind === 'birth-month') return '1990-0' + ((i % 9) + 1);
  if (column.type === 'date') return `${month}-${String((i % 27) + 1).padStart(2, '0')}`;
  if (column.type === 'integer') return i * 7;
  if (column.type === 'boolean') return i % 2 === 0;
  if (column.type === 'code') return String(i % 3);
  return `${column.name}-${org}-${person}-${month}`;
}

export const loadId = (dataset: string, org: string, month: string): string => `L-${dataset}-${org}-${month}`;

async function loadDataset(store: Store, dataset: string): Promise<void> {
  const plan = deidPlan(getDataset(dataset));
  const table = await ensureDatasetTable(store, plan);
  const rows: SqlValue[][] = [];
  for (const org of TRUSTS) {
    for (const month of MONTHS) {
      PEOPLE.forEach((person, p) => {
        const line = rows.length + 2;
        const fields = plan.columns.map((c) => value(c, org, person, month, line + p));
        rows.push([loadId(dataset, org, month), org, line, ...fields]);
      });
      await store.run(
        `INSERT INTO loads (load_id, org_code, dataset_id, period, file_name, status, started_at, finished_at, actor, host, pid)
         VALUES ($1, $2, $3, $4, 'test.csv', 'loaded', '2021-04-02T10:00:00Z', '2021-04-02T10:00:00Z', $5, 'test', 1)`,
        [loadId(dataset, org, month), org, dataset, month, ACTOR],
      );
    }
  }
  await store.insertRows(table, ['load_id', 'org_code', ...plan.accepted], rows);
}

export type WorldUserKey = 'analyst1' | 'analyst2' | 'providerRwf' | 'providerRpa' | 'viewer' | 'guest';
export type WorldUseCaseKey = 'planning' | 'directCare' | 'published';

export interface WorkspaceWorld {
  users: Record<WorldUserKey, ReadUser>;
  useCases: Record<WorldUseCaseKey, string>;
}

function worldUsers(tag: string): Record<WorldUserKey, ReadUser> {
  return {
    analyst1: { id: `analyst-1-${tag}`, role: 'analyst', org: null },
    analyst2: { id: `analyst-2-${tag}`, role: 'analyst', org: null },
    providerRwf: { id: `provider-rwf-${tag}`, role: 'provider', org: 'RWF' },
    providerRpa: { id: `provider-rpa-${tag}`, role: 'provider', org: 'RPA' },
    viewer: { id: `viewer-${tag}`, role: 'viewer', org: null },
    guest: { id: `guest-${tag}`, role: 'public', org: null },
  };
}

/** Portal accounts for the users, as `kernel users add` makes them (no password anyone can use). */
export async function addAccounts(store: Store, users: ReadUser[]): Promise<void> {
  for (const user of users) {
    await store.run(
      `INSERT INTO users (id, email, role, org_code, password_hash, must_change_password, failed_attempts, locked_until, created_at, disabled_at)
       VALUES ($1, $2, $3, $4, 'not-a-password', false, 0, NULL, '2021-04-01T00:00:00Z', NULL)`,
      [user.id, `${user.id}@example.org`, user.role, user.org],
    );
  }
}

interface UseCaseFixture {
  key: WorldUseCaseKey;
  purpose: 'planning' | 'direct-care' | 'research';
  datasets: string[];
  controllers: string[];
  users: string[];
  months: 'loaded' | 'published';
}

async function addUseCase(store: Store, uc: UseCaseFixture): Promise<string> {
  const { key, ...asked } = uc;
  const made = await activeUseCase(
    store,
    { title: `Workspace test: ${key}`, ...asked, start: '2020-01-01', end: '2099-12-31' },
    ACTOR,
  );
  return made.id;
}

export async function buildWorkspaceWorld(store: Store, tag: string): Promise<WorkspaceWorld> {
  const users = worldUsers(tag);
  await seedOrganisations(store, ACTOR);
  for (const org of TRUSTS) {
    await createAgreement(
      store,
      {
        org,
        datasets: [...WORLD_DATASETS],
        // RPA shares for direct care only: a planning use case gets none of its rows.
        purposes: org === 'RPA' ? ['direct-care'] : ['direct-care', 'planning', 'research'],
        from: '2019-04',
        to: '2099-03',
      },
      ACTOR,
    );
  }
  for (const dataset of WORLD_DATASETS) await loadDataset(store, dataset);
  await loadOptOutTokens(
    store,
    TRUSTS.map((org) => personToken(org, 'p1')),
    'workspace-optouts.dat',
    ACTOR,
  );
  // Only RWF's January booking load is published: a 'published' use case reads that alone.
  await store.run(
    `INSERT INTO signoffs (org_code, dataset_id, period, load_id, state, changed_at, changed_by, note)
     VALUES ('RWF', 'msds-booking', '2021-01', $1, 'published', '2021-04-03T10:00:00Z', $2, NULL)`,
    [loadId('msds-booking', 'RWF', '2021-01'), ACTOR],
  );
  await addAccounts(store, Object.values(users));
  const planning = await addUseCase(store, {
    key: 'planning',
    purpose: 'planning',
    datasets: [...WORLD_DATASETS, 'apc'],
    controllers: [...TRUSTS],
    users: ['role:analyst', 'role:provider', 'role:viewer'],
    months: 'loaded',
  });
  const directCare = await addUseCase(store, {
    key: 'directCare',
    purpose: 'direct-care',
    datasets: ['msds-booking'],
    controllers: ['RWF', 'RPA'],
    users: [users.analyst2.id],
    months: 'loaded',
  });
  const published = await addUseCase(store, {
    key: 'published',
    purpose: 'research',
    datasets: ['msds-booking'],
    controllers: ['RWF', 'RVV'],
    users: [users.analyst1.id],
    months: 'published',
  });
  return { users, useCases: { planning, directCare, published } };
}
