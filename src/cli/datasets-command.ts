import { listDatasets } from '../catalogue/catalogue.ts';
import { dataDictionary, type DataDictionary } from '../catalogue/data-dictionary.ts';
import { acceptedColumns, tableName } from '../catalogue/shapes.ts';
import { formatTable, printJson, printTable, type RegisterCommands } from './cli-context.ts';

/** `kernel datasets` lists the catalogue; `kernel datasets show ID` prints a data dictionary page. */
export const registerDatasetCommands: RegisterCommands = (program, context) => {
  const datasets = program
    .command('datasets')
    .description('list the datasets in the catalogue (see docs/catalogue.md)')
    .option('--json', 'print every specification as JSON')
    .action((options: { json?: boolean }) => {
      const specs = listDatasets();
      printTable(
        context.io,
        options.json,
        ['id', 'title', 'subject', 'fields', 'accepted columns', 'table', 'standard'],
        specs,
        (spec) => [
          spec.id,
          spec.title,
          spec.subject,
          spec.fields.length,
          acceptedColumns(spec).length,
          tableName(spec),
          spec.standard,
        ],
      );
    });

  datasets
    .command('show')
    .description(
      "print a dataset's data dictionary: fields, roles, the inbound → accepted mapping, code lists",
    )
    .argument('<id>', 'dataset id, e.g. apc or msds-baby')
    .option('--json', 'print as JSON')
    .action((id: string, options: { json?: boolean }) => {
      const page = dataDictionary(id);
      // Commander gives `--json` after `show` to the parent `datasets`, which declares it too.
      if (options.json || datasets.opts<{ json?: boolean }>().json) printJson(context.io, page);
      else context.io.out(renderDataDictionary(page));
    });
};

/** The data dictionary page as plain text for a terminal. */
export function renderDataDictionary(page: DataDictionary): string {
  const { dataset } = page;
  const lines: string[] = [
    `${dataset.title} (${dataset.id})`,
    '',
    dataset.description,
    '',
    `Standard:   ${dataset.standard}`,
    `Version:    ${dataset.version}`,
    `Subject:    ${dataset.subject}`,
    `Suppliers:  ${dataset.suppliers.join(', ')}`,
    `Period:     ${dataset.periodField} (a row's reporting period is this date's month)`,
    `Table:      ${page.table}`,
    '',
    'Fields (inbound extract, in order)',
    formatTable(
      ['name', 'title', 'type', 'format', 'required', 'role', 'code list'],
      dataset.fields.map((f) => [
        f.name,
        f.title,
        f.type,
        f.format,
        f.required ? 'yes' : 'no',
        f.role,
        f.codeList,
      ]),
    ),
    '',
    'Inbound → accepted (what the de-identification agent does)',
    formatTable(
      ['inbound field', 'action', 'accepted columns'],
      page.mapping.map((m) => [
        m.from,
        m.action,
        m.to.length === 0 ? '(dropped)' : m.to.map((t) => t.name).join(', '),
      ]),
    ),
    '',
    `Accepted file columns: ${page.acceptedColumns.join(', ')}`,
  ];
  if (dataset.dateOrder.length > 0) {
    lines.push('', 'Date order (a row whose end is before its start fails date-order)');
    for (const rule of dataset.dateOrder) lines.push(`  ${rule.start} ≤ ${rule.end}`);
  }
  for (const list of page.codeLists) {
    lines.push('', `Code list ${list.id}: ${list.title}`, `  Source: ${list.source}`);
    if (list.subset) {
      lines.push(
        `  A subset: any other code of the scheme matching ${list.pattern ?? '(no pattern)'} is accepted too`,
      );
    }
    lines.push(
      formatTable(
        ['code', 'meaning'],
        list.codes.map((c) => [c.code, c.meaning]),
      )
        .split('\n')
        .map((line) => `  ${line}`)
        .join('\n'),
    );
  }
  return lines.join('\n');
}
