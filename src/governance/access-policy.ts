/**
 * THE access policy: every read of warehouse data (`ds_*` tables) — dashboard, API,
 * export, query — goes through here, under a use case.
 *
 * API:
 * - `openGovernedRead(q, { user, useCaseId }, datasetId)` → `GovernedRead`. Decides,
 *   and on a denial throws `KernelError('forbidden')` (after auditing `data.read-denied`).
 *   On success it audits `data.read` (purpose = the use case id) and logs the read per
 *   controller for transparency, in one transaction (the store's, or the caller's `tx`),
 *   and answers `sql`: a parenthesised subquery to use in place of the table:
 *
 *   ```ts
 *   const read = await openGovernedRead(store, { user, useCaseId: 'UC-004' }, 'msds-delivery');
 *   const rows = await store.query(`SELECT org_code, count(*) AS n FROM ${read.sql} AS d GROUP BY org_code`);
 *   ```
 *
 *   The subquery has no parameters (every value in it is checked and inlined), so it
 *   composes with the caller's own `$1…`. It holds only permitted controllers' rows
 *   (`org_code`), only permitted columns (`read.columns`), and — for planning and
 *   research — no row of anyone on the national data opt-out list.
 * - `decideAccess(q, access, datasetId)` → the decision alone (no audit, no SQL), for pages
 *   that show what a user could read.
 * - `readableUseCases(q, user)` → the active use cases the user belongs to.
 *
 * The rules (one function, `decide`):
 * 1. the role must be one that reads data (`ROLE_TIERS`);
 * 2. the use case must exist, be active, and today must fall within its dates;
 * 3. the user must be one of its users (by id, or by `role:<role>`);
 * 4. the dataset must be one of its datasets;
 * 5. rows: its controllers, that have approved it, with an agreement in force covering the
 *    dataset for its purpose — and for a provider, only its own organisation;
 * 6. columns: record-level roles see every column; aggregate-only roles never see a
 *    warehouse token — each token column is replaced by a use-case pseudonym
 *    (HMAC-SHA256 of the token under the use case's own secret key) so they can still count distinct
 *    people and join datasets within the use case but match nothing outside it — and never
 *    see quasi-identifiers (LSOA, birth year-month and the spec's quasi-identifier fields)
 *    or `source_line`; quasi-identifiers that are record keys (UniqPregID, EC_Ident…) are
 *    pseudonymised like tokens, so an aggregate can still join records;
 * 7. opt-out: applies to planning and research, never to direct care (reference §9): a
 *    row goes if any of its person tokens is on the list. Rows without a token cannot be
 *    checked against the list and are kept (recorded as a decision in docs/governance.md).
 */
import { createHash } from 'node:crypto';
import { appendAudit } from '../audit/audit-log.ts';
import { ACCESS_COLUMNS } from '../audit/view-audit.ts';
import { KernelError } from '../errors.ts';
import { quoteIdentifier, quoteLiteral } from '../store/sql.ts';
import type { Principal } from '../operations/principal.ts';
import type { Dialect } from '../store/dialect.ts';
import type { Queryable, Store } from '../store/store.ts';
import { existingRelations, tableColumns } from '../store/table-columns.ts';
import { controllersWithAgreement } from './agreements.ts';
import { columnRoles, datasetSpec, warehouseTable } from './datasets.ts';
import { inTransaction, isOrgCode, newId, nowIso, type Purpose } from './governance-values.ts';
import { getOrganisation } from './organisations.ts';
import {
  findUseCase,
  getUseCase,
  listUseCases,
  useCaseSalt,
  type UseCase,
  type UseCaseMonths,
} from './use-cases.ts';

/** Who is reading. `role` is a portal role; `org` is a provider's organisation. */
export interface ReadUser {
  id: string;
  role: string;
  org: string | null;
}

export interface ReadAccess {
  user: ReadUser;
  useCaseId: string;
  /** the audit actor; defaults to `user:<id>` */
  actor?: string;
}

/** The reader a principal is to the policy: who, in which role, for which organisation. */
export function readUserOf(principal: Pick<Principal, 'userId' | 'role' | 'org'>): ReadUser {
  return { id: principal.userId, role: principal.role, org: principal.org };
}

/** A principal's read under a use case, audited as `actor` (the entry point's `actorOf`). */
export function readAccessOf(
  principal: Pick<Principal, 'userId' | 'role' | 'org'>,
  useCaseId: string,
  actor: string,
): ReadAccess {
  return { user: readUserOf(principal), useCaseId, actor };
}

export type ColumnTier = 'record-level' | 'aggregate-only';

/**
 * What each role may see of a row. Analysts and providers work with pseudonymised
 * record-level data; everyone else sees aggregates built from de-tokenised rows.
 */
export const ROLE_TIERS: Record<string, ColumnTier> = {
  analyst: 'record-level',
  provider: 'record-level',
  admin: 'aggregate-only',
  'ig-lead': 'aggregate-only',
  viewer: 'aggregate-only',
};

export interface HiddenColumn {
  column: string;
  reason: 'quasi-identifier' | 'source-line';
}

export interface AccessGrant {
  allowed: true;
  /** `months`: only published months, or every month loaded (use-cases.ts) */
  useCase: { id: string; title: string; purpose: Purpose; months: UseCaseMonths };
  datasetId: string;
  table: string;
  tier: ColumnTier;
  /** organisations whose rows the read holds */
  controllers: string[];
  /** the columns the read exposes, in table order */
  columns: string[];
  /** columns whose values are use-case pseudonyms rather than warehouse tokens or record keys */
  pseudonymised: string[];
  hidden: HiddenColumn[];
  optOutApplies: boolean;
  /** the person-token columns the opt-out is checked against */
  optOutColumns: string[];
  /**
   * For a dataset whose records may come without an NHS number (it has linkage encodings):
   * the person-token column that the latest `kernel link` run fills for records it linked,
   * with the match probability beside it in `person_link_probability`. Null otherwise.
   */
  linkedTokenColumn: string | null;
}

/** The column a linked record's match probability is read as (NULL where the token came from an NHS number). */
export const LINK_PROBABILITY_COLUMN = 'person_link_probability';

export interface AccessDenial {
  allowed: false;
  reason: string;
  hint: string;
}

export type AccessDecision = AccessGrant | AccessDenial;

export interface GovernedRead extends AccessGrant {
  /** a parenthesised subquery without parameters: use it where the table would go */
  sql: string;
  /**
   * every table the subquery reads, for an engine that must grant them to a view's owner
   * (the workspace's PostgreSQL schemas)
   */
  tables: string[];
}

/** The tables a grant's SQL reads: its dataset's, and those its conditions and links need. */
function tablesReadBy(grant: AccessGrant): string[] {
  return [
    grant.table,
    ...(grant.useCase.months === 'published' ? ['signoffs'] : []),
    ...(grant.optOutColumns.length > 0 ? ['optouts'] : []),
    ...(grant.linkedTokenColumn ? ['link_runs', 'person_links'] : []),
  ];
}

const deny = (reason: string, hint: string): AccessDenial => ({ allowed: false, reason, hint });

function isMember(useCase: UseCase, user: ReadUser): boolean {
  return useCase.users.includes(user.id) || useCase.users.includes(`role:${user.role}`);
}

/**
 * Which of `datasetIds` anything has been loaded into (their tables exist): schema metadata,
 * no read of their rows. One question, however many datasets.
 */
export async function loadedDatasets(q: Queryable, datasetIds: readonly string[]): Promise<string[]> {
  const tables = await existingRelations(
    q,
    datasetIds.map((d) => warehouseTable(d)),
  );
  return datasetIds.filter((d) => tables.has(warehouseTable(d)));
}

/** The policy decision, with everything the read needs; no side effects. */
export async function decideAccess(
  q: Queryable,
  access: ReadAccess,
  datasetId: string,
  today: string = nowIso().slice(0, 10),
): Promise<AccessDecision> {
  const { user } = access;
  const tier = ROLE_TIERS[user.role];
  if (!tier)
    return deny(
      `The role "${user.role}" may not read warehouse data`,
      'Ask an administrator for an analyst or viewer account',
    );
  const useCase = await findUseCase(q, access.useCaseId);
  if (!useCase)
    return deny(
      `There is no use case ${access.useCaseId}`,
      'Every read happens under a registered use case; see `kernel usecases list`',
    );
  if (useCase.state !== 'active') {
    return deny(
      `Use case ${useCase.id} is ${useCase.state}; data may be read only under an active use case`,
      'Ask the programme team about its approval',
    );
  }
  if (today < useCase.start || today > useCase.end) {
    return deny(
      `Use case ${useCase.id} runs from ${useCase.start} to ${useCase.end}, not today`,
      'Ask the sponsor to extend it through the approval process',
    );
  }
  if (!isMember(useCase, user)) {
    return deny(`You are not a user of use case ${useCase.id}`, 'Ask its sponsor to add you to the use case');
  }
  if (!useCase.datasets.includes(datasetId)) {
    return deny(
      `Use case ${useCase.id} does not cover the dataset ${datasetId}`,
      `It covers ${useCase.datasets.join(', ')}`,
    );
  }
  const approved = new Set(useCase.approvals.map((a) => a.org));
  const agreed = new Set(await controllersWithAgreement(q, datasetId, useCase.purpose));
  let controllers = useCase.controllers.filter((c) => approved.has(c) && agreed.has(c) && isOrgCode(c));
  if (user.role === 'provider') {
    if (!user.org)
      return deny(
        'Your provider account belongs to no organisation',
        'Ask an administrator to set your organisation',
      );
    controllers = controllers.filter((c) => c === user.org);
    if (controllers.length === 0) {
      return deny(
        `Use case ${useCase.id} gives ${user.org} no rows of ${datasetId}`,
        `A provider reads only its own organisation's data, and ${user.org} is not a controller of ${datasetId} under ${useCase.id}`,
      );
    }
  }
  if (controllers.length === 0) {
    return deny(
      `No controller's ${datasetId} data is available under use case ${useCase.id}`,
      'Each controller needs a data sharing agreement in force for this dataset and purpose',
    );
  }

  const spec = datasetSpec(datasetId);
  const table = warehouseTable(datasetId);
  const present = await tableColumns(q, table);
  if (present.length === 0) {
    return deny(`Nothing has been loaded into ${datasetId} yet`, 'Load a feed for it first (`kernel load`)');
  }
  const roles = columnRoles(spec);
  const lower = (names: Set<string>): Set<string> => new Set([...names].map((n) => n.toLowerCase()));
  const personTokens = lower(roles.personTokens);
  const tokens = lower(roles.tokens);
  const quasi = lower(roles.quasiIdentifiers);
  const recordKeys = lower(roles.recordKeys);
  const isToken = (c: string): boolean =>
    tokens.has(c.toLowerCase()) || recordKeys.has(c.toLowerCase()) || /(^|_)token$/i.test(c);
  const optOutApplies = useCase.optOutApplies;
  const optOutColumns = present.filter(
    (c) => personTokens.has(c.toLowerCase()) || /(^|_)person_token$/i.test(c),
  );
  const linkedTokenColumn = spec.linkageEncoding && present.includes('person_token') ? 'person_token' : null;
  const columns: string[] = [];
  const pseudonymised: string[] = [];
  const hidden: HiddenColumn[] = [];
  for (const column of present) {
    if (tier === 'aggregate-only' && quasi.has(column.toLowerCase()))
      hidden.push({ column, reason: 'quasi-identifier' });
    else if (tier === 'aggregate-only' && column.toLowerCase() === 'source_line')
      hidden.push({ column, reason: 'source-line' });
    else {
      columns.push(column);
      if (tier === 'aggregate-only' && isToken(column)) pseudonymised.push(column);
    }
  }
  if (linkedTokenColumn && columns.includes(linkedTokenColumn)) columns.push(LINK_PROBABILITY_COLUMN);
  return {
    allowed: true,
    useCase: { id: useCase.id, title: useCase.title, purpose: useCase.purpose, months: useCase.months },
    datasetId,
    table,
    tier,
    controllers,
    columns,
    pseudonymised,
    hidden,
    optOutApplies,
    optOutColumns: optOutApplies ? optOutColumns : [],
    linkedTokenColumn,
  };
}

/**
 * The rows a grant reads from: the dataset's table, or, for a dataset linked by encodings,
 * the table with the latest `kernel link` run's links beside each row (by load and source
 * line), so a record that came without an NHS number reads as the person it was linked to.
 */
function rowSource(grant: AccessGrant): string {
  const table = quoteIdentifier(grant.table);
  if (!grant.linkedTokenColumn) return `${table} AS t`;
  const latestRun = `(SELECT r.run_id FROM link_runs r WHERE r.dataset = ${quoteLiteral(grant.datasetId)} ORDER BY r.started_at DESC, r.run_id DESC LIMIT 1)`;
  return `(SELECT b.*, pl.person_token AS kernel_linked_token, pl.match_probability AS kernel_link_probability
      FROM ${table} AS b
      LEFT JOIN person_links pl ON pl.run_id = ${latestRun} AND pl.load_id = b.load_id AND pl.source_line = b.source_line) AS t`;
}

/** A column's value as the read gives it: a linked record's token where it came without one. */
function valueOf(grant: AccessGrant, column: string): string {
  if (column === LINK_PROBABILITY_COLUMN) return 't.kernel_link_probability';
  const own = `t.${quoteIdentifier(column)}`;
  return column === grant.linkedTokenColumn ? `COALESCE(${own}, t.kernel_linked_token)` : own;
}

/** The subquery that enforces a grant; every inlined value is checked first. */
function governedSql(grant: AccessGrant, useCaseKey: string, dialect: Dialect): string {
  if (!/^[0-9a-f]{32}$/.test(useCaseKey)) throw new KernelError('internal', 'A use case key is malformed');
  const select = grant.columns
    .map((c) =>
      grant.pseudonymised.includes(c)
        ? `${dialect.hmacSha256Hex(useCaseKey, `CAST(${valueOf(grant, c)} AS TEXT)`)} AS ${quoteIdentifier(c)}`
        : `${valueOf(grant, c)} AS ${quoteIdentifier(c)}`,
    )
    .join(', ');
  const conditions = [`t.org_code IN (${grant.controllers.map((c) => quoteLiteral(c)).join(', ')})`];
  if (grant.useCase.months === 'published') {
    // Only the loads standing for months their sender signed off and the programme published.
    conditions.push(
      `t.load_id IN (SELECT s.load_id FROM signoffs s WHERE s.state = 'published' AND s.dataset_id = ${quoteLiteral(grant.datasetId)})`,
    );
  }
  for (const column of grant.optOutColumns) {
    // NOT EXISTS rather than NOT IN: a NULL token must not make the whole test unknown. A
    // linked record is checked as the person it was linked to.
    conditions.push(`NOT EXISTS (SELECT 1 FROM optouts o WHERE o.token = ${valueOf(grant, column)})`);
  }
  return `(SELECT ${select} FROM ${rowSource(grant)} WHERE ${conditions.join(' AND ')})`;
}

/** The audit actor of a read: the one the caller named, or the user. */
const actorOf = (access: ReadAccess): string => access.actor ?? `user:${access.user.id}`;

/** What an audited refusal records, and tells the user. */
export interface ReadRefusal {
  /** the audit event's action, e.g. `data.read-denied`, `cohort.refused` */
  action: string;
  target: string;
  reason: string;
  hint: string;
  /** audited beside the role and the reason, e.g. the dataset that was refused */
  details?: Record<string, unknown>;
  /** what the user reads, where it says more than the audited reason */
  message?: string;
}

/**
 * Refuses a read: audits the refusal in a transaction of its own (denials are audited too,
 * so an IG lead sees attempts, not only reads), then throws `KernelError('forbidden')`.
 */
export async function refuseRead(q: Queryable, access: ReadAccess, refusal: ReadRefusal): Promise<never> {
  await inTransaction(q, (tx) =>
    appendAudit(tx, {
      actor: actorOf(access),
      action: refusal.action,
      target: refusal.target,
      purpose: access.useCaseId,
      details: { role: access.user.role, ...refusal.details, reason: refusal.reason },
    }),
  );
  throw new KernelError('forbidden', refusal.message ?? refusal.reason, { hint: refusal.hint });
}

/**
 * Decides, audits and answers the governed subquery for one dataset; throws
 * `KernelError('forbidden')` on a denial. See the top of this file.
 */
export async function openGovernedRead(
  q: Queryable,
  access: ReadAccess,
  datasetId: string,
): Promise<GovernedRead> {
  const decision = await decideAccess(q, access, datasetId);
  if (!decision.allowed) {
    return refuseRead(q, access, {
      action: 'data.read-denied',
      target: `dataset:${datasetId}`,
      reason: decision.reason,
      hint: decision.hint,
    });
  }
  const sql = governedSql(decision, await useCaseSalt(q, decision.useCase.id), q.dialect);
  await inTransaction(q, async (tx) => {
    const at = nowIso();
    const accessId = newId();
    await appendAudit(tx, {
      actor: actorOf(access),
      action: 'data.read',
      target: `dataset:${datasetId}`,
      purpose: decision.useCase.id,
      details: {
        role: access.user.role,
        purpose: decision.useCase.purpose,
        tier: decision.tier,
        controllers: decision.controllers,
        optOutApplied: decision.optOutApplies,
      },
    });
    await tx.insertRows(
      'data_access_log',
      ACCESS_COLUMNS,
      decision.controllers.map((org) => [
        accessId,
        at,
        access.user.id,
        access.user.role,
        decision.useCase.id,
        datasetId,
        org,
        decision.optOutApplies,
      ]),
    );
  });
  return { ...decision, sql, tables: tablesReadBy(decision) };
}

/** The active use cases `user` belongs to, for pickers in the portal and the CLI. */
export async function readableUseCases(q: Queryable | Store, user: ReadUser): Promise<UseCase[]> {
  if (!ROLE_TIERS[user.role]) return [];
  const today = nowIso().slice(0, 10);
  return (await listUseCases(q, { state: ['active'] })).filter(
    (u) => isMember(u, user) && u.start <= today && today <= u.end,
  );
}

/** The tables the policy decides from: a change to any row or column of them is a new version. */
export const POLICY_INPUTS = [
  'use_cases',
  'use_case_datasets',
  'use_case_controllers',
  'use_case_users',
  'use_case_approvals',
  'agreements',
  'agreement_datasets',
  'agreement_purposes',
] as const;

/**
 * The policy's own version, for caches to key on: a fingerprint of every row and every column
 * of the tables it decides from (`POLICY_INPUTS`), columns read from the catalogue of the
 * store itself, so a column added later (a use case's `months`, say) is in it without anyone
 * remembering to add it. The date matters too (use cases and agreements have periods): a
 * cache keys on the day as well.
 */
export async function policyVersion(q: Queryable): Promise<string> {
  const hash = createHash('sha256');
  for (const table of POLICY_INPUTS) {
    const columns = (
      await q.query<{ column_name: string }>(
        `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY column_name`,
        [table],
      )
    ).map((c) => c.column_name);
    if (columns.length === 0) continue;
    // pseudonym_salt is a secret of the use case: its hash would still be derived from it, so it stays out
    const row = columns
      .filter((c) => c !== 'pseudonym_salt')
      .map((c) => `COALESCE(CAST(${quoteIdentifier(c)} AS TEXT), '~')`)
      .join(` || '|' || `);
    const [result] = await q.query<{ v: string | null }>(
      `SELECT string_agg(r, '\n' ORDER BY r) AS v FROM (SELECT ${row} AS r FROM ${quoteIdentifier(table)}) AS t`,
    );
    hash.update(`${table}:${columns.join(',')}:${result?.v ?? ''}\n`);
  }
  return hash.digest('hex');
}

export interface OptOutImpactRow {
  useCaseId: string;
  title: string;
  purpose: string;
  optOutApplies: boolean;
  datasetId: string;
  org: string;
  /** rows the use case could see without the opt-out */
  records: number;
  /** rows it loses to the opt-out (0 for direct care, where it never applies) */
  lost: number;
}

async function tableExists(q: Queryable, table: string): Promise<boolean> {
  const [row] = await q.query<{ n: number }>(
    'SELECT count(*) AS n FROM information_schema.tables WHERE table_name = $1 AND table_schema = current_schema()',
    [table],
  );
  return Number(row?.n ?? 0) > 0;
}

/**
 * How many records each use case (optionally one, optionally only one controller's)
 * loses to the opt-out, per dataset and controller: the policy saying what its opt-out rule
 * removes, for IG leads. Counts only, audited. It lives with the policy because it counts
 * the rows the policy would give each use case, before and after the opt-out.
 */
export async function optOutImpact(
  q: Queryable,
  options: { useCaseId?: string; controller?: string; actor: string },
): Promise<OptOutImpactRow[]> {
  // A controller not registered would answer an empty table, as if it lost nothing.
  const controller =
    options.controller === undefined ? undefined : (await getOrganisation(q, options.controller)).code;
  const useCases = options.useCaseId
    ? [await getUseCase(q, options.useCaseId)]
    : await listUseCases(q, {
        state: ['approved', 'active'],
        ...(controller ? { controller } : {}),
      });
  const out: OptOutImpactRow[] = [];
  for (const useCase of useCases) {
    for (const datasetId of useCase.datasets) {
      const table = warehouseTable(datasetId);
      if (!(await tableExists(q, table))) continue;
      const agreed = new Set(await controllersWithAgreement(q, datasetId, useCase.purpose));
      const controllers = useCase.controllers.filter(
        (c) => agreed.has(c) && (!controller || c === controller),
      );
      if (controllers.length === 0) continue;
      const personTokens = [...columnRoles(datasetSpec(datasetId)).personTokens];
      const optedOut = personTokens.length
        ? personTokens
            .map((c) => `EXISTS (SELECT 1 FROM optouts o WHERE o.token = t.${quoteIdentifier(c)})`)
            .join(' OR ')
        : 'FALSE';
      const rows = await q.query<{ org_code: string; records: number; lost: number }>(
        `SELECT t.org_code, count(*) AS records, sum(CASE WHEN ${optedOut} THEN 1 ELSE 0 END) AS lost
         FROM ${quoteIdentifier(table)} AS t WHERE t.org_code IN (${controllers.map(quoteLiteral).join(', ')})
         GROUP BY t.org_code ORDER BY t.org_code`,
      );
      for (const org of controllers) {
        const row = rows.find((r) => r.org_code === org);
        const records = Number(row?.records ?? 0);
        out.push({
          useCaseId: useCase.id,
          title: useCase.title,
          purpose: useCase.purpose,
          optOutApplies: useCase.optOutApplies,
          datasetId,
          org,
          records,
          lost: useCase.optOutApplies ? Number(row?.lost ?? 0) : 0,
        });
      }
    }
  }
  // `org` (the controller asked about) and `controllers` (those whose counts were shown) are
  // the details by which each controller's IG lead finds this view in its audit log.
  await inTransaction(q, (tx) =>
    appendAudit(tx, {
      actor: options.actor,
      action: 'optouts.impact-viewed',
      target: options.useCaseId ? `usecase:${useCases[0]?.id ?? options.useCaseId}` : 'optouts',
      details: {
        useCases: useCases.length,
        rows: out.length,
        org: controller ?? null,
        controllers: [...new Set(out.map((r) => r.org))].sort(),
      },
    }),
  );
  return out;
}
