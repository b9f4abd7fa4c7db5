import { KernelError } from '../errors.ts';
import { checkSourceMapping, readSourceMapping, type MappingReport } from '../privacy/source-mapping.ts';
import { formatTable, printJson, type RegisterCommands } from './cli-context.ts';

/** The mapping report as plain text: what mapped, and what did not, by column, code and line. */
export function formatMappingReport(report: MappingReport): string {
  const lines: string[] = [
    `Source mapping ${report.mapping} for ${report.org}'s ${report.dataset} on ${report.extract}: ${report.rows} rows, ` +
      (report.complete ? 'everything maps.' : 'some of it does not map.'),
  ];
  const list = (label: string, names: string[]): void => {
    if (names.length > 0) lines.push(`${label}: ${names.join(', ')}.`);
  };
  list('Local columns the mapping does not name (left out)', report.unmappedColumns);
  list('Columns the mapping names that the extract lacks', report.missingColumns);
  list('Local columns left out on purpose', report.ignoredColumns);
  const required = report.unsourcedFields.filter((f) => f.required).map((f) => f.field);
  const optional = report.unsourcedFields.filter((f) => !f.required).map((f) => f.field);
  list('Required fields with no source (left empty)', required);
  list('Optional fields with no source (left empty)', optional);
  if (report.unmappedCodes.length > 0) {
    lines.push('', 'Local codes with no mapping (sent on marked "unmapped:", so the load quarantines them):');
    lines.push(
      formatTable(
        ['field', 'local code', 'count', 'first line'],
        report.unmappedCodes.map((c) => [
          c.field,
          c.code ?? '(not shown: an identifying field)',
          c.count,
          c.firstLine,
        ]),
      ),
    );
  }
  if (report.badDates.length > 0) {
    lines.push(
      '',
      'Dates that did not parse: not in the mapping’s format, or no such day (the load quarantines them):',
    );
    lines.push(
      formatTable(
        ['field', 'format', 'count', 'first line'],
        report.badDates.map((d) => [d.field, d.format, d.count, d.firstLine]),
      ),
    );
  }
  return lines.join('\n');
}

/** `kernel mappings check`: tries an organisation's source mapping on an extract, sending nothing. */
export const registerMappingsCommands: RegisterCommands = (program, context) => {
  const mappings = program
    .command('mappings')
    .description("source mappings: a member's local extract layout → the national shape");
  mappings
    .command('check')
    .description('try a source mapping on an extract without sending it; exit 65 when something does not map')
    .requiredOption('--mapping <file>', 'the source mapping (JSON; see docs/feeds.md)')
    .requiredOption('--in <file>', 'the local extract (CSV with a header row)')
    .option('--json', 'print the report as JSON')
    .action(async (options: { mapping: string; in: string; json?: boolean }) => {
      const report = await checkSourceMapping(readSourceMapping(options.mapping), options.in);
      if (options.json) printJson(context.io, report);
      else context.io.out(formatMappingReport(report));
      if (!report.complete) {
        throw new KernelError('invalid-input', `The source mapping does not map all of ${report.extract}`, {
          where: { file: report.mapping },
          hint: 'Add the columns and codes the report lists to the mapping, or fix the extract',
        });
      }
    });
};
