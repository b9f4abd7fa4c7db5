/**
 * Issue 12: own-organisation rules live in the domain, so every entry point applies them.
 * An IG lead of RWF, through the API with their token and through the CLI with the same
 * token in KERNEL_TOKEN, sees RWF's transparency record and agreements only — whatever
 * organisation they name — and cannot run what their role may not.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_COLUMNS } from '../../src/audit/view-audit.ts';
import { createAgreement } from '../../src/governance/agreements.ts';
import { seedOrganisations } from '../../src/governance/organisations.ts';
import { resolveConfig } from '../../src/config/config.ts';
import { startServer, type RunningServer } from '../../src/server/start-server.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { spawnCli } from '../cli.ts';
import { accountsForEveryRole, igLeadOf } from './portal-helpers.ts';

describe('an IG lead reads their own organisation only, by API and by CLI', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-own-org-'));
  const dataDir = path.join(dir, 'warehouse');
  const config = { ...resolveConfig({ data: dataDir }).config, dataDir, store: 'duckdb' };
  let store: Store;
  let server: RunningServer | undefined;
  let igRwf: string;
  let admin: string;

  beforeAll(async () => {
    store = await openStore(config);
    await seedOrganisations(store, 'test');
    for (const org of ['RWF', 'RPA']) {
      await createAgreement(store, { org, datasets: ['apc'], from: '2021-04', to: '2022-03' }, 'test');
    }
    // Reads of both controllers' data, as the governed reader records them.
    await store.insertRows(
      'data_access_log',
      ACCESS_COLUMNS,
      ['RWF', 'RPA', 'RPA'].map((org, i) => [
        `read-${i}`,
        '2021-06-01T00:00:00.000Z',
        'u-x',
        'analyst',
        'UC-001',
        'apc',
        org,
        true,
      ]),
    );
    igRwf = (await igLeadOf(store, 'RWF')).token;
    admin = (await accountsForEveryRole(store, 'RWF')).admin.token;
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('through the API: naming RPA still answers RWF', async () => {
    server = await startServer({ store, config, port: 0 });
    const get = async (url: string, token: string) =>
      fetch(`${server?.url}${url}`, { headers: { Authorization: `Bearer ${token}` } });
    const reads = (await (await get('/api/v1/transparency/reads?org=RPA', igRwf)).json()) as {
      org: string;
      reads: { org: string }[];
    };
    expect(reads.org).toBe('RWF');
    expect(reads.reads.map((r) => r.org)).toEqual(['RWF']);
    const agreements = (await (await get('/api/v1/agreements?org=RPA', igRwf)).json()) as {
      agreements: { org: string }[];
    };
    expect(agreements.agreements.map((a) => a.org)).toEqual(['RWF']);
    const check = await get('/api/v1/agreements/check?org=RPA&dataset=apc&period=2021-06', igRwf);
    expect(await check.json()).toMatchObject({ inForce: true, org: 'RWF' });
    const outside = await get('/api/v1/agreements/check?org=RPA&dataset=apc&period=2030-01', igRwf);
    const refusal = JSON.stringify(await outside.json());
    expect(refusal).toContain('RWF sending apc covers 2021-04 to 2022-03, not 2030-01');
    expect(refusal).not.toContain('RPA');
    // The administrator names whom they like.
    const all = (await (await get('/api/v1/transparency/reads?org=RPA', admin)).json()) as {
      reads: { org: string }[];
    };
    expect(all.reads.map((r) => r.org)).toEqual(['RPA', 'RPA']);
    // A filter that could match nothing is refused, naming the field, not answered with an empty list.
    for (const [url, field] of [
      ['/api/v1/agreements?dataset=nonsense', 'dataset'],
      ['/api/v1/agreements/check?org=RWF&dataset=nonsense&period=2021-06', 'dataset'],
      ['/api/v1/use-cases?controller=ZZZ99', 'controller'],
      ['/api/v1/transparency/reads?org=RWF&useCase=UC-999', 'useCase'],
      ['/api/v1/optouts/impact?org=ZZZ99', 'org'],
    ] as const) {
      const refused = await get(url, admin);
      expect([url, refused.status]).toEqual([url, 404]);
      expect(await refused.json()).toMatchObject({ error: { code: 'not-found', where: { field } } });
    }
    await server.close();
    server = undefined;
  });

  it('through the CLI with the same token: the same answers, and what the role may not do is refused', async () => {
    await store.close();
    const kernel = (token: string | undefined, ...args: string[]) =>
      spawnCli([...args, '--data', dataDir], { env: { KERNEL_TOKEN: token ?? '' } });

    const reads = await kernel(igRwf, 'orgs', 'reads', 'RPA', '--json');
    expect(reads.stderr).toBe('');
    expect((JSON.parse(reads.stdout) as { org: string }[]).map((r) => r.org)).toEqual(['RWF']);

    const agreements = await kernel(igRwf, 'agreements', 'list', '--org', 'RPA', '--json');
    expect((JSON.parse(agreements.stdout) as { org: string }[]).map((a) => a.org)).toEqual(['RWF']);

    const propose = await kernel(
      igRwf,
      'usecases',
      'propose',
      '--title',
      'Anything',
      '--sponsor',
      'RWF',
      '--purpose',
      'planning',
      '--legal-basis',
      'none',
      '--dataset',
      'apc',
      '--controller',
      'RPA',
      '--start',
      '2021-01-01',
      '--end',
      '2021-12-31',
    );
    expect(propose.code).toBe(77);
    expect(propose.stderr).toContain('Your role (ig-lead) may not propose a use case');

    // Without a token the CLI is the operator, who sees every controller.
    const operator = await kernel(undefined, 'orgs', 'reads', 'RPA', '--json');
    expect((JSON.parse(operator.stdout) as { org: string }[]).map((r) => r.org)).toEqual(['RPA', 'RPA']);

    const revoked = await kernel('kt_not-a-token', 'orgs', 'reads', 'RPA');
    expect(revoked.code).not.toBe(0);
    expect(revoked.stderr).toContain('KERNEL_TOKEN is not a valid API token');
    expect(revoked.stderr).not.toContain('kt_not-a-token');
  }, 60_000);
});
