/** `kernel charts`: the dashboards' SPC charts, their rebases and targets (docs/maternity-dashboard.md). */
import { formatTable, printJson, type RegisterCommands } from './cli-context.ts';

const settings = () => import('../analytics/chart-settings.ts');
const maternity = async () => {
  const [{ MATERNITY_MEASURES }, { CHART_PREFIX, isMaternityChart, maternityTargetRange }] =
    await Promise.all([
      import('../analytics/maternity-measures.ts'),
      import('../analytics/maternity-dashboard.ts'),
    ]);
  return { MATERNITY_MEASURES, CHART_PREFIX, isMaternityChart, maternityTargetRange };
};

export const registerChartsCommands: RegisterCommands = (program, context) => {
  const group = program
    .command('charts')
    .description("the dashboards' SPC charts: their rebases and targets");

  group
    .command('list', { isDefault: true })
    .description('every chart, with the rebases and targets recorded for it')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const { MATERNITY_MEASURES, CHART_PREFIX } = await maternity();
      const { readChartSettings } = await settings();
      const recorded = await context.withStore((store) => readChartSettings(store, CHART_PREFIX));
      const charts = MATERNITY_MEASURES.map((m) => ({
        chart: `${CHART_PREFIX}${m.id}`,
        title: m.title,
        kind: m.chart,
      }));
      if (opts.json) return printJson(context.io, { charts, ...recorded });
      const noted = (chart: string): string =>
        [
          ...recorded.targets.filter((t) => t.chart === chart).map((t) => `target ${t.target} (${t.scope})`),
          ...recorded.rebases.filter((r) => r.chart === chart).map((r) => `rebased ${r.period} (${r.scope})`),
        ].join('; ');
      context.io.out(
        formatTable(
          ['chart', 'kind', 'title', 'recorded'],
          charts.map((c) => [c.chart, c.kind, c.title, noted(c.chart)]),
        ),
      );
    });

  group
    .command('rebase')
    .description("record that a chart's process changed in a month: its limits start afresh there (audited)")
    .requiredOption('--chart <name>', 'the chart, e.g. maternity/robson-1')
    .requiredOption('--from <YYYY-MM>', 'the first month of the new period')
    .option('--reason <text>', 'what changed, e.g. "New induction pathway" (not needed with --remove)')
    .option('--scope <ods|all>', "one provider's series, or all of them (default all)")
    .option('--remove', 'take the rebase back instead')
    .option('--json', 'print JSON')
    .action(
      async (opts: {
        chart: string;
        from: string;
        reason: string;
        scope?: string;
        remove?: boolean;
        json?: boolean;
      }) => {
        const { isMaternityChart } = await maternity();
        const { recordRebase, removeRebase } = await settings();
        const scope = opts.scope ? { scope: opts.scope } : {};
        if (opts.remove) {
          await context.withStore((store) =>
            removeRebase(
              store,
              { chart: opts.chart, period: opts.from, ...scope },
              context.actor,
              isMaternityChart,
            ),
          );
          return opts.json
            ? printJson(context.io, { removed: true })
            : context.io.out(`Rebase of ${opts.chart} at ${opts.from} removed.`);
        }
        const rebase = await context.withStore((store) =>
          recordRebase(
            store,
            { chart: opts.chart, period: opts.from, reason: opts.reason ?? '', ...scope },
            context.actor,
            isMaternityChart,
          ),
        );
        if (opts.json) return printJson(context.io, rebase);
        context.io.out(
          `${rebase.chart} (${rebase.scope}) is rebased from ${rebase.period}: ${rebase.reason}.`,
        );
      },
    );

  group
    .command('target')
    .description("set a chart's target, in the measure's own unit (audited)")
    .requiredOption('--chart <name>', 'the chart, e.g. maternity/booking-by-10-weeks')
    .option('--value <number>', 'the target, e.g. 75 for 75%')
    .option('--clear', 'remove the target instead')
    .requiredOption('--reason <text>', 'where the target comes from')
    .option('--scope <ods|all>', "one provider's series, or all of them (default all)")
    .option('--json', 'print JSON')
    .action(
      async (opts: {
        chart: string;
        value?: string;
        clear?: boolean;
        reason: string;
        scope?: string;
        json?: boolean;
      }) => {
        const { isMaternityChart, maternityTargetRange } = await maternity();
        const { setTarget } = await settings();
        const { KernelError } = await import('../errors.ts');
        if (!opts.clear && opts.value === undefined) {
          throw new KernelError('usage', 'Give the target with --value, or --clear to remove it', {
            where: { field: 'value' },
          });
        }
        const target = await context.withStore((store) =>
          setTarget(
            store,
            {
              chart: opts.chart,
              target: opts.clear ? null : (opts.value ?? null),
              reason: opts.reason,
              ...(opts.scope ? { scope: opts.scope } : {}),
            },
            context.actor,
            isMaternityChart,
            maternityTargetRange,
          ),
        );
        if (opts.json) return printJson(context.io, { target });
        context.io.out(
          target === null
            ? `${opts.chart} has no target now.`
            : `${target.chart} (${target.scope}) is held to ${target.target}: ${target.reason}.`,
        );
      },
    );
};
