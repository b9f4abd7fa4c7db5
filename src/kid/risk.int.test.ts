import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/cli.ts';
import { kidWorldForFile, openWorldForSuite } from '../../test/kid-world.ts';
import { auditEventCount } from '../../test/audit-event-count.ts';
import { kidApiForAnalyst } from '../../test/kid-api.ts';
import { testStores } from '../../test/stores.ts';
import { inVersion } from '../store/version-range.ts';
import { readingUseCaseId } from '../../test/use-cases.ts';
import { createAgreement } from '../governance/agreements.ts';
import type { Purpose } from '../governance/governance-values.ts';
import { loadOptOutTokens } from '../governance/optouts.ts';
import { linkKeyId } from '../privacy/link-key.ts';
import type { Store } from '../store/store.ts';
import { riskModelSchema } from './kid-schemas.ts';
import { buildSpine, populationOn } from './person-spine.ts';
import { buildRisk, readRiskModel, refitRisk, riskByGroup, riskModel, type RiskModel } from './risk.ts';

/** a link key for this test alone, the same on every run */
const FIXED_KEY = createHash('sha256').update('kernel risk test link key').digest();

// Two years, so the fit has a year of history before T0 = 2020-03-31 and a year of outcome after.
const world = kidWorldForFile({
  people: 5000,
  from: '2019-04',
  to: '2021-03',
  datasets: ['pmi', 'asc', 'gp-events', 'apc', 'ecds'],
  defects: 'none',
  // The held-out people are chosen by token, so by the link key: with a new key on every
  // run the calibration's bounds (three standard errors a decile, ten deciles) failed now
  // and then by the luck of the split alone. A fixed key makes the split, and so the test,
  // the same on every run.
  linkKey: { keyId: linkKeyId(FIXED_KEY), key: FIXED_KEY },
  timeout: 300_000,
});

const AS_OF = '2021-03-31';
const FITTED_ON = '2020-03-31';
const analyst = { id: 'u-analyst', role: 'analyst', org: null };

const coefficient = (model: RiskModel, term: string) => {
  const t = model.terms.find((x) => x.term === term);
  if (!t) throw new Error(`no term ${term}`);
  return t;
};

const useCase = (store: Store, purpose: Purpose, datasets: string[], controllers: string[]) =>
  readingUseCaseId(store, 'Risk', purpose, datasets, controllers);

describe.each(testStores())('risk of an emergency admission on $engine', (engine) => {
  let store: Store;
  let model: RiskModel;
  const suite = openWorldForSuite(engine, (s) => (store = s), {
    world: () => world,
    buildKid: true,
    timeout: 600_000,
  });
  beforeAll(async () => {
    const fitted = await riskModel(store);
    if (!fitted) throw new Error('the build fitted no risk model');
    model = fitted;
  });

  it('is fitted on the year before the model\u2019s date and finds the risks the synthetic world puts in', async () => {
    expect(model).toMatchObject({ asOf: AS_OF, fittedOn: FITTED_ON, reason: 'no stored model' });
    // Everyone in the population on T0 is in the fit or held out (nobody has opted out yet).
    const population = await populationOn(store, FITTED_ON);
    expect(model.fitting.people + model.heldOut.people).toBe(
      new Set(population.map((p) => p.person_token)).size,
    );
    expect(model.heldOut.people / population.length).toBeGreaterThan(0.2);
    expect(model.heldOut.people / population.length).toBeLessThan(0.3);
    // The outcome, counted independently: people in that population with an emergency spell in the year after.
    const [outcome] = await store.query<{ n: number }>(
      `SELECT count(DISTINCT a.person_token) AS n FROM ds_apc a
       WHERE substr(a."Admission_Method", 1, 1) = '2'
         AND a."Admission_Date" > CAST($1 AS DATE) AND a."Admission_Date" <= CAST($2 AS DATE)
         AND a.person_token IN (SELECT person_token FROM kid_population_periods
                                WHERE from_date <= CAST($1 AS DATE) AND (to_date IS NULL OR to_date >= CAST($1 AS DATE)))`,
      [FITTED_ON, AS_OF],
    );
    expect(model.fitting.events + model.heldOut.events).toBe(Number(outcome?.n));

    // The world raises emergency admissions with each long-term condition and with age, so
    // the model must find both, and discriminate clearly better than chance on people it never saw.
    console.info(
      `${engine.engine}: AUROC held out ${model.heldOut.auroc?.toFixed(3)} (fitting ${model.fitting.auroc?.toFixed(3)}); ` +
        model.terms
          .map((t) => `${t.term} ${t.coefficient.toFixed(2)}±${t.standardError.toFixed(2)}`)
          .join(', '),
    );
    expect(model.heldOut.auroc).toBeGreaterThan(0.6);
    expect(model.fitting.auroc).toBeGreaterThan(0.65);
    const conditions = coefficient(model, 'conditions');
    expect(conditions.coefficient).toBeGreaterThan(2 * conditions.standardError);
    // The world draws each month's admissions afresh from age, deprivation and conditions, with
    // no lasting frailty of a person's own beyond the eFI's (not a term here), so a past
    // admission adds next to nothing once those are in the model: its coefficient is about 0,
    // either side by the luck of which people are held out (the link key decides the tokens
    // and so the split). It must not point the wrong way beyond that noise, and
    // by itself it is a strong sign (below).
    const past = coefficient(model, 'emergency-admissions');
    expect(past.coefficient).toBeGreaterThan(-2 * past.standardError);
    const [byPast] = await store.query<{ with_past: number; without_past: number }>(
      `WITH pop AS (SELECT DISTINCT person_token FROM kid_population_periods
                    WHERE from_date <= CAST($1 AS DATE) AND (to_date IS NULL OR to_date >= CAST($1 AS DATE))),
            emergency AS (SELECT person_token, "Admission_Date" AS day FROM ds_apc WHERE substr("Admission_Method", 1, 1) = '2'),
            flags AS (
              SELECT pop.person_token,
                     max(CASE WHEN e.day <= CAST($1 AS DATE) THEN 1 ELSE 0 END) AS past,
                     max(CASE WHEN e.day > CAST($1 AS DATE) THEN 1 ELSE 0 END) AS after
              FROM pop LEFT JOIN emergency e ON e.person_token = pop.person_token GROUP BY pop.person_token)
       SELECT avg(CASE WHEN past = 1 THEN after END) AS with_past, avg(CASE WHEN past = 0 THEN after END) AS without_past
       FROM flags`,
      [FITTED_ON],
    );
    expect(Number(byPast?.with_past)).toBeGreaterThan(1.5 * Number(byPast?.without_past));
    expect(coefficient(model, 'age:85+').coefficient).toBeGreaterThan(
      coefficient(model, 'age:65-74').coefficient,
    );
    expect(model.terms.every((t) => Number.isFinite(t.coefficient) && t.standardError > 0)).toBe(true);
    // Frailty on T0 from the eFI's own code lists (src/kid/frailty.ts): the world codes more
    // deficits in older and frailer people, and some of them are mildly frail or worse.
    expect(coefficient(model, 'frailty:mild').people).toBeGreaterThan(0);

    // Calibration among the held-out people: ten tenths, predicted rising, observed rising
    // with it, and each decile's observed rate within three binomial standard errors (+2 points).
    expect(model.calibration.map((d) => d.decile)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(model.calibration.reduce((n, d) => n + d.people, 0)).toBe(model.heldOut.people);
    const predicted = model.calibration.map((d) => d.predicted);
    expect(predicted).toEqual([...predicted].sort((a, b) => a - b));
    const observed = model.calibration.map((d) => d.observed);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(observed.slice(7))).toBeGreaterThan(2 * mean(observed.slice(0, 3)));
    for (const d of model.calibration)
      expect(Math.abs(d.observed - d.predicted), `decile ${d.decile}`).toBeLessThanOrEqual(
        3 * Math.sqrt((d.predicted * (1 - d.predicted)) / d.people) + 0.02,
      );
  });

  it('scores everyone in the population on the model\u2019s date, as the coefficients say', async () => {
    const population = new Set((await populationOn(store, AS_OF)).map((p) => p.person_token));
    expect(model.scored).toBe(population.size);
    const [scores] = await store.query<{
      n: number;
      tokens: number;
      low: number;
      high: number;
      mean: number;
    }>(
      `SELECT count(*) AS n, count(DISTINCT person_token) AS tokens, min(probability) AS low,
              max(probability) AS high, avg(probability) AS mean FROM kid_person_risk`,
    );
    expect(Number(scores?.n)).toBe(population.size);
    expect(Number(scores?.tokens)).toBe(population.size);
    expect(Number(scores?.low)).toBeGreaterThan(0);
    expect(Number(scores?.high)).toBeLessThan(1);
    // The SQL that scores each person and the TypeScript that fitted the model agree on every term.
    const groups = await riskByGroup(store, model.version, AS_OF);
    const people = groups.reduce((n, g) => n + g.people, 0);
    expect(people).toBe(population.size);
    expect(Number(scores?.mean)).toBeCloseTo(groups.reduce((s, g) => s + g.people * g.risk, 0) / people, 10);
  });

  it('scores with the eFI’s deficits of the day exactly what counting them from the GP events gives', async () => {
    const scores = () =>
      store.query<{ person_token: string; probability: number }>(
        'SELECT person_token, probability FROM kid_person_risk ORDER BY person_token',
      );
    const fromEfi = await scores();
    // Kept aside, so the tests after this one find the build's fit as it was.
    const tables = ['kid_risk_fit', 'kid_risk_model', 'kid_risk_calibration', 'kid_risk'];
    for (const t of tables)
      await store.run(`CREATE TABLE kept_${t} AS SELECT * FROM ${t} WHERE version = $1`, [model.version]);
    // Moved off the model's date, the eFI is not read: scoring counts the deficits itself.
    const moveEfi = (days: number) =>
      store.run(`UPDATE kid_frailty SET as_of = CAST(as_of + ${days} AS DATE) WHERE version = $1`, [
        model.version,
      ]);
    await moveEfi(-1);
    try {
      const rescored = await buildRisk(store, model.version, { refit: true });
      expect(rescored).toMatchObject({ status: 'fitted', scored: model.scored });
      expect(await scores()).toEqual(fromEfi);
    } finally {
      await moveEfi(1);
      for (const t of tables) {
        await store.run(`DELETE FROM ${t} WHERE version = $1`, [model.version]);
        await store.run(`INSERT INTO ${t} SELECT * FROM kept_${t}`);
        await store.run(`DROP TABLE kept_${t}`);
      }
    }
  });

  it('leaves a version without a model date no risk scores, the version before keeping its own', async () => {
    const scoresOf = async (version: number): Promise<number> =>
      Number(
        (
          await store.query<{ n: number }>(
            `SELECT count(*) AS n FROM kid_risk r WHERE ${inVersion('r', '$1')}`,
            [version],
          )
        )[0]?.n ?? 0,
      );
    const next = model.version + 1;
    expect(await scoresOf(model.version)).toBe(model.scored);
    try {
      expect(await buildRisk(store, next, { asOf: null })).toMatchObject({ status: 'skipped', scored: 0 });
      expect(await scoresOf(next)).toBe(0);
      expect(await scoresOf(model.version)).toBe(model.scored);
    } finally {
      // as the next build would, finding a dead build's retired rows
      await store.run('UPDATE kid_risk SET retired = NULL WHERE retired = $1', [next]);
    }
  });

  it('reuses the stored model while its definition stands, refits only when asked, the same way every time', async () => {
    const scores = () =>
      store.query<{ person_token: string; probability: number }>(
        'SELECT person_token, probability FROM kid_person_risk ORDER BY person_token',
      );
    const before = await scores();
    // A rebuild with nothing new: the fit is carried into the new version, and scores it.
    const started = Date.now();
    const rebuilt = await buildSpine(store, { full: true });
    const rebuildSeconds = (Date.now() - started) / 1000;
    const reused = (await riskModel(store)) as RiskModel;
    expect(reused).toMatchObject({
      version: rebuilt.version,
      fittedInVersion: model.version,
      reason: 'no stored model',
    });
    expect(reused.terms).toEqual(model.terms);
    expect(await scores()).toEqual(before);

    // Asked: fitted again from the same data, the same coefficients and the same scores.
    const refit = await refitRisk(store, 'test');
    console.info(
      `${engine.engine}: a full rebuild reusing the fit ${rebuildSeconds.toFixed(1)} s; a refit (fit and score) ${refit.seconds.toFixed(1)} s`,
    );
    expect(refit).toMatchObject({ status: 'fitted', reason: 'asked', version: rebuilt.version });
    const again = (await riskModel(store)) as RiskModel;
    expect(again.fittedInVersion).toBe(rebuilt.version);
    expect(again.terms).toEqual(model.terms);
    expect(again.calibration).toEqual(model.calibration);
    expect(await scores()).toEqual(before);
    const [audited] = await store.query<{ n: number }>(
      `SELECT count(*) AS n FROM audit_events WHERE action = 'kid.risk-refitted'`,
    );
    expect(Number(audited?.n)).toBe(1);

    // An opt-out list, like a new month or a resend, does not refit the governed coefficients:
    // the next build carries them; a full build asked to refit fits without the people on it.
    const population = await populationOn(store, FITTED_ON);
    const optedOut = population.filter((_, i) => i % 10 === 0).map((p) => p.person_token);
    await loadOptOutTokens(store, optedOut, 'test list', 'test');
    const carried = await buildSpine(store, { full: true });
    expect((await riskModel(store)) as RiskModel).toMatchObject({
      version: carried.version,
      fittedInVersion: rebuilt.version,
      reason: 'asked',
    });
    const next = await buildSpine(store, { full: true, refit: true });
    const refitted = (await riskModel(store)) as RiskModel;
    expect(refitted).toMatchObject({
      version: next.version,
      fittedInVersion: next.version,
      reason: 'asked',
    });
    expect(refitted.fitting.people + refitted.heldOut.people).toBe(
      model.fitting.people + model.heldOut.people - new Set(optedOut).size,
    );
    // Scoring is for everyone, opted out or not: a score may serve direct care.
    expect(refitted.scored).toBe(model.scored);
  }, 600_000);

  it('is read through the access policy, audited, refused without a use case that covers its feeds, and answered by the API', async () => {
    // Every organisation that sent a feed: practices, trusts and the councils (asc).
    const orgs = (
      await store.query<{ org_code: string }>('SELECT DISTINCT org_code FROM loads ORDER BY 1')
    ).map((r) => r.org_code);
    const feeds = ['pmi', 'asc', 'gp-events', 'apc', 'ecds'];
    for (const org of orgs)
      await createAgreement(store, { org, datasets: feeds, from: '2019-04', to: '2030-03' }, 'test');
    const every = await useCase(store, 'planning', feeds, orgs);
    const read = await readRiskModel(store, { user: analyst, useCaseId: every });
    expect(read.terms).toEqual((await riskModel(store))?.terms);
    expect(await auditEventCount(store, 'data.read', 'kid:risk')).toBe(1);

    const conditionsOnly = await useCase(store, 'planning', ['pmi', 'gp-events'], orgs);
    await expect(readRiskModel(store, { user: analyst, useCaseId: conditionsOnly })).rejects.toMatchObject({
      code: 'forbidden',
      message: expect.stringContaining('derive from apc'),
    });
    expect(await auditEventCount(store, 'data.read-denied', 'kid:risk')).toBe(1);

    const get = await kidApiForAnalyst(store, 'risk');
    const response = await get(`?useCase=${every}`);
    expect(response.status).toBe(200);
    const body = riskModelSchema.parse(await response.json());
    expect(body.calibration).toHaveLength(10);
    expect(body.heldOut.auroc).toBe(read.heldOut.auroc);
    expect(body.rule).toContain('*');
    expect((await get('')).status).toBe(400);
    expect((await get(`?useCase=${conditionsOnly}`)).status).toBe(403);
  });

  it('prints the model with kernel kid risk, refits it with --refit, and says when there is none', async () => {
    await suite.whileClosed(async (flags) => {
      const shown = await runCli(['kid', 'risk', ...flags]);
      expect(shown.code).toBe(0);
      expect(shown.stdout).toContain('AUROC');
      expect(shown.stdout).toContain('emergency-admissions');
      expect(shown.stdout).toContain('decile of predicted risk');
      const refit = await runCli(['kid', 'risk', '--refit', '--json', ...flags]);
      expect(refit.code).toBe(0);
      const answer = JSON.parse(refit.stdout) as {
        refit: { status: string; reason: string };
        model: RiskModel;
      };
      expect(answer.refit).toMatchObject({ status: 'fitted', reason: 'asked' });
      expect(answer.model.terms.map((t) => t.term)).toEqual(model.terms.map((t) => t.term));
      // A refit is a full build's, never an incremental one's.
      const partial = await runCli(['kid', 'build', '--refit', ...flags]);
      expect(partial.code).toBe(64);
      expect(partial.stderr).toContain('--full --refit');

      const empty = await engine.fresh();
      const none = await runCli(['kid', 'risk', '--data', empty.dataDir, '--store', empty.store]);
      expect(none.code).toBe(66);
      expect(none.stderr).toContain('There is no risk model yet');
      expect(none.stderr).not.toContain('    at ');
    });
  }, 600_000);
});
