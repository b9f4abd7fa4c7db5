/** `kernel feeds`: regular feeds' schedules, and the months that are late (docs/feeds.md). */
import { formatTable, printJson, type RegisterCommands } from './cli-context.ts';

const schedules = () => import('../signoff/feed-schedules.ts');

export const registerFeedsCommands: RegisterCommands = (program, context) => {
  const group = program
    .command('feeds')
    .description('regular feeds: their schedules, and which months are late');

  group
    .command('schedule')
    .description('say when a feed is due: monthly, by the Nth working day of the month after')
    .requiredOption('--org <ods>', 'the sending organisation')
    .requiredOption('--dataset <id>', 'the dataset, e.g. apc')
    .requiredOption('--due-day <n>', 'the working day of the following month by which it is due (1 to 20)')
    .requiredOption('--from <YYYY-MM>', 'the first month the schedule covers')
    .option('--until <YYYY-MM>', 'the last month it covers (default: it runs on)')
    .option('--json', 'print JSON')
    .action(
      async (opts: {
        org: string;
        dataset: string;
        dueDay: string;
        from: string;
        until?: string;
        json?: boolean;
      }) => {
        const { setFeedSchedule } = await schedules();
        const schedule = await context.withStore((store) =>
          setFeedSchedule(
            store,
            {
              org: opts.org,
              dataset: opts.dataset,
              dueWorkingDay: opts.dueDay,
              from: opts.from,
              ...(opts.until ? { until: opts.until } : {}),
            },
            context.actor,
          ),
        );
        if (opts.json) return printJson(context.io, schedule);
        context.io.out(
          `${schedule.org}'s ${schedule.dataset} is due monthly by working day ${schedule.dueWorkingDay} of the month after, from ${schedule.from}${schedule.until ? ` until ${schedule.until}` : ''}.`,
        );
      },
    );

  group
    .command('notify')
    .description(
      'email what is due: reminders for months waiting for sign-off, notices of late feeds (each once; run it from cron)',
    )
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const { config } = context.config();
      const { KernelError } = await import('../errors.ts');
      if (!config.smtpUrl) {
        throw new KernelError('config', 'No mail server is configured, so nothing can be sent', {
          hint: 'Set smtpUrl in kernel.config.json or KERNEL_SMTP_URL, e.g. smtp://mail.example.nhs.uk:25',
        });
      }
      const { sendNotices } = await import('../signoff/notifications.ts');
      const { smtpMailer } = await import('../signoff/smtp-mailer.ts');
      const mailer = smtpMailer(config.smtpUrl, config.mailFrom);
      const result = await context.withStore((store) =>
        sendNotices(store, mailer, { reminderWorkingDays: config.reminderWorkingDays, actor: context.actor }),
      );
      if (opts.json) return printJson(context.io, result);
      context.io.out(
        `${result.sent} email${result.sent === 1 ? '' : 's'} sent` +
          (result.unaddressed ? `; ${result.unaddressed} notice(s) had no BI lead account to go to` : '') +
          '.',
      );
    });

  group
    .command('late', { isDefault: true })
    .description('scheduled months with nothing loaded past their due day')
    .option('--org <ods>', 'one organisation')
    .option('--all', 'every scheduled month (received, late and expected), not only the late')
    .option('--json', 'print JSON')
    .action(async (opts: { org?: string; all?: boolean; json?: boolean }) => {
      const { scheduledMonths } = await schedules();
      const months = (
        await context.withStore((store) => scheduledMonths(store, new Date(), opts.org?.toUpperCase()))
      ).filter((m) => opts.all || m.state === 'late');
      if (opts.json) return printJson(context.io, months);
      if (months.length === 0)
        return context.io.out(opts.all ? 'No feed is scheduled.' : 'No scheduled feed is late.');
      context.io.out(
        formatTable(
          ['org', 'dataset', 'month', 'due', 'state'],
          months.map((m) => [m.org, m.dataset, m.period, m.dueOn, m.state]),
        ),
      );
    });
};
