import { KernelError } from '../errors.ts';
import { conditionSummary, type ConditionSummary } from '../kid/conditions.ts';
import { frailtySummary, type FrailtySummary } from '../kid/frailty.ts';
import { householdMeasures, type HouseholdMeasures } from '../kid/households.ts';
import {
  linkageEstimates,
  linkageReport,
  type LinkageEstimate,
  type LinkageRow,
} from '../kid/linkage-report.ts';
import { heldBackNote } from '../kid/model-date.ts';
import { buildSpine, spineStatus, type SpineBuild } from '../kid/person-spine.ts';
import { COST_SETTING_TITLES, COST_SETTINGS, modelStatus, modelSummary } from '../kid/person-model.ts';
import type { ModelSummary } from '../kid/person-model.ts';
import { refitRisk, riskModel, type RiskBuild, type RiskModel } from '../kid/risk.ts';
import type { Store } from '../store/store.ts';
import { formatTable, printJson, type CliContext, type RegisterCommands } from './cli-context.ts';

/** Says one paragraph or table of a command's answer. */
type Print = (text: string) => void;

/** Says what a build did: its mode, the date its model describes and how it was made, the spine's counts. */
export function printBuild(build: SpineBuild, print: Print): void {
  print(
    build.mode === 'unchanged'
      ? `The Kent Integrated Dataset is up to date (version ${build.version}): no load has landed since it was built. Add --full to rebuild anyway.`
      : `Built the Kent Integrated Dataset version ${build.version} in ${build.seconds.toFixed(1)}s from ${build.pmiRows.toLocaleString('en-GB')} PMI rows` +
          (build.mode === 'incremental'
            ? `, incrementally: ${(build.rebuiltPeople ?? 0).toLocaleString('en-GB')} people whose records changed rebuilt, the rest kept as they were.`
            : ` (full${build.fullBecause ? `: ${build.fullBecause}` : ''}).`),
  );
  if (build.modelDate) {
    print(
      build.modelDate.asOf === null
        ? 'The person-level model has no date yet: no month of GP events has been loaded.'
        : `The person-level model describes ${build.modelDate.asOf}` +
            (build.model?.computed !== undefined
              ? `: computed for the ${build.model.computed.toLocaleString('en-GB')} people whose records changed, kept as it was for the other ${(build.model.copied ?? 0).toLocaleString('en-GB')}.`
              : '.'),
    );
    const held = heldBackNote(build.modelDate);
    if (held) print(held);
  }
  print(
    formatTable(
      ['measure', 'count'],
      [
        ['people on the spine', build.people],
        ['registered with a Kent and Medway practice', build.gpRegistered],
        ['GP registration periods', build.registrations],
        ['residence periods', build.residences],
      ],
    ),
  );
  print(
    formatTable(
      ['field where sources disagree', 'people'],
      Object.entries(build.disagreements).map(([field, people]) => [field, people]),
    ),
  );
}

/** The estimates of the latest link runs, one row per dataset and organisation. */
export function printEstimates(estimates: readonly LinkageEstimate[], print: Print): void {
  if (estimates.length === 0) {
    print(
      'No kernel link run yet: links are made after each load of a dataset linked by encodings, or by kernel link.',
    );
    return;
  }
  const f = (x: number | null) => (x === null ? 'n/a' : x.toFixed(4));
  print(
    formatTable(
      [
        'dataset',
        'provider',
        'records',
        'linked',
        'model precision',
        'model recall',
        'pairs reviewed',
        'clerical precision',
        'clerical recall',
      ],
      estimates.map((e) => [
        e.dataset,
        e.org,
        e.records,
        e.linked,
        f(e.model.precision),
        f(e.model.recall),
        e.clerical.reviewedPairs,
        f(e.clerical.precision),
        f(e.clerical.recall),
      ]),
    ),
  );
}

/** The risk model's fit, coefficients and calibration, as `kernel kid risk` prints them. */
export function printRiskModel(model: RiskModel, print: Print): void {
  const f = (x: number | null, digits = 3) => (x === null ? 'n/a' : x.toFixed(digits));
  const n = (x: number) => x.toLocaleString('en-GB');
  print(
    `Risk of an emergency admission in the 12 months after ${model.asOf}, scored for ${n(model.scored)} people. ` +
      `Fitted in version ${model.fittedInVersion} (${model.reason}) at ${model.fittedAt} on ${n(model.fitting.people)} people in the population on ${model.fittedOn}, ` +
      `${n(model.fitting.events)} of whom had one in the year after.`,
  );
  print(
    `AUROC ${f(model.heldOut.auroc)} on the ${n(model.heldOut.people)} people held out (${f(model.fitting.auroc)} on those it was fitted on); ridge ${model.ridge}, ${model.iterations} iterations.`,
  );
  print(
    formatTable(
      ['term', 'coefficient', 'standard error', 'odds ratio', 'people', 'meaning'],
      model.terms.map((t) => [
        t.term,
        f(t.coefficient),
        f(t.standardError),
        f(t.oddsRatio, 2),
        t.people,
        t.description,
      ]),
    ),
  );
  print(
    formatTable(
      ['decile of predicted risk', 'people', 'predicted %', 'observed %'],
      model.calibration.map((d) => [
        d.decile,
        d.people,
        (100 * d.predicted).toFixed(1),
        (100 * d.observed).toFixed(1),
      ]),
    ),
  );
}

/**
 * The action of a `kernel kid` command that reads something and shows it: `--json` prints
 * what was read as it is; otherwise `show` says it for people, a paragraph or table a line.
 */
function readAndShow<Options extends { json?: boolean }, T>(
  context: CliContext,
  read: (store: Store, options: Options) => Promise<T>,
  show: (value: T, print: Print) => void,
): (options: Options) => Promise<void> {
  return async (options) => {
    const value = await context.withStore((store) => read(store, options));
    if (options.json) printJson(context.io, value);
    else show(value, (text) => context.io.out(text));
  };
}

/** How each dataset's rows reach the person spine, as `kernel kid linkage` prints it. */
function printLinkageReport(rows: LinkageRow[], print: Print): void {
  if (rows.length === 0) {
    print('No linkage report yet: run kernel kid build after loading feeds.');
    return;
  }
  print(
    formatTable(
      [
        'dataset',
        'provider',
        'month',
        'rows',
        'with token',
        'on spine',
        'matched',
        'match %',
        'no token',
        'not on spine',
        'not registered',
        'linked by encodings',
      ],
      rows.map((r) => [
        r.dataset,
        r.org,
        r.month,
        r.rows,
        r.withToken,
        r.onSpine,
        r.matched,
        (100 * r.matchRate).toFixed(1),
        r.unmatched.noToken,
        r.unmatched.notOnSpine,
        r.unmatched.notRegistered,
        r.linkedProbabilistically,
      ]),
    ),
  );
}

/** Household measures on a day, as `kernel kid households` prints them. */
function printHouseholds(m: HouseholdMeasures, print: Print): void {
  print(
    `On ${m.day}: ${m.people.toLocaleString('en-GB')} people in the population, ${m.peopleInHouseholds.toLocaleString('en-GB')} of them in ${m.households.toLocaleString('en-GB')} households; ${m.aged75LivingAlone.toLocaleString('en-GB')} people aged 75+ living alone.`,
  );
  print(
    formatTable(
      ['residents', 'households'],
      m.bySize.map((s) => [s.size, s.households]),
    ),
  );
  print(
    `Fire home-safety visits to ${m.day}: ${m.fireVisits.visits}, ${m.fireVisits.linked} linked to ${m.fireVisits.residentsReached} residents; ${m.fireVisits.withResident75Plus} to a household with someone aged 75+.`,
  );
}

/** Long-term conditions on a day, as `kernel kid conditions` prints them. */
function printConditions(summary: ConditionSummary, print: Print): void {
  print(
    `On ${summary.day}: ${summary.people.toLocaleString('en-GB')} people; ${summary.multimorbidity.toLocaleString('en-GB')} with 2+ conditions, ${summary.complexMultimorbidity.toLocaleString('en-GB')} with 4+.`,
  );
  print(
    formatTable(
      ['condition', 'people'],
      summary.prevalence.map((p) => [p.title, p.people]),
    ),
  );
  print(
    formatTable(
      ['conditions', 'people'],
      summary.byCount.map((c) => [c.conditions, c.people]),
    ),
  );
}

/** Frailty of people aged 65+, as `kernel kid frailty` prints it. */
function printFrailty(summary: FrailtySummary, print: Print): void {
  if (summary.day === null) {
    print('No eFI yet: load gp-events feeds, then run kernel kid build.');
    return;
  }
  print(
    `On ${summary.day}: ${summary.people.toLocaleString('en-GB')} people aged 65+ scored by the electronic Frailty Index.`,
  );
  print(
    formatTable(
      ['category', 'people', ...summary.byAgeBand.map((b) => b.band)],
      summary.byCategory.map((c) => [
        c.category,
        c.people,
        ...summary.byAgeBand.map((b) => b.byCategory.find((x) => x.category === c.category)?.people ?? 0),
      ]),
    ),
  );
  print(
    formatTable(
      ['deficit', 'people'],
      summary.deficits.map((d) => [`${d.number}. ${d.title}`, d.people]),
    ),
  );
}

/** The person-level model, as `kernel kid model` prints it. */
function printModel(summary: ModelSummary, print: Print): void {
  if (summary.asOf === null) {
    print('The person-level model is empty: run kernel kid build after loading feeds.');
    return;
  }
  const pounds = (x: number | null): string =>
    x === null ? 'no data' : `\u00a3${Math.round(x).toLocaleString('en-GB')}`;
  print(
    `The 12 months to ${summary.asOf}: ${summary.people.toLocaleString('en-GB')} people (${summary.died.toLocaleString('en-GB')} died in them), costing ${pounds(summary.costTotal)}.`,
  );
  print(
    formatTable(
      ['segment', 'people', 'cost', 'cost per person'],
      summary.bySegment.map((s) => [
        s.title,
        s.people,
        pounds(s.costTotal),
        s.people === 0 ? '' : pounds(s.costTotal / s.people),
      ]),
    ),
  );
  print(
    formatTable(
      ['setting', 'cost'],
      COST_SETTINGS.map((setting) => [COST_SETTING_TITLES[setting], pounds(summary.cost[setting])]),
    ),
  );
}

/** `kernel kid`: the Kent Integrated Dataset (docs/kid.md). */
export const registerKidCommands: RegisterCommands = (program, context) => {
  const kid = program
    .command('kid')
    .description('the Kent Integrated Dataset: person spine and linked model');
  kid
    .command('build')
    .description(
      'build the Kent Integrated Dataset: only the people whose records changed when loads have landed since the last build',
    )
    .option('--full', 'rebuild every person, even when nothing has changed')
    .option('--refit', 'with --full: fit the risk model again (otherwise its stored coefficients are kept)')
    .option('--json', 'print the build summary as JSON')
    .action(async (options: { full?: boolean; refit?: boolean; json?: boolean }) => {
      if (options.refit && !options.full)
        throw new KernelError('usage', 'The risk model is refitted only by a full build', {
          where: { field: '--refit' },
          hint: 'Run kernel kid build --full --refit, or kernel kid risk --refit',
        });
      const build = await context.withStore((store) =>
        buildSpine(store, {
          full: options.full === true,
          refit: options.refit === true,
          actor: context.actor,
        }),
      );
      if (options.json) printJson(context.io, build);
      else printBuild(build, (text) => context.io.out(text));
    });
  kid
    .command('status')
    .description('the current version of the Kent Integrated Dataset and whether it is stale')
    .option('--json', 'print the status as JSON')
    .action(async (options: { json?: boolean }) => {
      const [status, model] = await context.withStore(async (store) => [
        await spineStatus(store),
        await modelStatus(store),
      ]);
      if (options.json) {
        printJson(context.io, { ...status, model });
        return;
      }
      if (status.version === null) {
        context.io.out('The Kent Integrated Dataset has not been built yet: run kernel kid build.');
        return;
      }
      context.io.out(
        `Version ${status.version}, built ${status.builtAt}: ${status.people.toLocaleString('en-GB')} people from ${status.pmiRows.toLocaleString('en-GB')} PMI rows. ${status.stale ? 'Stale: loads have landed or the model\u2019s date has moved since; run kernel kid build.' : 'Up to date.'}`,
      );
      context.io.out(
        model.asOf === null
          ? 'The person-level model is empty: no activity has been loaded.'
          : `Person-level model on ${model.asOf}: ${model.people.toLocaleString('en-GB')} people (kernel kid model).`,
      );
      const held = heldBackNote(status.modelDate);
      if (held) context.io.out(held);
    });
  kid
    .command('linkage')
    .description(
      'how each dataset\u2019s rows reach the person spine, by provider and month, and why the rest do not',
    )
    .option(
      '--estimates',
      'instead, the estimated precision and recall of each dataset\u2019s latest kernel link run',
    )
    .option('--json', 'print the report as JSON')
    .action((options: { json?: boolean; estimates?: boolean }) =>
      options.estimates
        ? readAndShow(context, (store) => linkageEstimates(store), printEstimates)(options)
        : readAndShow(context, (store) => linkageReport(store), printLinkageReport)(options),
    );
  kid
    .command('households')
    .description(
      'household measures on a day: people per household, people aged 75+ living alone, fire visits',
    )
    .requiredOption('--date <YYYY-MM-DD>', 'the day to count on')
    .option('--json', 'print the measures as JSON')
    .action(
      readAndShow(
        context,
        (store, options: { date: string; json?: boolean }) => householdMeasures(store, options.date),
        printHouseholds,
      ),
    );
  kid
    .command('risk')
    .description(
      'the emergency admission risk model: coefficients, AUROC and calibration by decile (--refit fits it again)',
    )
    .option('--refit', 'fit the model again on the current version and score everyone with it')
    .option('--json', 'print the model as JSON')
    .action(async (options: { refit?: boolean; json?: boolean }) => {
      const { refit, model } = await context.withStore(async (store) => {
        const refitted: RiskBuild | null = options.refit ? await refitRisk(store, context.actor) : null;
        return { refit: refitted, model: await riskModel(store) };
      });
      if (!model)
        throw new KernelError(
          'not-found',
          `There is no risk model${refit?.status === 'skipped' ? `: ${refit.reason}` : ' yet'}`,
          { hint: 'kernel kid build fits one once pmi, gp-events and apc have been loaded' },
        );
      if (options.json) {
        printJson(context.io, refit ? { refit, model } : model);
        return;
      }
      if (refit) context.io.out(`Refitted in ${refit.seconds.toFixed(1)}s.`);
      printRiskModel(model, (text) => context.io.out(text));
    });
  kid
    .command('conditions')
    .description('long-term conditions on a day: prevalence, people by number of conditions, multimorbidity')
    .requiredOption('--date <YYYY-MM-DD>', 'the day to count on')
    .option('--json', 'print the summary as JSON')
    .action(
      readAndShow(
        context,
        (store, options: { date: string; json?: boolean }) => conditionSummary(store, options.date),
        printConditions,
      ),
    );
  kid
    .command('frailty')
    .description(
      "frailty of people aged 65+ on the model's date: electronic Frailty Index categories and deficits",
    )
    .option('--json', 'print the summary as JSON')
    .action(readAndShow(context, (store) => frailtySummary(store), printFrailty));
  kid
    .command('model')
    .description(
      'the person-level model: people by Bridges to Health segment, and cost per setting over its 12 months',
    )
    .option('--json', 'print the summary as JSON')
    .action(readAndShow(context, (store) => modelSummary(store), printModel));
};
