import { createPrivateKey } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { provisionPostgresWorkspaces } from '../workspace/postgres-workspaces.ts';
import { openGovernedRead } from '../governance/access-policy.ts';
import { loadOptOutTokens } from '../governance/optouts.ts';
import { listUseCases } from '../governance/use-cases.ts';
import { openForSuite, testStores } from '../../test/stores.ts';
import { linkageWorldForFile, linksOfRun, loadSentWithLinkage } from '../../test/send-with-linkage.ts';
import { listAudit } from '../audit/audit-log.ts';
import { getDataset } from '../catalogue/catalogue.ts';
import { sweepLandingFolder, type LandingMemory } from '../ingest/landing-folder.ts';
import { loadFeed } from '../ingest/load-feed.ts';
import { deidentifyFile } from '../privacy/deidentify-file.ts';
import type { Store } from '../store/store.ts';
import { buildSpine, spineStatus } from '../kid/person-spine.ts';
import { linkageEstimates, linkageReport } from '../kid/linkage-report.ts';
import { resolveConfig } from '../config/config.ts';
import { createApp } from '../server/app.ts';
import { sessionFor } from '../../test/e2e/portal-helpers.ts';
import { createApiToken } from '../server/auth/api-tokens.ts';
import { addUser, changePassword } from '../server/auth/user-accounts.ts';
import { linkageReviewRoutes } from '../server/linkage-review-routes.ts';
import { buildRouteTable } from '../server/route-table.ts';
import type { ServerDeps } from '../server/routes.ts';
import { linkPeople, pairIdOf } from './link-people.ts';
import { decidePair, explainQueuedPair, reviewQueue } from './link-review.ts';
import { pairDecisionSchema, pairWaterfallSchema, reviewQueueSchema } from './linkage-schemas.ts';
import { encodingColumns } from './linkage-store.ts';

const linkage = linkageWorldForFile({
  name: 'link-people',
  people: 20_000,
  datasets: ['pmi', 'asc'],
  councilDatasets: ['asc'],
  timeout: 120_000,
});
const { dir, tokeniser, secret, signingKeys, sent, truth, extractOf } = linkage;

/**
 * A council feed sent again with its last row gone (as a corrected resend would be): a new
 * file for the month, through the agent with the linkage secret, into its own folder.
 */
async function resend(feed: (typeof sent)[number], folder: string) {
  const out = path.join(dir, folder);
  mkdirSync(out, { recursive: true });
  const extract = path.join(out, 'extract.csv');
  const lines = readFileSync(extractOf.get(feed.file)!, 'utf8').trimEnd().split('\n');
  writeFileSync(extract, `${lines.slice(0, -1).join('\n')}\n`);
  const pair = signingKeys.get(feed.org)!;
  const result = await deidentifyFile({
    spec: getDataset(feed.dataset),
    org: feed.org,
    input: extract,
    output: path.join(out, `${feed.period}.csv`),
    tokeniser,
    signing: { keyId: pair.keyId, privateKey: createPrivateKey(pair.privateKeyPem) },
    period: feed.period,
    linkageSecret: secret,
  });
  return { ...feed, file: result.output, linkage: result.linkage!.file };
}

describe.each(testStores())('kernel link on $engine', (engine) => {
  let store: Store;
  openForSuite(
    engine,
    (s) => (store = s),
    (s) => loadSentWithLinkage(s, linkage, (_, report) => expect(report.status).toBe('loaded')),
    120_000,
  );

  /** The links of a run: `org:period:line` → token, for council rows. */
  async function linksOf(runId: string): Promise<Map<string, string>> {
    const rows = await linksOfRun(store, runId);
    return new Map(rows.map((r) => [`${r.org_code}:${r.period}:${Number(r.source_line)}`, r.person_token]));
  }

  it('gives council records without an NHS number the token of the person they are, stably', async () => {
    const first = await linkPeople(store, { dataset: 'asc', actor: 'cli:test' });
    expect(first.records).toBe(truth.size);
    expect(first.linked).toBeGreaterThan(0);
    const links = await linksOf(first.runId);
    const right = [...links].filter(([key, token]) => truth.get(`asc:${key}`) === token).length;
    expect(right / links.size).toBeGreaterThanOrEqual(0.9); // precision against the truth
    console.log(
      `${engine.engine}: ${first.records} council records without an NHS number; ${links.size} linked, ${right} right; ` +
        `model's estimate: precision ${first.estimatedPrecision?.toFixed(4)}, recall ${first.estimatedRecall?.toFixed(4)}`,
    );
    expect(first.estimatedPrecision).toBeGreaterThan(0.9);
    const again = await linkPeople(store, { dataset: 'asc', actor: 'cli:test' });
    expect(again.runId).not.toBe(first.runId);
    expect(await linksOf(again.runId)).toEqual(links);
    const events = (await listAudit(store)).filter((e) => e.action === 'linkage.people-linked');
    expect(events).toHaveLength(2);

    // The KID linkage report counts the latest run's links to people on the spine.
    await buildSpine(store, { actor: 'cli:test' });
    const spine = new Set(
      (await store.query<{ person_token: string }>('SELECT person_token FROM kid_spine_person')).map(
        (r) => r.person_token,
      ),
    );
    const onSpine = [...(await linksOf(again.runId)).values()].filter((t) => spine.has(t)).length;
    expect(onSpine).toBeGreaterThan(0);
    const asc = (await linkageReport(store)).filter((r) => r.dataset === 'asc');
    expect(asc.reduce((n, r) => n + r.linkedProbabilistically, 0)).toBe(onSpine);
    for (const row of asc) expect(row.linkedProbabilistically).toBeLessThanOrEqual(row.unmatched.noToken);
  });

  it('gives linked council records their person in every governed read, and applies the opt-out to them', async () => {
    const run = await linkPeople(store, { dataset: 'asc', actor: 'cli:test' });
    const links = await linksOf(run.runId);
    const [useCase] = (await listUseCases(store, { state: ['active'] })).filter(
      (u) => u.datasets.includes('asc') && u.purpose === 'planning',
    );
    const analyst = { id: 'analyst-link', role: 'analyst', org: null };
    const read = await openGovernedRead(store, { user: analyst, useCaseId: useCase!.id }, 'asc');
    expect(read.columns).toContain('person_link_probability');
    const rows = await store.query<{
      org_code: string;
      load_id: string;
      source_line: number;
      person_token: string | null;
      person_link_probability: number | null;
    }>(
      `SELECT a.org_code, a.load_id, a.source_line, a.person_token, a.person_link_probability FROM ${read.sql} AS a`,
    );
    const periodOf = new Map(
      (await store.query<{ load_id: string; period: string }>('SELECT load_id, period FROM loads')).map(
        (l) => [l.load_id, l.period],
      ),
    );
    const linked = rows.filter((r) => r.person_link_probability !== null);
    expect(linked.length).toBe(links.size);
    for (const row of linked) {
      expect(row.person_token).toBe(
        links.get(`${row.org_code}:${periodOf.get(row.load_id)}:${Number(row.source_line)}`),
      );
    }
    // An opted-out person goes from planning reads whether their record carried an NHS number or was linked.
    const someone = linked[0]!.person_token!;
    await loadOptOutTokens(store, [someone], 'test', 'test');
    const after = await openGovernedRead(store, { user: analyst, useCaseId: useCase!.id }, 'asc');
    const remaining = await store.query<{ n: number }>(
      `SELECT count(*) AS n FROM ${after.sql} AS a WHERE a.person_token = $1`,
      [someone],
    );
    expect(Number(remaining[0]?.n)).toBe(0);
    await loadOptOutTokens(store, ['0'.repeat(64)], 'test', 'test');
  });

  it.runIf(engine.engine === 'postgres')(
    'gives linked records to an analyst’s own PostgreSQL login too: its views may read the links',
    async () => {
      await linkPeople(store, { dataset: 'asc', actor: 'cli:test' });
      const { user } = await addUser(
        store,
        { email: 'ws-analyst@link.test', role: 'analyst', password: 'a long test passphrase 1' },
        'test',
      );
      const provisioned = await provisionPostgresWorkspaces(store, { actor: 'test' });
      const login = provisioned.logins.find((l) => l.userId === user.id)!;
      const schema = provisioned.schemas.find((s) => s.views.includes('asc') && s.users.includes(user.id))!;
      const { host, port, database } = provisioned.connection;
      const client = new pg.Client({
        host,
        port,
        database,
        user: login.role,
        password: login.password ?? '',
      });
      await client.connect();
      try {
        const linked = await client.query<{ n: string }>(
          `SELECT count(*) AS n FROM ${schema.name}."asc" WHERE person_link_probability IS NOT NULL`,
        );
        expect(Number(linked.rows[0]?.n)).toBeGreaterThan(0);
      } finally {
        await client.end();
      }
    },
  );

  it('keeps clerical decisions in the store, audited, and the next run honours them', async () => {
    // A wide band queues nearly every candidate pair, so there are sure links to overrule.
    const run = await linkPeople(store, { dataset: 'asc', actor: 'cli:test', reviewBand: [1e-6, 1] });
    const queue = await reviewQueue(store, { dataset: 'asc' });
    expect(queue.runId).toBe(run.runId);
    expect(queue.pairs.length).toBe(run.reviewQueue);
    const linkedPair = queue.pairs.find((p) => p.linked)!;
    const unlinkedPair = queue.pairs.find((p) => !p.linked && p.sourceLine !== linkedPair.sourceLine)!;
    expect(linkedPair && unlinkedPair).toBeTruthy();

    // The waterfall from the run's stored model agrees with the weight the run gave the pair.
    const waterfall = await explainQueuedPair(store, linkedPair.pairId);
    expect(waterfall.steps).toHaveLength(5);
    expect(waterfall.weight).toBeCloseTo(linkedPair.weight, 6);
    const encodings = await store.query<Record<string, string | null>>(
      `SELECT ${encodingColumns()} FROM linkage_encodings`,
    );
    const shown = JSON.stringify([waterfall, queue]);
    for (const row of encodings.slice(0, 200))
      for (const value of Object.values(row)) if (value) expect(shown).not.toContain(value);

    await decidePair(store, { pairId: linkedPair.pairId, match: false, actor: 'cli:test' });
    await decidePair(store, { pairId: unlinkedPair.pairId, match: true, actor: 'cli:test' });
    const after = await reviewQueue(store, { dataset: 'asc' });
    expect(after.pairs.map((p) => p.pairId)).not.toContain(linkedPair.pairId);

    const next = await linkPeople(store, { dataset: 'asc', actor: 'cli:test' });
    expect(next.decisionsApplied).toBe(2);
    const links = await store.query<{ pair: string }>(
      `SELECT p.load_id || ':' || CAST(p.source_line AS TEXT) || ':' || p.person_token AS pair
       FROM person_links p WHERE p.run_id = $1`,
      [next.runId],
    );
    const linkedPairs = new Set(
      links.map((l) => {
        const [load, line, token] = l.pair.split(':');
        return pairIdOf('asc', load!, Number(line), token!);
      }),
    );
    expect(linkedPairs.has(linkedPair.pairId)).toBe(false);
    expect(linkedPairs.has(unlinkedPair.pairId)).toBe(true);

    // The report's estimates: the model's, and the clerical ones from the two decisions.
    const estimates = await linkageEstimates(store);
    expect(estimates.every((e) => e.runId === next.runId && e.dataset === 'asc')).toBe(true);
    expect(estimates.reduce((n, e) => n + e.linked, 0)).toBe(next.linked);
    expect(estimates.reduce((n, e) => n + e.clerical.reviewedPairs, 0)).toBe(2);
    const reviewed = estimates.filter((e) => e.clerical.reviewedPairs > 0);
    // The model alone linked the pair people called a non-match, and not the one they called a match.
    expect(reviewed.map((e) => e.clerical.precision).filter((x) => x !== null)).toEqual(
      reviewed.filter((e) => e.clerical.precision !== null).map(() => 0),
    );
    expect(reviewed.map((e) => e.clerical.recall).filter((x) => x !== null)).toEqual(
      reviewed.filter((e) => e.clerical.recall !== null).map(() => 0),
    );
    for (const e of estimates.filter((x) => x.linked > 0)) {
      expect(e.model.precision).toBeGreaterThan(0.9);
      expect(e.model.recall).toBeGreaterThan(0.9);
    }
    const decided = (await listAudit(store)).filter((e) => e.action === 'linkage.pair-decided');
    expect(decided).toHaveLength(2);
    const tokens = (
      await store.query<{ person_token: string }>('SELECT person_token FROM link_decisions')
    ).map((r) => r.person_token);
    for (const event of decided) for (const token of tokens) expect(event.details).not.toContain(token);
  });

  it('shows the queue and a pair in the portal, and keeps the decision made there', async () => {
    await linkPeople(store, { dataset: 'asc', actor: 'cli:test', reviewBand: [1e-6, 1] });
    const queue = await reviewQueue(store, { dataset: 'asc' });
    const pair = queue.pairs[0]!;
    const deps: ServerDeps = { store, config: { ...resolveConfig({ data: dir }).config, dataDir: dir } };
    // The review routes are in the route table; added here only if the table lacks them.
    const table = buildRouteTable(deps);
    const review = linkageReviewRoutes(deps).filter(
      (route) => !table.some((t) => t.method === route.method && t.path === route.path),
    );
    const app = createApp(deps, { routes: [...table, ...review] });
    const account = async (role: 'admin' | 'provider', org?: string) => {
      const { user } = await addUser(
        store,
        {
          email: `${role}-review@portal.test`,
          role,
          ...(org ? { org } : {}),
          password: 'portal test passphrase 0',
        },
        'test',
      );
      await changePassword(store, user.id, 'portal test passphrase 0', 'portal test passphrase', 'test');
      return sessionFor(store, user.id);
    };
    const admin = await account('admin');
    const provider = await account('provider', 'RWF');
    const get = (url: string, session: { cookie: string }) =>
      app.request(url, { headers: { Cookie: session.cookie } });

    const list = await get('/linkage/review?dataset=asc', admin);
    expect(list.status).toBe(200);
    expect(await list.text()).toContain(pair.pairId);
    // A provider reviews only what its own organisation sent.
    expect(await (await get('/linkage/review?dataset=asc', provider)).text()).not.toContain(pair.pairId);
    expect((await get(`/linkage/review/${pair.pairId}`, provider)).status).toBe(404);

    const detail = await get(`/linkage/review/${pair.pairId}`, admin);
    expect(detail.status).toBe(200);
    const html = await detail.text();
    expect(html).toContain('How the match weight builds up');
    const [queued] = await store.query<{ person_token: string }>(
      'SELECT person_token FROM link_review WHERE pair_id = $1 LIMIT 1',
      [pair.pairId],
    );
    expect(html).not.toContain(queued!.person_token);
    for (const row of await store.query<Record<string, string | null>>(
      `SELECT ${encodingColumns()} FROM linkage_encodings LIMIT 200`,
    ))
      for (const value of Object.values(row)) if (value) expect(html).not.toContain(value);

    const post = (body: Record<string, string>) =>
      app.request(`/linkage/review/${pair.pairId}`, {
        method: 'POST',
        headers: { Cookie: admin.cookie, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ csrf: admin.csrf, ...body }).toString(),
        redirect: 'manual',
      });
    const missing = await post({});
    expect(missing.status).toBe(400);
    expect(await missing.text()).toContain('Choose whether the record is this person');
    const decided = await post({ decision: 'non-match' });
    expect([302, 303]).toContain(decided.status);
    expect(decided.headers.get('location')).toContain(`decided=${pair.pairId}`);
    const kept = await store.query<{ is_match: boolean; actor: string }>(
      'SELECT is_match, actor FROM link_decisions WHERE pair_id = $1',
      [pair.pairId],
    );
    expect(kept.map((k) => String(k.is_match))).toEqual(['false']);
    expect(kept[0]!.actor).toMatch(/^user:/);
    expect((await reviewQueue(store, { dataset: 'asc' })).pairs.map((p) => p.pairId)).not.toContain(
      pair.pairId,
    );

    // The same through the API, with its schemas.
    const { token } = await createApiToken(store, 'admin-review@portal.test', 'test');
    const bearer = { Authorization: `Bearer ${token}` };
    const apiQueue = await app.request('/api/v1/linkage/review?dataset=asc', { headers: bearer });
    expect(apiQueue.status).toBe(200);
    const body = reviewQueueSchema.parse(await apiQueue.json());
    const next = body.pairs[0]!;
    const apiPair = await app.request(`/api/v1/linkage/review/${next.pairId}`, { headers: bearer });
    expect(pairWaterfallSchema.parse(await apiPair.json()).weight).toBeCloseTo(next.weight, 6);
    const bad = await app.request(`/api/v1/linkage/review/${next.pairId}`, {
      method: 'POST',
      headers: { ...bearer, 'Content-Type': 'application/json' },
      body: JSON.stringify({ decision: 'maybe' }),
    });
    expect(bad.status).toBe(400);
    const decidedByApi = await app.request(`/api/v1/linkage/review/${next.pairId}`, {
      method: 'POST',
      headers: { ...bearer, 'Content-Type': 'application/json' },
      body: JSON.stringify({ decision: 'match' }),
    });
    expect(decidedByApi.status).toBe(201);
    expect(pairDecisionSchema.parse(await decidedByApi.json())).toMatchObject({
      pairId: next.pairId,
      match: true,
    });
  });

  it('links the datasets linked before into each new spine version, before the version is current', async () => {
    const build = await buildSpine(store, { full: true, actor: 'cli:test' });
    const [run] = await store.query<{ run_id: string; spine_version: number; dataset: string }>(
      'SELECT run_id, spine_version, dataset FROM link_runs ORDER BY started_at DESC, run_id DESC LIMIT 1',
    );
    expect(run?.dataset).toBe('asc');
    expect(Number(run?.spine_version)).toBe(build.version);
    expect((await spineStatus(store)).stale).toBe(false);
    const [links] = await store.query<{ n: number }>(
      'SELECT count(*) AS n FROM person_links WHERE run_id = $1',
      [run!.run_id],
    );
    const asc = (await linkageReport(store)).filter((r) => r.dataset === 'asc');
    expect(asc.reduce((n, r) => n + r.linkedProbabilistically, 0)).toBe(Number(links?.n));
  });

  it('links after each load of a council feed, once the spine exists; the load never waits on it', async () => {
    const feed = await resend(sent.filter((f) => f.dataset === 'asc').at(-1)!, `resend-${engine.engine}`);
    const report = await loadFeed(store, { ...feed, actor: 'test' });
    expect(report.status).toBe('loaded');
    const runs = await store.query<{ run_id: string; started_by_load: string; spine_version: number }>(
      'SELECT run_id, started_by_load, spine_version FROM link_runs WHERE started_by_load = $1',
      [report.loadId],
    );
    expect(runs).toHaveLength(1);
    const held = await store.query<{ n: number }>(
      'SELECT count(*) AS n FROM linkage_encodings WHERE load_id = $1',
      [report.loadId],
    );
    expect(Number(held[0]?.n)).toBeGreaterThan(0);
  });

  it('takes a council feed with its linkage file from the landing folder, and moves the three together', async () => {
    const feed = await resend(sent.filter((f) => f.dataset === 'asc').at(-3)!, `resend-3-${engine.engine}`);
    const landing = path.join(dir, `landing-${engine.engine}`);
    mkdirSync(landing, { recursive: true });
    for (const file of [feed.file, `${feed.file}.manifest.json`, feed.linkage])
      copyFileSync(file, path.join(landing, path.basename(file)));
    const memory: LandingMemory = new Map();
    expect(await sweepLandingFolder(store, landing, memory)).toEqual([]); // not settled yet
    const [landed] = await sweepLandingFolder(store, landing, memory);
    expect(landed).toMatchObject({ status: 'loaded', movedTo: 'done' });
    expect(readdirSync(path.join(landing, 'done')).sort()).toEqual(
      [
        path.basename(feed.file),
        `${path.basename(feed.file)}.manifest.json`,
        `${path.basename(feed.file)}.report.json`,
        path.basename(feed.linkage),
      ].sort(),
    );
    const [held] = await store.query<{ n: number }>(
      'SELECT count(*) AS n FROM linkage_encodings WHERE load_id = $1',
      [landed!.loadId],
    );
    expect(Number(held?.n)).toBeGreaterThan(0);
    const runs = await store.query('SELECT run_id FROM link_runs WHERE started_by_load = $1', [
      landed!.loadId,
    ]);
    expect(runs).toHaveLength(1);
  });

  it('refuses a linkage file altered after signing, and deletes the encodings of a load withdrawn', async () => {
    const feed = await resend(sent.filter((f) => f.dataset === 'asc').at(-2)!, `resend-2-${engine.engine}`);
    const altered = path.join(dir, 'altered', engine.engine);
    mkdirSync(altered, { recursive: true });
    const copy = path.join(altered, path.basename(feed.file));
    copyFileSync(feed.file, copy);
    copyFileSync(`${feed.file}.manifest.json`, `${copy}.manifest.json`);
    const linkageCopy = path.join(altered, path.basename(feed.linkage));
    writeFileSync(linkageCopy, readFileSync(feed.linkage, 'utf8').replace(/\n(\d+),/, '\n9$1,'));
    await expect(loadFeed(store, { ...feed, file: copy, actor: 'test' })).rejects.toThrow(/SHA-256 differs/);

    // No operation withdraws a load yet; any status but 'loaded' means its records are gone.
    const [victim] = await store.query<{ load_id: string }>(
      `SELECT DISTINCT load_id FROM linkage_encodings WHERE dataset = 'asc' AND load_id IS NOT NULL ORDER BY load_id LIMIT 1`,
    );
    await store.run("UPDATE loads SET status = 'failed' WHERE load_id = $1", [victim!.load_id]);
    await linkPeople(store, { dataset: 'asc', actor: 'cli:test' });
    const left = await store.query<{ n: number }>(
      'SELECT count(*) AS n FROM linkage_encodings WHERE load_id = $1',
      [victim!.load_id],
    );
    expect(Number(left[0]?.n)).toBe(0);
    expect((await listAudit(store)).some((e) => e.action === 'linkage.encodings-deleted')).toBe(true);
  });

  it('records a failed link after a load and keeps the load', async () => {
    const feed = await resend(sent.filter((f) => f.dataset === 'asc').at(-2)!, `resend-2-${engine.engine}`);
    await store.run("DELETE FROM linkage_encodings WHERE dataset = 'pmi'");
    const report = await loadFeed(store, { ...feed, actor: 'test' });
    expect(report.status).toBe('loaded');
    const failed = (await listAudit(store)).filter((e) => e.action === 'linkage.link-failed');
    expect(failed).toHaveLength(1);
    expect(JSON.parse(failed[0]!.details)).toEqual({ load: report.loadId, code: 'not-found' });
    const [load] = await store.query<{ status: string }>('SELECT status FROM loads WHERE load_id = $1', [
      report.loadId,
    ]);
    expect(load?.status).toBe('loaded');
  });

  it('refuses a dataset that is not linked by encodings', async () => {
    await expect(linkPeople(store, { dataset: 'apc', actor: 'cli:test' })).rejects.toThrow(
      /not one whose records/,
    );
    await expect(linkPeople(store, { dataset: 'pmi', actor: 'cli:test' })).rejects.toThrow(
      /not one whose records/,
    );
  });
});
