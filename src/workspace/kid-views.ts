/**
 * The Kent Integrated Dataset in a workspace: the KID's person-level views, each appearing in
 * a use case's workspace when the use case covers every dataset the view derives from (its
 * field groups' lineage, `KID_LINEAGE` in src/kid/kid-read.ts), and then decided and audited
 * by the KID's own reader, `openKidRead`, exactly as the cohort builder's reads are.
 *
 * Each view holds the current build only, drops the build's `version`, leaves out people on
 * the national data opt-out where the read's purpose needs it (planning, research), and gives
 * token columns (`person_token`, `uprn_token`) as the datasets give them to the same user
 * (access-policy.ts rule 6: warehouse tokens for the record-level roles a workspace serves, a
 * use-case pseudonym otherwise), so `person.person_token` joins `apc.person_token`. A
 * provider gets none: its workspace holds its own organisation's rows only.
 *
 * Generic over the KID: a view is listed here once, by the KID view it reads and the field
 * groups it derives from. A view whose KID view is not in the store yet (frailty, the model,
 * risk: issue 13, landing separately) or whose field group has no lineage yet is left out
 * until both exist; it then appears without a change here. kid-views.test.ts fails when the
 * store has a `kid_…` view this list neither offers nor leaves out with a reason.
 */
import { KernelError } from '../errors.ts';
import { decideAccess, type AccessGrant, type ReadAccess } from '../governance/access-policy.ts';
import { KID_LINEAGE, openKidRead, type KidFieldGroup } from '../kid/kid-read.ts';
import { quoteIdentifier } from '../store/sql.ts';
import type { Queryable } from '../store/store.ts';
import { tableColumns } from '../store/table-columns.ts';
import { useCaseSalt } from '../governance/use-cases.ts';

export interface KidViewColumn {
  name: string;
  /** the value, over the view's FROM (aliases as in `from`) */
  sql: string;
  /** a field group beyond the view's own that this column derives from: left out unless covered */
  field?: string;
  description: string;
}

export interface KidWorkspaceView {
  /** the view's name in the workspace */
  name: string;
  description: string;
  /** the field groups every row derives from: the view appears only when the use case covers their lineage */
  fields: readonly string[] | 'every';
  /** the KID view it reads (current version only); its existence decides whether the view is offered */
  source: string;
  /** the FROM clause, aliasing `source` as `k`; `source AS k` when omitted */
  from?: string;
  /** the KID views `from` reads (PostgreSQL grants them to the view owner) */
  reads?: string[];
  /** its columns; every column of `source` but `version` when omitted */
  columns?: KidViewColumn[];
}

/** The person-level views a workspace offers, by the names analysts write (docs/workspace.md). */
export const KID_WORKSPACE_VIEWS: readonly KidWorkspaceView[] = [
  {
    name: 'person',
    description:
      'One row per person on the spine, with their latest GP registration and, where the use case covers residence, their latest LSOA and IMD decile',
    fields: ['population', 'demographics'],
    source: 'kid_spine_person',
    // The latest registration and residence periods are the ones without an end (the build
    // ends each period the day before the next begins: src/kid/person-spine.ts).
    from: `kid_spine_person AS k
      LEFT JOIN kid_spine_registration AS r ON r.person_token = k.person_token AND r.to_date IS NULL
      LEFT JOIN kid_spine_residence AS h ON h.person_token = k.person_token AND h.to_date IS NULL`,
    reads: ['kid_spine_person', 'kid_spine_registration', 'kid_spine_residence'],
    columns: [
      { name: 'person_token', sql: 'k.person_token', description: 'the person' },
      {
        name: 'sex',
        sql: 'k.sex',
        description: 'Person stated gender code (1 male, 2 female, 9 not stated)',
      },
      { name: 'birth_year_month', sql: 'k.birth_year_month', description: 'YYYY-MM of birth' },
      { name: 'death_date', sql: 'k.death_date', description: 'date of death, if any' },
      { name: 'ethnic_category', sql: 'k.ethnic_category', description: 'NHS ethnic category code' },
      { name: 'first_seen', sql: 'k.first_seen', description: 'the earliest PMI record date' },
      { name: 'gp_registered', sql: 'k.gp_registered', description: 'a GP practice has sent a record' },
      {
        name: 'practice_code',
        sql: 'r.practice_code',
        description: 'the GP practice of the latest registration (ODS code)',
      },
      {
        name: 'registered_from',
        sql: 'r.from_date',
        description: 'when the latest registration began',
      },
      {
        name: 'lsoa_code',
        sql: 'h.lsoa_code',
        field: 'residence',
        description: 'LSOA (2011) of the latest residence',
      },
      {
        name: 'imd_decile',
        sql: 'h.imd_decile',
        field: 'residence',
        description: 'IMD 2019 decile of that LSOA (1 most deprived)',
      },
      {
        name: 'lsoa_vintage',
        sql: 'h.lsoa_vintage',
        field: 'residence',
        description: 'the census LSOAs lsoa_code is one of (2011 or 2021; docs/geography.md)',
      },
      {
        name: 'imd_version',
        sql: 'h.imd_version',
        field: 'residence',
        description: 'the index imd_decile comes from (e.g. IMD2019)',
      },
    ],
  },
  {
    name: 'person_registration',
    description: 'GP registration periods: practice, from and to (empty while current)',
    fields: ['population'],
    source: 'kid_spine_registration',
  },
  {
    name: 'person_residence',
    description:
      'Residence periods: LSOA, IMD decile and household token, from and to, with the LSOA vintage and IMD version they were derived with',
    fields: ['residence'],
    source: 'kid_spine_residence',
  },
  {
    name: 'person_condition',
    description: 'Long-term conditions from GP events: one row per person and condition, first date coded',
    fields: ['conditions'],
    source: 'kid_condition_current',
  },
  // issue 13's model (the contract its helpers share): offered once each lands.
  {
    name: 'person_frailty',
    description: 'Electronic frailty index of people aged 65 and over: deficits, eFI, category',
    fields: ['frailty'],
    source: 'kid_spine_frailty',
  },
  {
    name: 'person_frailty_deficit',
    description: 'The eFI deficits found for each person aged 65 and over: one row per person and deficit',
    fields: ['frailty'],
    source: 'kid_spine_frailty_deficit',
  },
  {
    name: 'person_model',
    description:
      'One row per person in the population on the model date: demographics, conditions, segment, activity and cost',
    // It joins every part of the model, so it needs the whole lineage.
    fields: 'every',
    source: 'kid_person_model',
  },
  {
    name: 'person_risk',
    description: 'Each person’s predicted probability of an emergency admission',
    fields: ['risk'],
    source: 'kid_person_risk',
  },
];

/**
 * KID views a workspace never offers, and why: each is an aggregate or a household table
 * that cannot honour the opt-out person by person.
 */
export const KID_VIEWS_LEFT_OUT: Record<string, string> = {
  kid_linkage_current:
    'counts per dataset, provider and month, published through the linkage report’s disclosure control',
  kid_fire_visit_current:
    'a visit’s resident counts include people on the opt-out, who cannot be taken out per visit',
  kid_population_periods: 'derived from person and person_registration, which the workspace offers',
  kid_area_summary_current:
    'counts per area for the population health dashboard, published through its disclosure control; its everyone variant includes people on the opt-out',
};

/** What decides which build a KID view reads, for the workspace version (workspace-version.ts). */
export const KID_VERSION_INPUT = { table: 'kid_current', row: 'CAST(version AS TEXT)' };

/** A KID view in a plan: the SQL of its rows and what the plan and the engines need to know. */
export interface PlannedKidView {
  name: string;
  description: string;
  sql: string;
  source: string;
  tables: string[];
  columns: string[];
  columnDescriptions: Record<string, string>;
  lineage: string[];
  controllers: string[];
}

export interface UnavailableKidView {
  name: string;
  reason: string;
}

const isToken = (column: string): boolean => /(^|_)token$/i.test(column);

/** The field groups a view derives from, or null when one has no lineage yet (not merged). */
function fieldsOf(fields: KidWorkspaceView['fields']): KidFieldGroup[] | null {
  const known = Object.keys(KID_LINEAGE) as KidFieldGroup[];
  if (fields === 'every') return known;
  return fields.every((f) => f in KID_LINEAGE) ? (fields as KidFieldGroup[]) : null;
}

const lineageOf = (fields: readonly KidFieldGroup[]): string[] =>
  [...new Set(fields.flatMap((f) => KID_LINEAGE[f] as readonly string[]))].sort();

/** Whether the use case covers every dataset of `lineage` for this user: the first refusal, or the grants. */
async function decideLineage(
  q: Queryable,
  access: ReadAccess,
  lineage: readonly string[],
): Promise<{ grants: AccessGrant[] } | { dataset: string; reason: string }> {
  const grants: AccessGrant[] = [];
  for (const dataset of lineage) {
    const decision = await decideAccess(q, access, dataset);
    if (!decision.allowed) return { dataset, reason: decision.reason };
    grants.push(decision);
  }
  return { grants };
}

/** Whether the KID has a current build: before the first, there is nothing to offer. */
async function kidBuilt(q: Queryable): Promise<boolean> {
  const [row] = await q.query<{ n: number }>('SELECT count(*) AS n FROM kid_current');
  return Number(row?.n ?? 0) > 0;
}

/**
 * The KID views of a workspace: for each view whose KID view exists, the use case's coverage
 * of its lineage decides (as `openKidRead` does); each one covered is then opened with
 * `openKidRead`, which audits the read, and answered as SQL.
 */
export async function planKidViews(
  q: Queryable,
  access: ReadAccess,
): Promise<{ views: PlannedKidView[]; unavailable: UnavailableKidView[] }> {
  const views: PlannedKidView[] = [];
  const unavailable: UnavailableKidView[] = [];
  if (!(await kidBuilt(q))) return { views, unavailable };
  if (access.user.role === 'provider') {
    // A provider's workspace holds its own organisation's rows; the KID's views hold everyone
    // on the spine, and nothing in them says whose records a person came from. openKidRead
    // decides by dataset alone, so this narrowing is the workspace's own.
    const reason =
      'The KID’s views hold every person on the spine; a provider’s workspace holds only its own rows';
    for (const spec of KID_WORKSPACE_VIEWS) {
      if ((await tableColumns(q, spec.source)).length > 0) unavailable.push({ name: spec.name, reason });
    }
    return { views, unavailable };
  }
  for (const spec of KID_WORKSPACE_VIEWS) {
    const fields = fieldsOf(spec.fields);
    const present = await tableColumns(q, spec.source);
    if (!fields || present.length === 0) continue;
    const decided = await decideLineage(q, access, lineageOf(fields));
    if ('reason' in decided) {
      unavailable.push({ name: spec.name, reason: `It derives from ${decided.dataset}: ${decided.reason}` });
      continue;
    }
    const columns = (
      spec.columns ??
      present
        .filter((c) => c !== 'version')
        .map((c) => ({ name: c, sql: `k.${quoteIdentifier(c)}`, description: '' }) as KidViewColumn)
    ).filter((c) => c.field === undefined || c.field in KID_LINEAGE);
    const extra = [...new Set(columns.flatMap((c) => (c.field ? [c.field as KidFieldGroup] : [])))];
    const covered = new Set<string>();
    for (const field of extra) {
      const more = await decideLineage(q, access, KID_LINEAGE[field]);
      if ('grants' in more) covered.add(field);
    }
    const chosen = columns.filter((c) => c.field === undefined || covered.has(c.field));
    // Without a person, the opt-out could not be applied row by row: such a view is not offered.
    if (!chosen.some((c) => c.name === 'person_token')) continue;
    const read = await openKidRead(q, access, [...fields, ...covered] as KidFieldGroup[]);
    views.push(await kidViewSql(q, spec, chosen, read, decided.grants));
  }
  return { views, unavailable };
}

async function kidViewSql(
  q: Queryable,
  spec: KidWorkspaceView,
  columns: KidViewColumn[],
  read: Awaited<ReturnType<typeof openKidRead>>,
  grants: AccessGrant[],
): Promise<PlannedKidView> {
  const pseudonymise = read.tier === 'aggregate-only';
  const salt = pseudonymise ? await useCaseSalt(q, read.useCase.id) : '';
  const select = columns
    .map((c) =>
      pseudonymise && isToken(c.name)
        ? `${q.dialect.hmacSha256Hex(salt, `CAST(${c.sql} AS TEXT)`)} AS ${quoteIdentifier(c.name)}`
        : `${c.sql} AS ${quoteIdentifier(c.name)}`,
    )
    .join(', ');
  const personColumn = columns.find((c) => c.name === 'person_token');
  if (!personColumn) {
    throw new KernelError(
      'internal',
      `The KID view ${spec.name} has no person_token to apply the opt-out to`,
    );
  }
  // As in the governed reads: NOT EXISTS, so a person without a token is kept (docs/governance.md).
  const where = read.optOutApplies
    ? ` WHERE NOT EXISTS (SELECT 1 FROM optouts o WHERE o.token = ${personColumn.sql})`
    : '';
  const reads = spec.reads ?? [spec.source];
  return {
    name: spec.name,
    description: spec.description,
    sql: `(SELECT ${select} FROM ${spec.from ?? `${spec.source} AS k`}${where})`,
    source: spec.source,
    tables: [...reads, ...(read.optOutApplies ? ['optouts'] : [])],
    columns: columns.map((c) => c.name),
    columnDescriptions: Object.fromEntries(columns.map((c) => [c.name, c.description])),
    lineage: read.datasets,
    controllers: [...new Set(grants.flatMap((g) => g.controllers))].sort(),
  };
}
