/**
 * bench/kid-dashboard/render.ts: what the population health page costs to draw, apart from
 * reading its figures, in CPU milliseconds (the machine is shared: wall clock follows the
 * other sessions' work, a render's own CPU time much less).
 *
 *   npx tsx bench/kid-dashboard/render.ts --reuse DIR [--renders 200] [--practice CODE]
 *
 * On a warehouse `run.ts` prepared in DIR (with the analyst and use case it makes), it reads
 * the practice view through `readPopulationHealth` (audited, under the bench's use case) and
 * then, `--renders` times each, one step at a time: the answer itself (what the API does), the
 * page's read (the answer and its picker's areas, `readPopulationHealthPage`), the picker's use
 * cases as the page asks for them (`populationHealthUseCases`), the view (charts' SVG and
 * table rows, `populationHealthView`), the portal template (`kid/population-health.njk` in the
 * layout, through the server's own view engine) and the API's `JSON.stringify` of the same
 * answer. It prints the median CPU milliseconds of each step (every thread of this process, so
 * DuckDB's work counts too) and the page's bytes.
 * Run it only while no server has DIR's warehouse open (DuckDB takes the file for one process).
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { listUseCases } from '../../src/governance/use-cases.ts';
import {
  parseScope,
  populationHealthUseCases,
  readPopulationHealth,
  readPopulationHealthPage,
} from '../../src/kid/population-health.ts';
import { populationHealthView } from '../../src/kid/population-health-view.ts';
import { findUserByEmail } from '../../src/server/auth/user-accounts.ts';
import { createViewEngine } from '../../src/server/view-engine.ts';
import { openStore } from '../../src/store/open-store.ts';
import { benchArgs } from '../bench-args.ts';

const values = benchArgs('bench/kid-dashboard/render.ts', {
  options: {
    reuse: { type: 'string' },
    renders: { type: 'string', default: '200' },
    practice: { type: 'string' },
  },
});
if (!values.reuse)
  throw new Error('render.ts needs --reuse DIR, a warehouse prepared by bench/kid-dashboard/run.ts');
const dataDir = path.join(path.resolve(values.reuse), 'data');
if (!existsSync(path.join(dataDir, 'kernel.duckdb')))
  throw new Error(`--reuse ${values.reuse}: no warehouse there; prepare one with run.ts --dir`);
const renders = Number(values.renders);
const loadAverage = (): string =>
  os
    .loadavg()
    .map((n) => n.toFixed(2))
    .join(' ');

/** CPU milliseconds (user and system, every thread: DuckDB's too) of this process that `fn` took. */
function cpuMs(fn: () => void): number {
  const before = process.cpuUsage();
  fn();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

/** The same for an asynchronous step, run alone (nothing else is under way in this process). */
async function cpuMsAsync(fn: () => Promise<unknown>): Promise<number> {
  const before = process.cpuUsage();
  await fn();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

async function main(): Promise<void> {
  console.log(`bench/kid-dashboard/render: ${renders} renders, load average ${loadAverage()}`);
  const store = await openStore({ store: 'duckdb', dataDir });
  try {
    const useCase = (await listUseCases(store, { state: ['active'] })).find(
      (u) => u.title === 'Population health dashboard bench',
    );
    const user = await findUserByEmail(store, 'analyst@bench-dashboard.test');
    if (!useCase || !user)
      throw new Error(`--reuse ${values.reuse}: run run.ts there once first (no bench analyst)`);
    const practice =
      values.practice ??
      (
        await store.query<{ code: string }>(
          `SELECT practice_code AS code FROM kid_person_model GROUP BY practice_code ORDER BY count(*) DESC LIMIT 1`,
        )
      )[0]?.code;
    const principal = { userId: user.id, role: user.role, org: user.org ?? null, email: user.email };
    const access = {
      user: { id: user.id, role: user.role, org: user.org ?? null },
      useCaseId: useCase.id,
      actor: 'bench:kid-dashboard-render',
    };
    const { answer: result, areas } = await readPopulationHealthPage(store, access, {
      scope: parseScope(`practice:${practice}`),
    });
    const useCases = await populationHealthUseCases(store, access.user);
    const label = `Practice ${practice}`;
    const views = createViewEngine();
    const vars = () => ({
      fieldErrors: {},
      title: 'Population health',
      useCases,
      filter: { scope: result.scope.text, lsoa: '', useCase: useCase.id, date: result.day },
      result,
      scopeLabel: label,
      view: populationHealthView(result, label),
      areas,
      principal,
      csrfToken: 'x'.repeat(43),
      cspNonce: 'n'.repeat(22),
      nav: [{ href: '/kid/population-health', text: 'Population health', current: true, active: false }],
      currentPath: '/kid/population-health',
    });
    // Once to compile the templates, as the server does on first use.
    const html = views.render('kid/population-health.njk', vars());
    const steps = {
      read: [] as number[],
      useCases: [] as number[],
      page: [] as number[],
      view: [] as number[],
      template: [] as number[],
      json: [] as number[],
    };
    const scope = parseScope(`practice:${practice}`);
    for (let i = 0; i < renders; i++) {
      // The API's read, the page's (the same answer and its picker's areas), and the picker's use cases.
      steps.read.push(await cpuMsAsync(() => readPopulationHealth(store, access, { scope })));
      steps.page.push(await cpuMsAsync(() => readPopulationHealthPage(store, access, { scope })));
      steps.useCases.push(await cpuMsAsync(() => populationHealthUseCases(store, access.user)));
      steps.view.push(cpuMs(() => populationHealthView(result, label)));
      const v = vars();
      steps.template.push(cpuMs(() => views.render('kid/population-health.njk', v)));
      steps.json.push(cpuMs(() => JSON.stringify(result)));
    }
    console.log(
      `practice ${practice}: ${result.people} people; page ${Buffer.byteLength(html).toLocaleString('en-GB')} bytes, ` +
        `${areas.practices.length} practices and ${areas.pcns.length} PCNs in the picker; load average after ${loadAverage()}`,
    );
    console.log(`median CPU ms per step, this process's every thread (${renders} each):`);
    console.log(`  the answer (readPopulationHealth):   ${median(steps.read).toFixed(2)}`);
    console.log(
      `  the page's read (and its areas):     ${median(steps.page).toFixed(2)} (readPopulationHealthPage)`,
    );
    console.log(
      `  the picker's use cases, as the page asks: ${median(steps.useCases).toFixed(2)} (populationHealthUseCases: kept per user, policy version, day and KID version)`,
    );
    console.log(`  view (charts' SVG and table rows):   ${median(steps.view).toFixed(2)}`);
    console.log(`  template (Nunjucks, given the view): ${median(steps.template).toFixed(2)}`);
    console.log(`  the API's JSON of the same answer:   ${median(steps.json).toFixed(2)}`);
  } finally {
    await store.close();
  }
}

await main();
