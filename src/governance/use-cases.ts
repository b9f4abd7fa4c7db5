/**
 * The use-case register. Every read of warehouse data happens under a use case: a
 * purpose, a legal basis, the datasets and the controllers whose data it uses, and who may
 * use it. Its life: proposed → approved (only once every controller has approved; each
 * approval recorded) → active → closed. Reads are allowed only while it is active.
 */
import { randomBytes } from 'node:crypto';
import { appendAudit } from '../audit/audit-log.ts';
import { KernelError } from '../errors.ts';
import { ROLES } from '../operations/principal.ts';
import type { Queryable, Row } from '../store/store.ts';
import { checkDatasetIds } from './datasets.ts';
import {
  inTransaction,
  nowIso,
  parseDate,
  parseOrgCode,
  parsePurpose,
  placeholders,
  type Purpose,
} from './governance-values.ts';
import { getOrganisation } from './organisations.ts';

export const USE_CASE_STATES = ['proposed', 'approved', 'active', 'closed'] as const;
export type UseCaseState = (typeof USE_CASE_STATES)[number];

export interface Approval {
  org: string;
  by: string;
  at: string;
}

export interface UseCase {
  id: string;
  title: string;
  summary: string;
  sponsor: string;
  purpose: Purpose;
  legalBasis: string;
  datasets: string[];
  controllers: string[];
  /** user ids, or `role:<role>` for everyone with that role */
  users: string[];
  start: string;
  end: string;
  state: UseCaseState;
  approvals: Approval[];
  /** controllers still to approve */
  awaiting: string[];
  /** the national data opt-out applies to planning and research, never to direct care (reference §9) */
  optOutApplies: boolean;
  /**
   * which months its analysts read: only those published after sign-off (the default), or
   * every month loaded (a use case that must see data before sign-off, e.g. checking feeds)
   */
  months: UseCaseMonths;
}

export const USE_CASE_MONTHS = ['published', 'loaded'] as const;
export type UseCaseMonths = (typeof USE_CASE_MONTHS)[number];

function parseMonths(raw: string | undefined): UseCaseMonths {
  const value = (raw ?? 'published').trim();
  if (!(USE_CASE_MONTHS as readonly string[]).includes(value)) {
    throw new KernelError('usage', `"${raw}" is not which months a use case reads`, {
      where: { field: 'months' },
      hint: 'published (months signed off and published; the default) or loaded (every month loaded)',
    });
  }
  return value as UseCaseMonths;
}

export interface NewUseCase {
  title: string;
  summary?: string;
  sponsor: string;
  purpose: Purpose | string;
  legalBasis: string;
  datasets: readonly string[];
  controllers: readonly string[];
  users?: readonly string[];
  start: string;
  end: string;
  /** which months its analysts read; default published */
  months?: UseCaseMonths | string;
}

/** Reference §9: the opt-out covers purposes beyond individual care. */
export function optOutAppliesTo(purpose: Purpose): boolean {
  return purpose !== 'direct-care';
}

interface UseCaseRow extends Row {
  use_case_id: string;
  title: string;
  summary: string;
  sponsor_org: string;
  purpose: string;
  legal_basis: string;
  start_date: string;
  end_date: string;
  state: string;
  months: string | null;
}

function checkMember(member: string): string {
  const value = member.trim();
  if (!/^(role:[a-z-]+|[A-Za-z0-9._:@-]{1,200})$/.test(value)) {
    throw new KernelError('usage', `"${member}" is not a user id or role:<role>`, {
      where: { field: 'users' },
    });
  }
  return value;
}

/**
 * The members written well (`checkMember`), each a role the portal has or the id of an account
 * that exists: a made-up one would take the place of the real ones and lock them out.
 */
async function checkMembers(q: Queryable, members: readonly string[]): Promise<string[]> {
  const users = [...new Set(members.map(checkMember))];
  for (const member of users) {
    if (!member.startsWith('role:')) continue;
    const role = member.slice('role:'.length);
    if (!(ROLES as readonly string[]).includes(role)) {
      throw new KernelError('usage', `"${member}" names no role`, {
        where: { field: 'users' },
        hint: `The roles are ${ROLES.map((r) => `role:${r}`).join(', ')}`,
      });
    }
  }
  await checkUsersExist(
    q,
    users.filter((u) => !u.startsWith('role:')),
    'users',
  );
  return users;
}

/** Refuses, naming `field`, the first of `ids` that is no account's id. */
export async function checkUsersExist(q: Queryable, ids: readonly string[], field: string): Promise<void> {
  if (ids.length === 0) return;
  const found = await q.query<{ id: string }>(
    `SELECT id FROM users WHERE id IN (${ids.map((_, i) => `$${i + 1}`).join(', ')})`,
    [...ids],
  );
  const known = new Set(found.map((r) => r.id));
  const unknown = ids.find((id) => !known.has(id));
  if (unknown !== undefined) {
    throw new KernelError('usage', `There is no user "${unknown}"`, {
      where: { field },
      hint: 'Give the id of an existing account; see `kernel users list`',
    });
  }
}

export async function proposeUseCase(q: Queryable, input: NewUseCase, actor: string): Promise<UseCase> {
  const title = input.title.trim();
  if (!title) throw new KernelError('usage', 'A use case needs a title', { where: { field: 'title' } });
  const legalBasis = input.legalBasis.trim();
  if (!legalBasis) {
    throw new KernelError('usage', 'A use case needs its legal basis', {
      where: { field: 'legal-basis' },
      hint: 'e.g. "UK GDPR Art 6(1)(e) and 9(2)(h); COPI Regulation 3"',
    });
  }
  const purpose = parsePurpose(input.purpose);
  const months = parseMonths(input.months);
  const sponsor = parseOrgCode(input.sponsor, 'sponsor');
  const start = parseDate(input.start, 'start');
  const end = parseDate(input.end, 'end');
  if (end < start)
    throw new KernelError('usage', `The use case would end (${end}) before it starts (${start})`, {
      where: { field: 'end' },
    });
  const datasets = [...new Set(input.datasets.map((d) => d.trim()))];
  const controllers = [...new Set(input.controllers.map((c) => parseOrgCode(c, 'controllers')))];
  const users = await checkMembers(q, input.users ?? []);
  if (datasets.length === 0)
    throw new KernelError('usage', 'A use case needs at least one dataset', { where: { field: 'datasets' } });
  if (controllers.length === 0) {
    throw new KernelError('usage', 'A use case needs the controllers whose data it uses', {
      where: { field: 'controllers' },
    });
  }
  checkDatasetIds(datasets, 'datasets');
  return inTransaction(q, async (tx) => {
    await getOrganisation(tx, sponsor, 'sponsor');
    for (const code of controllers) await getOrganisation(tx, code, 'controllers');
    const [count] = await tx.query<{ n: number }>('SELECT count(*) AS n FROM use_cases');
    const id = `UC-${String(Number(count?.n ?? 0) + 1).padStart(3, '0')}`;
    const at = nowIso();
    await tx.run(
      `INSERT INTO use_cases (use_case_id, title, summary, sponsor_org, purpose, legal_basis, start_date, end_date, state,
         pseudonym_salt, created_at, created_by, updated_at, months)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'proposed', $9, $10, $11, $10, $12)`,
      [
        id,
        title,
        input.summary?.trim() ?? '',
        sponsor,
        purpose,
        legalBasis,
        start,
        end,
        randomBytes(16).toString('hex'),
        at,
        actor,
        months,
      ],
    );
    await tx.insertRows(
      'use_case_datasets',
      ['use_case_id', 'dataset_id'],
      datasets.map((d) => [id, d]),
    );
    await tx.insertRows(
      'use_case_controllers',
      ['use_case_id', 'org_code'],
      controllers.map((c) => [id, c]),
    );
    await insertUsers(tx, id, users);
    await appendAudit(tx, {
      actor,
      action: 'usecase.proposed',
      target: `usecase:${id}`,
      purpose: purpose,
      details: { sponsor, purpose, datasets, controllers, users: users.length, months },
    });
    return getUseCase(tx, id);
  });
}

/**
 * Records `org`'s approval. When every controller has approved, the use case becomes
 * approved in the same transaction.
 */
export async function approveUseCase(
  q: Queryable,
  idRaw: string,
  org: string,
  actor: string,
): Promise<UseCase> {
  const code = parseOrgCode(org);
  return inTransaction(q, async (tx) => {
    const useCase = await getUseCase(tx, idRaw);
    const id = useCase.id;
    if (!useCase.controllers.includes(code)) {
      throw new KernelError('refused', `${code} is not a controller of ${id}, so it cannot approve it`, {
        hint: `Its controllers are ${useCase.controllers.join(', ')}`,
      });
    }
    if (useCase.state !== 'proposed') {
      throw new KernelError(
        'conflict',
        `${id} is ${useCase.state}; only a proposed use case takes approvals`,
      );
    }
    if (useCase.approvals.some((a) => a.org === code)) {
      throw new KernelError('conflict', `${code} has already approved ${id}`);
    }
    const at = nowIso();
    await tx.run(
      'INSERT INTO use_case_approvals (use_case_id, org_code, approved_by, approved_at) VALUES ($1, $2, $3, $4)',
      [id, code, actor, at],
    );
    const awaiting = useCase.awaiting.filter((c) => c !== code);
    await appendAudit(tx, {
      actor,
      action: 'usecase.controller-approved',
      target: `usecase:${id}`,
      purpose: useCase.purpose,
      details: { org: code, awaiting },
    });
    if (awaiting.length === 0) {
      await tx.run("UPDATE use_cases SET state = 'approved', updated_at = $2 WHERE use_case_id = $1", [
        id,
        at,
      ]);
      await appendAudit(tx, {
        actor,
        action: 'usecase.approved',
        target: `usecase:${id}`,
        purpose: useCase.purpose,
        details: { controllers: useCase.controllers },
      });
    }
    return getUseCase(tx, id);
  });
}

const TRANSITIONS: Record<'activate' | 'close', { from: UseCaseState[]; to: UseCaseState }> = {
  activate: { from: ['approved'], to: 'active' },
  close: { from: ['proposed', 'approved', 'active'], to: 'closed' },
};

async function transition(
  q: Queryable,
  idRaw: string,
  move: keyof typeof TRANSITIONS,
  actor: string,
): Promise<UseCase> {
  const { from, to } = TRANSITIONS[move];
  return inTransaction(q, async (tx) => {
    const useCase = await getUseCase(tx, idRaw);
    // The register's id (`uc-006` names UC-006), so the change lands on the row read.
    const id = useCase.id;
    if (!from.includes(useCase.state)) {
      const why = useCase.state === 'proposed' ? ` (still awaiting ${useCase.awaiting.join(', ')})` : '';
      throw new KernelError('conflict', `${id} is ${useCase.state}${why}; it cannot become ${to}`, {
        hint:
          move === 'activate'
            ? 'A use case becomes active only after every controller has approved it'
            : undefined,
      });
    }
    const changed = await tx.run(
      'UPDATE use_cases SET state = $2, updated_at = $3 WHERE use_case_id = $1 AND state = $4',
      [id, to, nowIso(), useCase.state],
    );
    if (changed !== 1) {
      throw new KernelError('conflict', `${id} changed while it was becoming ${to}`, {
        hint: 'Look at it again (`kernel usecases show`) and retry',
      });
    }
    await appendAudit(tx, {
      actor,
      action: `usecase.${to}`,
      target: `usecase:${id}`,
      purpose: useCase.purpose,
      details: { from: useCase.state, to },
    });
    return { ...useCase, state: to };
  });
}

export function activateUseCase(q: Queryable, id: string, actor: string): Promise<UseCase> {
  return transition(q, id, 'activate', actor);
}

export function closeUseCase(q: Queryable, id: string, actor: string): Promise<UseCase> {
  return transition(q, id, 'close', actor);
}

/** Who may use a use case: user ids and `role:<role>` members, already checked. */
async function insertUsers(tx: Queryable, id: string, users: readonly string[]): Promise<void> {
  await tx.insertRows(
    'use_case_users',
    ['use_case_id', 'member'],
    users.map((u) => [id, u]),
  );
}

/** Replaces who may use a use case (user ids or `role:<role>`). */
export async function setUseCaseUsers(
  q: Queryable,
  idRaw: string,
  members: readonly string[],
  actor: string,
): Promise<UseCase> {
  return inTransaction(q, async (tx) => {
    const useCase = await getUseCase(tx, idRaw);
    const id = useCase.id;
    const users = await checkMembers(tx, members);
    if (useCase.state === 'closed') throw new KernelError('conflict', `${id} is closed`);
    await tx.run('DELETE FROM use_case_users WHERE use_case_id = $1', [id]);
    await insertUsers(tx, id, users);
    await appendAudit(tx, {
      actor,
      action: 'usecase.users-set',
      target: `usecase:${id}`,
      purpose: useCase.purpose,
      details: { users: users.length },
    });
    return { ...useCase, users };
  });
}

async function hydrate(q: Queryable, rows: UseCaseRow[]): Promise<UseCase[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.use_case_id);
  const inList = placeholders(ids.length);
  // One round trip for the four child tables: on DuckDB each statement costs milliseconds,
  // and the access policy hydrates a use case on every read it decides.
  const children = await q.query<{
    kind: string;
    use_case_id: string;
    value: string;
    approved_by: string | null;
    approved_at: string | null;
  }>(
    `SELECT 'd' AS kind, use_case_id, dataset_id AS value, NULL AS approved_by, NULL AS approved_at FROM use_case_datasets WHERE use_case_id IN (${inList})
     UNION ALL SELECT 'c', use_case_id, org_code, NULL, NULL FROM use_case_controllers WHERE use_case_id IN (${inList})
     UNION ALL SELECT 'u', use_case_id, member, NULL, NULL FROM use_case_users WHERE use_case_id IN (${inList})
     UNION ALL SELECT 'a', use_case_id, org_code, approved_by, approved_at FROM use_case_approvals WHERE use_case_id IN (${inList})
     ORDER BY kind, approved_at, value`,
    ids,
  );
  const of = (kind: string) => children.filter((c) => c.kind === kind);
  const datasets = of('d').map((c) => ({ use_case_id: c.use_case_id, dataset_id: c.value }));
  const controllers = of('c').map((c) => ({ use_case_id: c.use_case_id, org_code: c.value }));
  const users = of('u').map((c) => ({ use_case_id: c.use_case_id, member: c.value }));
  const approvals = of('a').map((c) => ({
    use_case_id: c.use_case_id,
    org_code: c.value,
    approved_by: c.approved_by ?? '',
    approved_at: c.approved_at ?? '',
  }));
  return rows.map((row) => {
    const id = row.use_case_id;
    const purpose = row.purpose as Purpose;
    const mine = approvals
      .filter((a) => a.use_case_id === id)
      .map((a) => ({ org: a.org_code, by: a.approved_by, at: a.approved_at }));
    const controllerCodes = controllers.filter((c) => c.use_case_id === id).map((c) => c.org_code);
    return {
      id,
      title: row.title,
      summary: row.summary,
      sponsor: row.sponsor_org,
      purpose,
      legalBasis: row.legal_basis,
      datasets: datasets.filter((d) => d.use_case_id === id).map((d) => d.dataset_id),
      controllers: controllerCodes,
      users: users.filter((u) => u.use_case_id === id).map((u) => u.member),
      start: row.start_date,
      end: row.end_date,
      state: row.state as UseCaseState,
      approvals: mine,
      awaiting: controllerCodes.filter((c) => !mine.some((a) => a.org === c)),
      optOutApplies: optOutAppliesTo(purpose),
      months: row.months === 'published' ? 'published' : 'loaded',
    };
  });
}

export async function listUseCases(
  q: Queryable,
  filter: { state?: UseCaseState[]; controller?: string } = {},
): Promise<UseCase[]> {
  const where: string[] = [];
  const params: string[] = [];
  if (filter.state?.length) {
    where.push(`state IN (${placeholders(filter.state.length)})`);
    params.push(...filter.state);
  }
  if (filter.controller) {
    // An unregistered controller would list nothing, as if it were in no use case.
    params.push((await getOrganisation(q, parseOrgCode(filter.controller, 'controller'), 'controller')).code);
    where.push(
      `use_case_id IN (SELECT use_case_id FROM use_case_controllers WHERE org_code = $${params.length})`,
    );
  }
  const rows = await q.query<UseCaseRow>(
    `SELECT * FROM use_cases ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY use_case_id`,
    params,
  );
  return hydrate(q, rows);
}

export async function findUseCase(q: Queryable, id: string): Promise<UseCase | undefined> {
  const [useCase] = await hydrate(
    q,
    await q.query<UseCaseRow>('SELECT * FROM use_cases WHERE use_case_id = $1', [id.trim().toUpperCase()]),
  );
  return useCase;
}

export async function getUseCase(q: Queryable, id: string): Promise<UseCase> {
  const useCase = await findUseCase(q, id);
  if (!useCase)
    throw new KernelError('not-found', `No use case ${id}`, { hint: 'See `kernel usecases list`' });
  return useCase;
}

/** The use case's private pseudonym salt: only the access policy reads it. */
export async function useCaseSalt(q: Queryable, id: string): Promise<string> {
  const [row] = await q.query<{ pseudonym_salt: string }>(
    'SELECT pseudonym_salt FROM use_cases WHERE use_case_id = $1',
    [id],
  );
  if (!row) throw new KernelError('not-found', `No use case ${id}`);
  return row.pseudonym_salt;
}
