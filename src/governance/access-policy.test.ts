import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../store/store.ts';
import { testStores } from '../../test/stores.ts';
import {
  openGovernedRead,
  optOutImpact,
  policyVersion,
  readableUseCases,
  ROLE_TIERS,
  type ReadUser,
} from './access-policy.ts';
import { auditVisibleTo } from '../audit/audit-scope.ts';
import { createAgreement } from './agreements.ts';
import type { Purpose } from './governance-values.ts';
import { loadOptOutFile, loadOptOutTokens } from './optouts.ts';
import { seedOrganisations } from './organisations.ts';
import { addAccounts } from '../workspace/workspace-world.ts';
import { activateUseCase, approveUseCase, closeUseCase, proposeUseCase, useCaseSalt } from './use-cases.ts';
import { activeUseCase } from '../../test/use-cases.ts';

/** A synthetic person token: the shape of Kernel's HMAC tokens, from a made-up seed. */
const token = (seed: string): string => createHash('sha256').update(`test-person-${seed}`).digest('hex');

const CONTROLLERS = ['RWF', 'RPA', 'RVV', 'RN7'] as const;
const DATASETS = ['msds-booking', 'msds-delivery'] as const;

/** The fixture, declared once: the test's oracle reads these facts, the store holds them. */
const AGREEMENTS: { org: string; purposes: Purpose[] }[] = [
  { org: 'RWF', purposes: ['direct-care', 'planning', 'research'] },
  { org: 'RPA', purposes: ['direct-care', 'planning', 'research'] },
  // RN7 shares for direct care only; RVV has no agreement at all.
  { org: 'RN7', purposes: ['direct-care'] },
];

interface UseCaseFixture {
  key: string;
  purpose: Purpose;
  datasets: string[];
  controllers: string[];
  users: string[];
  approvedBy: string[];
  state: 'proposed' | 'active' | 'closed';
  start: string;
  end: string;
}

const USE_CASES: UseCaseFixture[] = [
  {
    key: 'planning',
    purpose: 'planning',
    datasets: ['msds-booking'],
    controllers: ['RWF', 'RPA', 'RVV'],
    users: ['analyst-1', 'role:viewer', 'role:provider'],
    approvedBy: ['RWF', 'RPA', 'RVV'],
    state: 'active',
    start: '2020-01-01',
    end: '2099-12-31',
  },
  {
    key: 'research-awaiting',
    purpose: 'research',
    datasets: ['msds-booking', 'msds-delivery'],
    controllers: ['RWF', 'RN7'],
    users: ['analyst-1'],
    approvedBy: ['RWF'],
    state: 'proposed',
    start: '2020-01-01',
    end: '2099-12-31',
  },
  {
    key: 'direct-care',
    purpose: 'direct-care',
    datasets: ['msds-booking', 'msds-delivery'],
    controllers: ['RWF', 'RPA', 'RN7'],
    users: ['role:analyst', 'role:provider'],
    approvedBy: ['RWF', 'RPA', 'RN7'],
    state: 'active',
    start: '2020-01-01',
    end: '2099-12-31',
  },
  {
    key: 'closed',
    purpose: 'planning',
    datasets: ['msds-booking'],
    controllers: ['RWF'],
    users: ['analyst-1'],
    approvedBy: ['RWF'],
    state: 'closed',
    start: '2020-01-01',
    end: '2099-12-31',
  },
  {
    key: 'expired',
    purpose: 'research',
    datasets: ['msds-booking', 'msds-delivery'],
    controllers: ['RWF', 'RPA'],
    users: ['analyst-1', 'role:viewer'],
    approvedBy: ['RWF', 'RPA'],
    state: 'active',
    start: '2020-01-01',
    end: '2020-12-31',
  },
];

const USERS: ReadUser[] = [
  { id: 'analyst-1', role: 'analyst', org: null },
  { id: 'analyst-2', role: 'analyst', org: null },
  { id: 'viewer-1', role: 'viewer', org: null },
  { id: 'provider-rwf', role: 'provider', org: 'RWF' },
  { id: 'provider-rvv', role: 'provider', org: 'RVV' },
  { id: 'ig-1', role: 'ig-lead', org: 'RWF' },
  { id: 'guest', role: 'public', org: null },
];

/** The policy restated over the fixture's facts: the rows a read must hold, or a denial. */
function expected(
  user: ReadUser,
  uc: UseCaseFixture | undefined,
  dataset: string,
  today: string,
): string[] | 'denied' {
  if (!ROLE_TIERS[user.role] || !uc || uc.state !== 'active' || today < uc.start || today > uc.end)
    return 'denied';
  if (!uc.users.includes(user.id) && !uc.users.includes(`role:${user.role}`)) return 'denied';
  if (!uc.datasets.includes(dataset)) return 'denied';
  let orgs = uc.controllers.filter(
    (c) =>
      uc.approvedBy.includes(c) && AGREEMENTS.some((a) => a.org === c && a.purposes.includes(uc.purpose)),
  );
  if (user.role === 'provider') orgs = orgs.filter((c) => c === user.org);
  return orgs.length === 0 ? 'denied' : orgs.sort();
}

/** Each controller's rows: person A is opted out, B and C are not. */
const PEOPLE = ['A', 'B', 'C'];

describe.each(testStores())('the access policy on $engine', (engine) => {
  let store: Store;
  const ids = new Map<string, string>();

  beforeAll(async () => {
    store = await engine.open();
    await seedOrganisations(store, 'test');
    // A use case names accounts that exist.
    await addAccounts(store, USERS);
    for (const a of AGREEMENTS) {
      await createAgreement(
        store,
        {
          org: a.org,
          datasets: ['msds-booking', 'msds-delivery', 'msds-baby'],
          purposes: a.purposes,
          from: '2019-04',
          to: '2022-03',
        },
        'test',
      );
    }
    for (const uc of USE_CASES) {
      const proposed = await proposeUseCase(
        store,
        {
          title: `Use case ${uc.key}`,
          sponsor: 'QKS',
          purpose: uc.purpose,
          legalBasis: 'UK GDPR Art 6(1)(e) and 9(2)(h)',
          datasets: uc.datasets,
          controllers: uc.controllers,
          users: uc.users,
          start: uc.start,
          end: uc.end,
          // the fixture's rows are loaded, never signed off
          months: 'loaded',
        },
        'test',
      );
      for (const org of uc.approvedBy) await approveUseCase(store, proposed.id, org, 'test');
      if (uc.state !== 'proposed') await activateUseCase(store, proposed.id, 'test');
      if (uc.state === 'closed') await closeUseCase(store, proposed.id, 'test');
      ids.set(uc.key, proposed.id);
    }
    // Warehouse tables in the accepted shape the ingest module creates (load_id, org_code, source_line, then fields).
    for (const table of ['ds_msds_booking', 'ds_msds_delivery']) {
      await store.exec(
        `CREATE TABLE ${table} (load_id TEXT NOT NULL, org_code TEXT NOT NULL, source_line BIGINT NOT NULL, person_token TEXT, "UniqPregID" TEXT, "EthnicCategoryMother" TEXT, lsoa_code TEXT, birth_year_month TEXT, imd_decile INTEGER)`,
      );
      const rows = CONTROLLERS.flatMap((org, o) =>
        PEOPLE.map((p, i) => [
          'load-1',
          org,
          o * 10 + i + 2,
          token(`${org}-${p}`),
          `PREG-${org}-${p}`,
          'A',
          'E01099999',
          '1990-01',
          3,
        ]),
      );
      await store.insertRows(
        table,
        [
          'load_id',
          'org_code',
          'source_line',
          'person_token',
          'UniqPregID',
          'EthnicCategoryMother',
          'lsoa_code',
          'birth_year_month',
          'imd_decile',
        ],
        rows,
      );
    }
    await store.exec(
      'CREATE TABLE ds_msds_baby (load_id TEXT NOT NULL, org_code TEXT NOT NULL, source_line BIGINT NOT NULL, person_token TEXT, mother_person_token TEXT)',
    );
    await store.insertRows(
      'ds_msds_baby',
      ['load_id', 'org_code', 'source_line', 'person_token', 'mother_person_token'],
      [
        ['load-2', 'RWF', 2, token('baby-1'), token('RWF-A')],
        ['load-2', 'RWF', 3, token('baby-2'), token('RWF-B')],
        ['load-2', 'RWF', 4, null, token('RWF-C')],
      ],
    );
    await loadOptOutTokens(
      store,
      CONTROLLERS.map((org) => token(`${org}-A`)),
      'test-optouts.dat',
      'test',
    );
  });

  afterAll(async () => {
    await store.close();
  });

  it('allows exactly what the policy allows and refuses every other combination of user, use case, dataset and controller', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const keys = [...USE_CASES.map((u) => u.key), 'missing'];
    let denials = 0;
    let grants = 0;
    for (const user of USERS) {
      for (const key of keys) {
        for (const dataset of DATASETS) {
          const uc = USE_CASES.find((u) => u.key === key);
          const want = expected(user, uc, dataset, today);
          const access = { user, useCaseId: ids.get(key) ?? 'UC-999' };
          const label = `${user.id} × ${key} × ${dataset}`;
          if (want === 'denied') {
            await expect(openGovernedRead(store, access, dataset), label).rejects.toMatchObject({
              code: 'forbidden',
            });
            denials++;
            continue;
          }
          const read = await openGovernedRead(store, access, dataset);
          const orgs = await store.query<{ org_code: string }>(
            `SELECT DISTINCT org_code FROM ${read.sql} AS r ORDER BY org_code`,
          );
          expect(
            orgs.map((r) => r.org_code),
            label,
          ).toEqual(want);
          expect(read.controllers.sort(), label).toEqual(want);
          grants++;
        }
      }
    }
    expect(denials).toBeGreaterThan(50);
    expect(grants).toBeGreaterThan(5);
  });

  it('never gives a controller without an agreement for the purpose, or a provider another organisation', async () => {
    const viewer = await openGovernedRead(
      store,
      { user: USERS[2] as ReadUser, useCaseId: ids.get('planning') as string },
      'msds-booking',
    );
    expect(viewer.controllers.sort()).toEqual(['RPA', 'RWF']);
    const provider = await openGovernedRead(
      store,
      { user: USERS[3] as ReadUser, useCaseId: ids.get('direct-care') as string },
      'msds-delivery',
    );
    expect(provider.controllers).toEqual(['RWF']);
    await expect(
      openGovernedRead(
        store,
        { user: USERS[4] as ReadUser, useCaseId: ids.get('planning') as string },
        'msds-booking',
      ),
    ).rejects.toMatchObject({
      code: 'forbidden',
      message: expect.stringContaining('gives RVV no rows'),
    });
    const directCare = await openGovernedRead(
      store,
      { user: USERS[1] as ReadUser, useCaseId: ids.get('direct-care') as string },
      'msds-booking',
    );
    expect(directCare.controllers.sort()).toEqual(['RN7', 'RPA', 'RWF']);
  });

  it('removes opted-out people from planning and research reads and keeps them in direct care', async () => {
    const tokensIn = async (sql: string): Promise<string[]> =>
      (
        await store.query<{ person_token: string }>(
          `SELECT person_token FROM ${sql} AS r WHERE org_code = 'RWF' ORDER BY person_token`,
        )
      ).map((r) => r.person_token);
    const planning = await openGovernedRead(
      store,
      { user: USERS[0] as ReadUser, useCaseId: ids.get('planning') as string },
      'msds-booking',
    );
    expect(planning.optOutApplies).toBe(true);
    expect(await tokensIn(planning.sql)).toEqual([token('RWF-B'), token('RWF-C')].sort());
    const care = await openGovernedRead(
      store,
      { user: USERS[0] as ReadUser, useCaseId: ids.get('direct-care') as string },
      'msds-booking',
    );
    expect(care.optOutApplies).toBe(false);
    expect(await tokensIn(care.sql)).toEqual([token('RWF-A'), token('RWF-B'), token('RWF-C')].sort());
    const [counts] = await store.query<{ planning: number; care: number }>(
      `SELECT (SELECT count(*) FROM ${planning.sql} AS p) AS planning, (SELECT count(*) FROM ${care.sql} AS c) AS care`,
    );
    // Planning: RWF and RPA, two people each once A is gone; direct care: RWF, RPA, RN7, all three people.
    expect(Number(counts?.planning)).toBe(4);
    expect(Number(counts?.care)).toBe(9);
  });

  it('applies an opt-out list written in upper-case hex, as OpenPseudonymiser writes it', async () => {
    const optedOut = CONTROLLERS.map((org) => token(`${org}-A`).toUpperCase());
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'kernel-optouts-')), 'upper.dat');
    writeFileSync(file, optedOut.map((t) => `${t},\n`).join(''));
    expect(await loadOptOutFile(store, file, 'test')).toMatchObject({ tokens: CONTROLLERS.length });
    const planning = await openGovernedRead(
      store,
      { user: USERS[0] as ReadUser, useCaseId: ids.get('planning') as string },
      'msds-booking',
    );
    const rwf = await store.query<{ person_token: string }>(
      `SELECT person_token FROM ${planning.sql} AS r WHERE org_code = 'RWF' ORDER BY person_token`,
    );
    expect(rwf.map((r) => r.person_token)).toEqual([token('RWF-B'), token('RWF-C')].sort());
    await loadOptOutTokens(store, optedOut, 'upper-case list', 'test');
    const impact = await optOutImpact(store, { useCaseId: ids.get('planning') as string, actor: 'test' });
    expect(impact.find((r) => r.org === 'RWF' && r.datasetId === 'msds-booking')).toMatchObject({ lost: 1 });
    const held = await store.query<{ token: string }>('SELECT token FROM optouts ORDER BY token');
    expect(held.map((r) => r.token)).toEqual(optedOut.map((t) => t.toLowerCase()).sort());
  });

  it('removes a baby whose mother opted out from a research read, and keeps rows it cannot check', async () => {
    const research = await activeUseCase(store, {
      title: 'Baby research',
      sponsor: 'RWF',
      purpose: 'research',
      legalBasis: 's251 COPI Regulation 5',
      datasets: ['msds-baby'],
      controllers: ['RWF'],
      users: ['analyst-1'],
      months: 'loaded',
    });
    const read = await openGovernedRead(
      store,
      { user: USERS[0] as ReadUser, useCaseId: research.id },
      'msds-baby',
    );
    expect(read.optOutColumns.sort()).toEqual(['mother_person_token', 'person_token']);
    const rows = await store.query<{ source_line: number }>(
      `SELECT source_line FROM ${read.sql} AS b ORDER BY source_line`,
    );
    expect(rows.map((r) => Number(r.source_line))).toEqual([3, 4]);
  });

  it('gives aggregate-only roles use-case pseudonyms instead of tokens and record keys, and no quasi-identifiers', async () => {
    const viewer = await openGovernedRead(
      store,
      { user: USERS[2] as ReadUser, useCaseId: ids.get('planning') as string },
      'msds-booking',
    );
    expect(viewer.tier).toBe('aggregate-only');
    expect(viewer.columns).toEqual(['load_id', 'org_code', 'person_token', 'UniqPregID', 'imd_decile']);
    expect(viewer.hidden.map((h) => h.column).sort()).toEqual([
      'EthnicCategoryMother',
      'birth_year_month',
      'lsoa_code',
      'source_line',
    ]);
    const rows = await store.query<{ person_token: string; UniqPregID: string }>(
      `SELECT person_token, "UniqPregID" FROM ${viewer.sql} AS v`,
    );
    const real = new Set(CONTROLLERS.flatMap((org) => PEOPLE.map((p) => token(`${org}-${p}`))));
    expect(rows.length).toBe(4);
    for (const row of rows) {
      expect(real.has(row.person_token)).toBe(false);
      expect(row.UniqPregID).not.toMatch(/^PREG-/);
    }
    // Still one pseudonym per person, so distinct counts hold.
    expect(new Set(rows.map((r) => r.person_token)).size).toBe(4);
    await expect(store.query(`SELECT "EthnicCategoryMother" FROM ${viewer.sql} AS v`)).rejects.toThrow();
    const analyst = await openGovernedRead(
      store,
      { user: USERS[0] as ReadUser, useCaseId: ids.get('planning') as string },
      'msds-booking',
    );
    expect(analyst.tier).toBe('record-level');
    expect(analyst.hidden).toEqual([]);
    const analystTokens = await store.query<{ person_token: string }>(
      `SELECT person_token FROM ${analyst.sql} AS a`,
    );
    expect(analystTokens.every((r) => real.has(r.person_token))).toBe(true);
  });

  it('audits every read with its use case, and every denial, and logs reads per controller', async () => {
    const before = await store.query<{ n: number }>(
      "SELECT count(*) AS n FROM audit_events WHERE action = 'data.read'",
    );
    const useCaseId = ids.get('planning') as string;
    await openGovernedRead(
      store,
      { user: USERS[0] as ReadUser, useCaseId, actor: 'user:analyst-1' },
      'msds-booking',
    );
    const [last] = await store.query<{ actor: string; target: string; purpose: string; details: string }>(
      "SELECT actor, target, purpose, details FROM audit_events WHERE action = 'data.read' ORDER BY seq DESC LIMIT 1",
    );
    expect(last).toMatchObject({
      actor: 'user:analyst-1',
      target: 'dataset:msds-booking',
      purpose: useCaseId,
    });
    expect(JSON.parse(last?.details ?? '{}')).toMatchObject({
      controllers: ['RPA', 'RWF'],
      optOutApplied: true,
      purpose: 'planning',
    });
    const after = await store.query<{ n: number }>(
      "SELECT count(*) AS n FROM audit_events WHERE action = 'data.read'",
    );
    expect(Number(after[0]?.n)).toBe(Number(before[0]?.n) + 1);
    await expect(
      openGovernedRead(store, { user: USERS[6] as ReadUser, useCaseId }, 'msds-booking'),
    ).rejects.toMatchObject({ code: 'forbidden' });
    const [denied] = await store.query<{ actor: string; purpose: string }>(
      "SELECT actor, purpose FROM audit_events WHERE action = 'data.read-denied' ORDER BY seq DESC LIMIT 1",
    );
    expect(denied).toEqual({ actor: 'user:guest', purpose: useCaseId });
    const logged = await store.query<{ org_code: string }>(
      "SELECT org_code FROM data_access_log WHERE user_id = 'analyst-1' AND use_case_id = $1 ORDER BY org_code",
      [useCaseId],
    );
    expect(new Set(logged.map((r) => r.org_code))).toEqual(new Set(['RPA', 'RWF']));
  });

  it('reads only published months under a use case that says so, which is the default', async () => {
    const proposed = await activeUseCase(store, {
      title: 'Published months only',
      datasets: ['msds-booking'],
      controllers: ['RWF'],
      users: ['analyst-1'],
    });
    expect(proposed.months).toBe('published');
    const rows = async (): Promise<number> => {
      const read = await openGovernedRead(
        store,
        { user: USERS[0] as ReadUser, useCaseId: proposed.id },
        'msds-booking',
      );
      const [n] = await store.query<{ n: number }>(`SELECT count(*) AS n FROM ${read.sql} AS r`);
      return Number(n?.n);
    };
    expect(await rows()).toBe(0); // loaded, not yet signed off and published
    const decide = (state: string) =>
      store.run(
        `INSERT INTO signoffs (org_code, dataset_id, period, load_id, state, changed_at, changed_by) VALUES ('RWF', 'msds-booking', '2021-03', 'load-1', $1, $2, 'test')`,
        [state, new Date().toISOString()],
      );
    await decide('signed-off');
    expect(await rows()).toBe(0); // signed off is not yet published
    await store.run("DELETE FROM signoffs WHERE org_code = 'RWF'");
    await decide('published');
    expect(await rows()).toBe(2); // RWF's people, less the one who opted out
    await store.run("DELETE FROM signoffs WHERE org_code = 'RWF'");
    await expect(
      proposeUseCase(store, { ...proposed, sponsor: 'QKS', legalBasis: 'x', months: 'some' }, 'test'),
    ).rejects.toMatchObject({ code: 'usage', where: { field: 'months' } });
  });

  it('publishes its own version, which any change to what it decides from changes', async () => {
    const before = await policyVersion(store);
    expect(await policyVersion(store)).toBe(before);
    const [one] = await store.query<{ id: string }>(
      'SELECT use_case_id AS id FROM use_cases ORDER BY use_case_id LIMIT 1',
    );
    const id = one?.id ?? '';
    const months = await store.query<{ months: string | null }>(
      'SELECT months FROM use_cases WHERE use_case_id = $1',
      [id],
    );
    // a column added after the caches were written (months) is in the version all the same
    await store.run("UPDATE use_cases SET months = 'published' WHERE use_case_id = $1", [id]);
    const changed = await policyVersion(store);
    expect(changed).not.toBe(before);
    await store.run('UPDATE use_cases SET months = $2 WHERE use_case_id = $1', [
      id,
      months[0]?.months ?? null,
    ]);
    expect(await policyVersion(store)).toBe(before);
    await store.run(
      "UPDATE agreements SET end_period = '2098-12' WHERE agreement_id = (SELECT MIN(agreement_id) FROM agreements)",
    );
    expect(await policyVersion(store)).not.toBe(before);
  });

  it('lists the use cases a user can read under', async () => {
    expect((await readableUseCases(store, USERS[2] as ReadUser)).map((u) => u.id)).toEqual([
      ids.get('planning'),
    ]);
    expect(await readableUseCases(store, USERS[6] as ReadUser)).toEqual([]);
  });

  it('shows IG leads how many records each use case loses to the opt-out', async () => {
    const impact = await optOutImpact(store, { useCaseId: ids.get('planning') as string, actor: 'test' });
    const rwf = impact.find((r) => r.org === 'RWF' && r.datasetId === 'msds-booking');
    expect(rwf).toMatchObject({ records: 3, lost: 1, optOutApplies: true });
    const care = await optOutImpact(store, { useCaseId: ids.get('direct-care') as string, actor: 'test' });
    expect(care.every((r) => r.lost === 0 && !r.optOutApplies)).toBe(true);
  });

  it('records whose opt-out counts were shown, so each controller’s IG lead sees the view in its audit log', async () => {
    const useCaseId = ids.get('planning') as string;
    await optOutImpact(store, { useCaseId: useCaseId.toLowerCase(), actor: 'test-impact-all' });
    await optOutImpact(store, { controller: 'rpa', actor: 'test-impact-rpa' });
    const [all] = await auditVisibleTo(store, { role: 'ig-lead', org: 'RWF' }, { actor: 'test-impact-all' });
    expect(all).toMatchObject({ target: `usecase:${useCaseId}` });
    expect(JSON.parse(all?.details ?? '{}')).toMatchObject({ org: null, controllers: ['RPA', 'RWF'] });
    const rpa = await auditVisibleTo(store, { role: 'ig-lead', org: 'RPA' }, { actor: 'test-impact-rpa' });
    expect(rpa.map((e) => JSON.parse(e.details) as unknown)).toEqual([
      expect.objectContaining({ org: 'RPA', controllers: ['RPA'] }),
    ]);
    expect(
      await auditVisibleTo(store, { role: 'ig-lead', org: 'RWF' }, { actor: 'test-impact-rpa' }),
    ).toEqual([]);
    await expect(optOutImpact(store, { controller: 'ZZZ99', actor: 'test' })).rejects.toMatchObject({
      code: 'not-found',
      where: { field: 'org' },
    });
  });

  it('makes pseudonyms with HMAC-SHA256 under the use case’s own key, as RFC 2104 defines it, on this engine', async () => {
    // RFC 4231, test case 2: the engine's SQL HMAC agrees with the standard.
    const [vector] = await store.query<{ mac: string }>(
      `SELECT ${store.dialect.hmacSha256Hex('4a656665', "'what do ya want for nothing?'")} AS mac`,
    );
    expect(vector?.mac).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
    const useCaseId = ids.get('planning') as string;
    const viewer = await openGovernedRead(store, { user: USERS[2] as ReadUser, useCaseId }, 'msds-booking');
    const rows = await store.query<{ person_token: string }>(`SELECT person_token FROM ${viewer.sql} AS v`);
    const key = Buffer.from(await useCaseSalt(store, useCaseId), 'hex');
    const expected = new Set(
      CONTROLLERS.flatMap((org) =>
        PEOPLE.map((p) =>
          createHmac('sha256', key)
            .update(token(`${org}-${p}`))
            .digest('hex'),
        ),
      ),
    );
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => expected.has(r.person_token))).toBe(true);
  });
});
