import { getCodeList, getDataset, listDatasets } from '../catalogue/catalogue.ts';
import { datasetDictionarySchema, datasetListSchema } from '../catalogue/catalogue-schemas.ts';
import type { CodeList, DatasetSpec } from '../catalogue/dataset-spec.ts';
import { getDerivedDataset, lineageOf, listDerivedDatasets } from '../catalogue/derived-datasets.ts';
import { KernelError } from '../errors.ts';
import {
  controlCoverage,
  markFeedStates,
  type FeedStates,
  CoverageGridReader,
  type CoverageGrid,
  type CoverageQuery,
} from './coverage-grid.ts';
import { coverageGridSchema } from './coverage-schemas.ts';
import { auditedMetadataPolicy, LOADS_ACCESS, narrowToOwnOrg } from './loads-routes.ts';
import type { RouteDeclaration, RouteRequest, ServerDeps } from './routes.ts';
import { scheduledMonths } from '../signoff/feed-schedules.ts';
import { createViewEngine } from './view-engine.ts';

function datasetTitles(): Record<string, string> {
  return Object.fromEntries(listDatasets().map((d) => [d.id, d.title]));
}

const ROLE_TEXT: Record<string, string> = {
  'direct-identifier': 'Direct identifier: replaced at source, never held',
  'quasi-identifier': 'Quasi-identifier',
  token: 'Pseudonym (keyed token)',
  derived: 'Derived at source',
  content: 'Content',
};

function describeRule(field: DatasetSpec['fields'][number]): string {
  const rule = field.pseudonymise;
  if (!rule) return '';
  switch (rule.method) {
    case 'token':
      return `Becomes ${rule.as}`;
    case 'postcode-geography':
      return `Becomes ${rule.lsoa} and ${rule.imdDecile}`;
    case 'birth-date':
      return `Becomes ${rule.age} and ${rule.yearMonth}`;
    case 'drop':
      return 'Dropped';
  }
}

/** A dataset's data dictionary: its fields, and each code list a field uses. */
const FEED_STATES_MAX_AGE_MS = 1000;

export function dataDictionary(spec: DatasetSpec): {
  spec: DatasetSpec;
  fields: (DatasetSpec['fields'][number] & { roleText: string; ruleText: string })[];
  codeLists: CodeList[];
} {
  const ids = [...new Set(spec.fields.map((f) => f.codeList).filter((id): id is string => id !== undefined))];
  return {
    spec,
    fields: spec.fields.map((f) => ({
      ...f,
      roleText: ROLE_TEXT[f.role] ?? f.role,
      ruleText: describeRule(f),
    })),
    codeLists: ids.map((id) => getCodeList(id)),
  };
}

function datasetSummary(spec: DatasetSpec) {
  return {
    id: spec.id,
    title: spec.title,
    description: spec.description,
    version: spec.version,
    standard: spec.standard,
    subject: spec.subject,
    suppliers: spec.suppliers,
    fields: spec.fields.length,
  };
}

/** The catalogue: every dataset, its data dictionary, and the coverage grid. */
export function catalogueRoutes(deps: ServerDeps): RouteDeclaration[] {
  const coverage = new CoverageGridReader(deps.store);
  // The reader answers the same grid object until the load history changes, so its tables
  // (most of the page) are rendered once per grid; the page around them is per request.
  const views = createViewEngine();
  // A cell links to its load's report only for a role that may open one (LOADS_ACCESS), so
  // the tables are kept per grid once with the links and once without.
  const gridHtml = {
    linked: new WeakMap<CoverageGrid, string>(),
    plain: new WeakMap<CoverageGrid, string>(),
  };
  const tablesFor = (grid: CoverageGrid, r: RouteRequest): string => {
    const linkLoads = (LOADS_ACCESS as readonly string[]).includes(r.principal?.role ?? '');
    const kept = linkLoads ? gridHtml.linked : gridHtml.plain;
    let html = kept.get(grid);
    if (html === undefined) {
      html = views.render('coverage-grid.njk', { grid, titles: datasetTitles(), linkLoads });
      kept.set(grid, html);
    }
    return html;
  };
  // Coverage is metadata, but its counts are of patients' records: a provider sees only its
  // own organisation's rows, counts are disclosure-controlled, and the read is audited.
  // What the schedules and sign-off say, reread at most once a second: under load, every view
  // of the grid would otherwise read the schedules, the load history and the decisions again.
  const statesMemo = new Map<string, { at: number; states: Promise<FeedStates> }>();
  const feedStates = (org: string | undefined): Promise<FeedStates> => {
    const key = org ?? '';
    const memo = statesMemo.get(key);
    if (memo && performance.now() - memo.at < FEED_STATES_MAX_AGE_MS) return memo.states;
    const states = (async (): Promise<FeedStates> => {
      const scheduled = new Map<string, 'late' | 'expected'>();
      for (const m of await scheduledMonths(deps.store, new Date(), org)) {
        if (m.state !== 'received') scheduled.set(`${m.dataset}|${m.org}|${m.period}`, m.state);
      }
      const decided = await deps.store.query<{ load_id: string; state: 'signed-off' | 'published' }>(
        `SELECT load_id, state FROM signoffs WHERE state IN ('signed-off', 'published')${org ? ' AND org_code = $1' : ''}`,
        org ? [org] : [],
      );
      const signOffs = new Map(decided.map((d) => [d.load_id, d.state] as const));
      const stamp = `${[...scheduled].map((e) => e.join('=')).join(',')};${decided
        .map((d) => `${d.load_id}=${d.state}`)
        .sort()
        .join(',')}`;
      return { scheduled, signOffs, stamp };
    })();
    statesMemo.set(key, { at: performance.now(), states });
    states.catch(() => statesMemo.delete(key));
    while (statesMemo.size > 64) statesMemo.delete(statesMemo.keys().next().value as string);
    return states;
  };
  const readCoverage = async (
    r: RouteRequest,
    asked: CoverageQuery = {
      org: r.query('org')?.trim().toUpperCase() || undefined,
      from: r.query('from'),
      to: r.query('to'),
    },
  ): Promise<{ grid: CoverageGrid; note: string | null }> => {
    const query = narrowToOwnOrg(asked, r.principal);
    const grid = await coverage.read(query);
    const { policy, note } = await auditedMetadataPolicy(deps, r, 'coverage', {
      org: query.org,
      from: grid.months[0],
      to: grid.months.at(-1),
    });
    // Scheduled months show as late or expected, not as plain gaps, and signed-off months
    // say so (issue 16).
    const states = await feedStates(query.org);
    return {
      grid: markFeedStates(controlCoverage(grid, policy), states),
      note,
    };
  };
  return [
    {
      method: 'GET',
      path: '/catalogue',
      kind: 'page',
      access: 'signed-in',
      nav: 'Catalogue',
      summary: 'Every dataset in the catalogue',
      handle: (r) =>
        r.render('catalogue.njk', {
          title: 'Catalogue',
          datasets: listDatasets().map(datasetSummary),
          derived: listDerivedDatasets().map((d) => ({ ...d, lineage: lineageOf(d) })),
        }),
    },
    {
      method: 'GET',
      path: '/catalogue/derived/:id',
      kind: 'page',
      access: 'signed-in',
      summary:
        'A dataset Kernel builds: its fields, their meaning and roles, and the datasets each derives from',
      example: { id: 'kid-model' },
      handle: (r) => {
        const dataset = getDerivedDataset(r.param('id'));
        return r.render('derived-dataset.njk', {
          title: dataset.title,
          dataset,
          lineage: lineageOf(dataset),
          titles: datasetTitles(),
        });
      },
    },
    {
      method: 'GET',
      path: '/catalogue/coverage',
      kind: 'page',
      access: 'signed-in',
      summary: 'Coverage grid: organisation × dataset × month, with each load’s state and the gaps',
      handle: async (r) => {
        try {
          const { grid, note } = await readCoverage(r);
          return r.render('coverage.njk', {
            title: 'Coverage',
            gridHtml: tablesFor(grid, r),
            filter: { org: r.query('org') ?? '', from: grid.months[0] ?? '', to: grid.months.at(-1) ?? '' },
            ownOrg: r.principal?.role === 'provider' ? r.principal.org : null,
            disclosureNote: note,
          });
        } catch (error) {
          if (!(error instanceof KernelError) || error.code !== 'usage') throw error;
          const { grid, note } = await readCoverage(r, {});
          return r.render(
            'coverage.njk',
            {
              title: 'Coverage',
              gridHtml: tablesFor(grid, r),
              errors: [{ text: error.message, href: `#${error.where?.field ?? 'from'}` }],
              disclosureNote: note,
              filter: { org: r.query('org') ?? '', from: r.query('from') ?? '', to: r.query('to') ?? '' },
            },
            400,
          );
        }
      },
    },
    {
      method: 'GET',
      path: '/catalogue/:dataset',
      kind: 'page',
      access: 'signed-in',
      summary: 'A dataset’s data dictionary: fields, types, privacy roles and code lists',
      example: { dataset: 'msds-delivery' },
      handle: (r) => {
        const dictionary = dataDictionary(getDataset(r.param('dataset')));
        return r.render('dataset.njk', { title: dictionary.spec.title, ...dictionary });
      },
    },
    {
      method: 'GET',
      path: '/api/v1/datasets',
      kind: 'api',
      access: 'signed-in',
      tag: 'catalogue',
      summary: 'Every dataset in the catalogue',
      response: datasetListSchema,
      handle: (r) => r.json({ datasets: listDatasets().map(datasetSummary) }),
    },
    {
      method: 'GET',
      path: '/api/v1/datasets/:dataset',
      kind: 'api',
      access: 'signed-in',
      tag: 'catalogue',
      summary: 'A dataset’s specification and the code lists its fields use',
      pathParams: [{ name: 'dataset', description: 'dataset id, e.g. msds-delivery' }],
      example: { dataset: 'msds-delivery' },
      response: datasetDictionarySchema,
      handle: (r) => {
        const { spec, codeLists } = dataDictionary(getDataset(r.param('dataset')));
        return r.json({ ...spec, codeLists });
      },
    },
    {
      method: 'GET',
      path: '/api/v1/coverage',
      kind: 'api',
      access: 'signed-in',
      tag: 'catalogue',
      summary: 'Coverage grid: organisation × dataset × month (a provider sees only its own)',
      query: [
        { name: 'org', description: 'one organisation (ODS code)' },
        { name: 'from', description: 'first month YYYY-MM (default 11 months before `to`)' },
        { name: 'to', description: 'last month YYYY-MM (default the latest loaded)' },
      ],
      response: coverageGridSchema,
      handle: async (r) => r.json((await readCoverage(r)).grid),
    },
  ];
}
