/**
 * Re-identification for direct care (issue 19; docs/reidentification.md), warehouse side.
 *
 * - An analyst (or a provider's analyst) in a **direct-care** use case asks for one
 *   controller, with a reason, the fields the clinician needs, and the cohort as person
 *   tokens. Each token must belong to someone with rows from that controller that the
 *   requester may read under the use case — checked through the governed reader, never a
 *   warehouse table directly. Refused: other purposes, above the use case's size limit,
 *   people on the opt-out list where the use case honours it, tokens not the controller's.
 * - Two approvals, by two people, neither the requester: the controller's IG lead, and a
 *   second approver (an administrator, or a user the use case's settings name). Either
 *   approver may refuse it, with a reason. Each approval asks the access policy again, so
 *   nothing is released once the use case or the controller's agreement has ended.
 * - On the second approval Kernel seals the tokens, and only the tokens, to the
 *   controller's agent encryption key and signs the file (src/privacy/sealed-release.ts).
 *   The controller's IG lead downloads it; their agent re-identifies at source (`kernel reid`).
 *
 * Every step is audited with ids, counts and key ids: never a token, never an identifier.
 */
import { createHash, createPublicKey, randomBytes } from 'node:crypto';
import { appendAudit, type AuditDetails } from '../audit/audit-log.ts';
import { KernelError } from '../errors.ts';
import { refuseKeyOfAnother } from '../ingest/trusted-keys.ts';
import { decideAccess, openGovernedRead, readUserOf, type ReadUser } from '../governance/access-policy.ts';
import { controllerScope } from '../governance/controller-scope.ts';
import {
  inTransaction,
  nowIso,
  parseJsonColumn,
  parseOrgCode,
  placeholders,
  rowsByRequest,
} from '../governance/governance-values.ts';
import { getOrganisation } from '../governance/organisations.ts';
import { checkUsersExist, getUseCase } from '../governance/use-cases.ts';
import type { Principal } from '../operations/principal.ts';
import { parseEncryptionPublicKey } from '../privacy/encryption-key.ts';
import { PERSON_TOKEN, sealRelease } from '../privacy/sealed-release.ts';
import { SqlFilter } from '../store/sql-filter.ts';
import { quoteIdentifier } from '../store/sql.ts';
import type { Queryable, Row } from '../store/store.ts';
import { kernelSigningKey } from './kernel-signing-key.ts';

export const REID_STATES = ['awaiting-approval', 'released', 'refused'] as const;
export type ReidState = (typeof REID_STATES)[number];
export const REID_DECISIONS = ['approve', 'refuse'] as const;
export type ReidDecision = (typeof REID_DECISIONS)[number];
export const APPROVER_CAPACITIES = ['ig-lead', 'second'] as const;
export type ApproverCapacity = (typeof APPROVER_CAPACITIES)[number];

/** The most people one request may name, unless the use case's settings say otherwise. */
export const DEFAULT_SIZE_LIMIT = 500;
/** Roles that read record-level data and so may build a cohort and ask for it. */
export const REQUESTER_ROLES = ['analyst', 'provider'] as const;
const MAX_FIELDS = 30;
const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_ .-]{0,63}$/;
/** An NHS number, written with or without spaces: never in a reason or a comment. */
const NHS_NUMBER_LIKE = /(^|\D)\d{3}[ -]?\d{3}[ -]?\d{4}(\D|$)/;
/** Parameters per IN list: well inside both engines' limits. */
const CHUNK = 500;

export interface ReidSettings {
  useCaseId: string;
  sizeLimit: number;
  /** user ids who may give the second approval, besides administrators */
  approvers: string[];
  /** refuse people on the opt-out list (local policy; the national opt-out never applies to direct care) */
  honourOptOut: boolean;
  setBy: string | null;
  setAt: string | null;
}

export interface ReidApproval {
  approverId: string;
  approverRole: string;
  approverOrg: string | null;
  capacity: ApproverCapacity;
  decision: ReidDecision;
  comment: string;
  at: string;
}

export interface ReidRequest {
  id: string;
  useCaseId: string;
  controller: string;
  requestedBy: string;
  requesterOrg: string | null;
  reason: string;
  fields: string[];
  cohortSize: number;
  state: ReidState;
  createdAt: string;
  decidedAt: string | null;
  recipientKeyId: string | null;
  signerKeyId: string | null;
  sealedSha256: string | null;
  downloadedAt: string | null;
  approvals: ReidApproval[];
}

export interface NewReidRequest {
  useCaseId: string;
  controller: string;
  reason: string;
  fields: readonly string[];
  tokens: readonly string[];
}

// ---------------------------------------------------------------------------------------
// Keys: the controllers' agent encryption keys

export interface TrustedEncryptionKey {
  org: string;
  keyId: string;
  publicKeyPem: string;
  trustedAt: string;
  trustedBy: string;
}

/**
 * Registers a controller's agent encryption key (audited `keys.encryption-trusted`); again is a
 * no-op. Only for a registered organisation, and never a key already trusted for another: a
 * mistyped code would otherwise seal releases to no one, or to the wrong controller.
 */
export async function trustEncryptionKey(
  q: Queryable,
  org: string,
  publicKeyPem: string,
  actor: string,
): Promise<TrustedEncryptionKey> {
  const code = parseOrgCode(org);
  const { keyId, publicKeyPem: pem } = parseEncryptionPublicKey(publicKeyPem);
  return inTransaction(q, async (tx) => {
    await getOrganisation(tx, code);
    await refuseKeyOfAnother(tx, 'reid_encryption_keys', code, keyId, 'kernel keys new-encryption');
    const [same] = await tx.query<{ trusted_at: string; trusted_by: string }>(
      'SELECT trusted_at, trusted_by FROM reid_encryption_keys WHERE org_code = $1 AND key_id = $2',
      [code, keyId],
    );
    if (same)
      return { org: code, keyId, publicKeyPem: pem, trustedAt: same.trusted_at, trustedBy: same.trusted_by };
    const trustedAt = nowIso();
    await tx.query(
      'INSERT INTO reid_encryption_keys (org_code, key_id, public_key_pem, trusted_at, trusted_by) VALUES ($1, $2, $3, $4, $5)',
      [code, keyId, pem, trustedAt, actor],
    );
    await appendAudit(tx, {
      actor,
      action: 'keys.encryption-trusted',
      target: `org:${code}`,
      details: { keyId },
    });
    return { org: code, keyId, publicKeyPem: pem, trustedAt, trustedBy: actor };
  });
}

/** The key a release to `org` is sealed to: the one trusted last. */
export async function currentEncryptionKey(
  q: Queryable,
  org: string,
): Promise<{ keyId: string; publicKeyPem: string } | undefined> {
  const [row] = await q.query<{ key_id: string; public_key_pem: string }>(
    'SELECT key_id, public_key_pem FROM reid_encryption_keys WHERE org_code = $1 ORDER BY trusted_at DESC, key_id LIMIT 1',
    [org],
  );
  return row ? { keyId: row.key_id, publicKeyPem: row.public_key_pem } : undefined;
}

/** Controllers that can receive releases (a key registered) or have had requests: for pickers. */
export async function reidControllers(q: Queryable): Promise<string[]> {
  const rows = await q.query<{ org_code: string }>(
    `SELECT org_code FROM reid_encryption_keys UNION SELECT controller_org AS org_code FROM reid_requests
      ORDER BY org_code`,
  );
  return rows.map((r) => r.org_code);
}

// ---------------------------------------------------------------------------------------
// Settings per use case

export async function reidSettings(q: Queryable, useCaseId: string): Promise<ReidSettings> {
  const [row] = await q.query<{
    size_limit: number;
    approvers_json: string;
    honour_optout: boolean;
    set_by: string;
    set_at: string;
  }>(
    'SELECT size_limit, approvers_json, honour_optout, set_by, set_at FROM reid_settings WHERE use_case_id = $1',
    [useCaseId],
  );
  if (!row) {
    return {
      useCaseId,
      sizeLimit: DEFAULT_SIZE_LIMIT,
      approvers: [],
      honourOptOut: false,
      setBy: null,
      setAt: null,
    };
  }
  return {
    useCaseId,
    sizeLimit: Number(row.size_limit),
    approvers: parseJsonColumn<string[]>(row.approvers_json, 're-identification approvers'),
    honourOptOut: Boolean(row.honour_optout),
    setBy: row.set_by,
    setAt: row.set_at,
  };
}

/** The settings of a registered use case: not found, as setting them is, for an unknown one. */
export async function useCaseReidSettings(q: Queryable, useCaseId: string): Promise<ReidSettings> {
  const useCase = await getUseCase(q, useCaseId);
  return reidSettings(q, useCase.id);
}

/** An administrator sets a use case's size limit, second approvers and opt-out rule (audited). */
export async function setReidSettings(
  q: Queryable,
  principal: Principal,
  input: { useCaseId: string; sizeLimit?: number; approvers?: readonly string[]; honourOptOut?: boolean },
  actor: string,
): Promise<ReidSettings> {
  if (principal.role !== 'admin') {
    throw new KernelError('forbidden', 'Only an administrator sets re-identification rules');
  }
  const useCase = await getUseCase(q, input.useCaseId);
  const current = await reidSettings(q, useCase.id);
  const next: ReidSettings = {
    useCaseId: useCase.id,
    sizeLimit: input.sizeLimit ?? current.sizeLimit,
    approvers: input.approvers
      ? [...new Set(input.approvers.map((a) => a.trim()).filter(Boolean))]
      : current.approvers,
    honourOptOut: input.honourOptOut ?? current.honourOptOut,
    setBy: actor,
    setAt: nowIso(),
  };
  if (!Number.isInteger(next.sizeLimit) || next.sizeLimit < 1 || next.sizeLimit > 100_000) {
    throw new KernelError('usage', 'The size limit must be a whole number from 1 to 100,000', {
      where: { field: 'sizeLimit' },
    });
  }
  for (const approver of next.approvers) {
    if (!/^[A-Za-z0-9._:@-]{1,200}$/.test(approver)) {
      throw new KernelError('usage', `"${approver}" is not a user id`, { where: { field: 'approvers' } });
    }
  }
  if (input.approvers) await checkUsersExist(q, next.approvers, 'approvers');
  await inTransaction(q, async (tx) => {
    await tx.query('DELETE FROM reid_settings WHERE use_case_id = $1', [useCase.id]);
    await tx.query(
      'INSERT INTO reid_settings (use_case_id, size_limit, approvers_json, honour_optout, set_by, set_at) VALUES ($1, $2, $3, $4, $5, $6)',
      [useCase.id, next.sizeLimit, JSON.stringify(next.approvers), next.honourOptOut, actor, next.setAt],
    );
    await appendAudit(tx, {
      actor,
      action: 'reid.settings-set',
      target: `usecase:${useCase.id}`,
      purpose: useCase.id,
      details: {
        sizeLimit: next.sizeLimit,
        approvers: next.approvers.length,
        honourOptOut: next.honourOptOut,
      },
    });
  });
  return next;
}

// ---------------------------------------------------------------------------------------
// Requests

function newRequestId(): string {
  // Consonants only: an id can never spell a word, nor be mistaken for an NHS number.
  const alphabet = 'BCDFGHJKLMNPQRSTVWXZ';
  return `REID-${[...randomBytes(10)].map((b) => alphabet[b % alphabet.length]).join('')}`;
}

/** Audits a refused request, then throws: an IG lead sees attempts, not only requests. */
async function refuse(
  q: Queryable,
  actor: string,
  useCaseId: string,
  error: KernelError,
  details: AuditDetails = {},
): Promise<never> {
  await inTransaction(q, (tx) =>
    appendAudit(tx, {
      actor,
      action: 'reid.request-refused',
      target: `usecase:${useCaseId}`,
      purpose: useCaseId,
      details: { reason: error.message.replace(/\d{6,}/g, '…'), ...details },
    }),
  );
  throw error;
}

/** 1-based positions in the cohort, for a message: never the tokens themselves. */
function positions(list: readonly number[]): string {
  const shown = list.slice(0, 10).map((p) => p + 1);
  return `${shown.join(', ')}${list.length > shown.length ? ` and ${list.length - shown.length} more` : ''}`;
}

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

/** The tokens, among `tokens`, of people with rows from `controller` the user may read under the use case. */
async function readableTokens(
  q: Queryable,
  user: ReadUser,
  useCaseId: string,
  datasets: readonly string[],
  controller: string,
  tokens: readonly string[],
  actor: string,
): Promise<{ known: Set<string>; datasetsRead: string[] }> {
  const known = new Set<string>();
  const datasetsRead: string[] = [];
  for (const dataset of datasets) {
    const decision = await decideAccess(q, { user, useCaseId }, dataset);
    if (!decision.allowed || !decision.controllers.includes(controller)) continue;
    const read = await openGovernedRead(q, { user, useCaseId, actor }, dataset);
    datasetsRead.push(dataset);
    const tokenColumns = read.columns.filter((c) => /(^|_)person_token$/i.test(c));
    for (const column of tokenColumns) {
      const col = `r.${quoteIdentifier(column)}`;
      for (const part of chunks(tokens.filter((t) => !known.has(t)))) {
        if (part.length === 0) continue;
        const rows = await q.query<{ token: string }>(
          `SELECT DISTINCT ${col} AS token FROM ${read.sql} AS r
            WHERE r.org_code = $1 AND ${col} IN (${placeholders(part.length, 1)})`,
          [controller, ...part],
        );
        for (const row of rows) known.add(row.token);
      }
    }
  }
  return { known, datasetsRead };
}

/**
 * Records a request after every check; answers it awaiting its two approvals. Refusals are
 * audited `reid.request-refused` and thrown.
 */
export async function requestReidentification(
  q: Queryable,
  principal: Principal,
  input: NewReidRequest,
  actor: string,
): Promise<ReidRequest> {
  if (!(REQUESTER_ROLES as readonly string[]).includes(principal.role)) {
    throw new KernelError(
      'forbidden',
      'Only an analyst in a direct-care use case may ask for re-identification',
    );
  }
  const useCase = await getUseCase(q, input.useCaseId);
  const no = (
    code: ConstructorParameters<typeof KernelError>[0],
    message: string,
    hint?: string,
    field?: string,
  ) => new KernelError(code, message, { ...(hint ? { hint } : {}), ...(field ? { where: { field } } : {}) });
  const controller = parseOrgCode(input.controller, 'controller');
  // `org`: the controller's IG lead sees the event in its audit log (src/audit/audit-scope.ts).
  const refuseWith = (error: KernelError, details: AuditDetails = {}) =>
    refuse(q, actor, useCase.id, error, { org: controller, ...details });
  if (useCase.purpose !== 'direct-care') {
    await refuseWith(
      no(
        'refused',
        `Re-identification is for direct care only; ${useCase.id} is a ${useCase.purpose} use case`,
        'Planning and research never see who people are: ask under a direct-care use case',
      ),
      { purpose: useCase.purpose },
    );
  }
  if (!useCase.controllers.includes(controller)) {
    await refuseWith(
      no(
        'refused',
        `${controller} is not a controller of ${useCase.id}`,
        `Its controllers: ${useCase.controllers.join(', ')}`,
        'controller',
      ),
    );
  }
  const reason = input.reason.trim();
  if (reason.length < 10)
    throw no('usage', 'Say why the clinician needs these people, in a sentence', undefined, 'reason');
  if (NHS_NUMBER_LIKE.test(reason))
    throw no('usage', 'The reason must not hold an NHS number', undefined, 'reason');
  const fields = [...new Set(input.fields.map((f) => f.trim()).filter(Boolean))];
  if (fields.length === 0)
    throw no('usage', 'Name at least one field the clinician needs', undefined, 'fields');
  if (fields.length > MAX_FIELDS) throw no('usage', `Name at most ${MAX_FIELDS} fields`, undefined, 'fields');
  const badField = fields.find((f) => !FIELD_NAME.test(f));
  if (badField !== undefined) {
    throw no(
      'usage',
      'A field is named by its column in the controller’s extract: letters, digits, _ . - and spaces',
      undefined,
      'fields',
    );
  }
  const given = input.tokens.map((t) => t.trim()).filter(Boolean);
  const malformed = given.flatMap((t, i) => (PERSON_TOKEN.test(t) ? [] : [i]));
  if (malformed.length > 0) {
    throw no(
      'invalid-input',
      `The cohort holds ${malformed.length} value(s) that are not person tokens (at ${positions(malformed)})`,
      'Give the person_token values of a governed query: 64 lower-case hexadecimal characters each',
      'tokens',
    );
  }
  const tokens = [...new Set(given)];
  if (tokens.length === 0) throw no('usage', 'The cohort is empty', undefined, 'tokens');
  const settings = await reidSettings(q, useCase.id);
  if (tokens.length > settings.sizeLimit) {
    await refuseWith(
      no(
        'refused',
        `The cohort names ${tokens.length} people; ${useCase.id} allows at most ${settings.sizeLimit} in one request`,
        'Narrow the cohort, or ask an administrator to review the limit',
        'tokens',
      ),
      { cohortSize: tokens.length, sizeLimit: settings.sizeLimit },
    );
  }
  if (!(await currentEncryptionKey(q, controller))) {
    await refuseWith(
      no(
        'conflict',
        `${controller} has no agent encryption key registered, so nothing could be released to it`,
        `Ask ${controller} for the .pub made by \`kernel keys new-encryption\`, then: kernel keys trust-encryption --org ${controller} FILE.pub`,
      ),
    );
  }
  const user = readUserOf(principal);
  const { known, datasetsRead } = await readableTokens(
    q,
    user,
    useCase.id,
    useCase.datasets,
    controller,
    tokens,
    actor,
  );
  if (datasetsRead.length === 0) {
    await refuseWith(
      no(
        'refused',
        `You may read none of ${controller}’s data under ${useCase.id}`,
        'Ask its sponsor whether you are one of its users',
      ),
    );
  }
  const unknown = tokens.flatMap((t, i) => (known.has(t) ? [] : [i]));
  if (unknown.length > 0) {
    await refuseWith(
      no(
        'refused',
        `${unknown.length} of the cohort have no ${controller} record you may read under ${useCase.id} (at ${positions(unknown)})`,
        `A request names only ${controller}’s own patients: ask for the others from their own controller`,
        'tokens',
      ),
      { cohortSize: tokens.length, notTheControllers: unknown.length },
    );
  }
  if (settings.honourOptOut || useCase.optOutApplies) {
    const opted = new Set<string>();
    for (const part of chunks(tokens)) {
      const rows = await q.query<{ token: string }>(
        `SELECT token FROM optouts WHERE token IN (${placeholders(part.length)})`,
        part,
      );
      for (const row of rows) opted.add(row.token);
    }
    const at = tokens.flatMap((t, i) => (opted.has(t) ? [i] : []));
    if (at.length > 0) {
      await refuseWith(
        no(
          'refused',
          `${at.length} of the cohort are on the opt-out list, which ${useCase.id} honours (at ${positions(at)})`,
          'Remove them from the cohort',
          'tokens',
        ),
        { cohortSize: tokens.length, optedOut: at.length },
      );
    }
  }
  const id = newRequestId();
  const createdAt = nowIso();
  await inTransaction(q, async (tx) => {
    await tx.query(
      `INSERT INTO reid_requests (request_id, use_case_id, controller_org, requested_by, requester_org, reason,
         fields_json, cohort_size, state, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'awaiting-approval', $9)`,
      [
        id,
        useCase.id,
        controller,
        principal.userId,
        principal.org,
        reason,
        JSON.stringify(fields),
        tokens.length,
        createdAt,
      ],
    );
    await tx.insertRows(
      'reid_request_tokens',
      ['request_id', 'position', 'person_token'],
      tokens.map((t, i) => [id, i + 1, t]),
    );
    await appendAudit(tx, {
      actor,
      action: 'reid.requested',
      target: `reid:${id}`,
      purpose: useCase.id,
      details: {
        org: controller,
        cohortSize: tokens.length,
        fields: fields.length,
        datasetsChecked: datasetsRead,
      },
    });
  });
  return getReidRequest(q, id);
}

interface RequestRow extends Row {
  request_id: string;
  use_case_id: string;
  controller_org: string;
  requested_by: string;
  requester_org: string | null;
  reason: string;
  fields_json: string;
  cohort_size: number;
  state: ReidState;
  created_at: string;
  decided_at: string | null;
  recipient_key_id: string | null;
  signer_key_id: string | null;
  sealed_sha256: string | null;
  downloaded_at: string | null;
}

const REQUEST_COLUMNS = `request_id, use_case_id, controller_org, requested_by, requester_org, reason, fields_json,
  cohort_size, state, created_at, decided_at, recipient_key_id, signer_key_id, sealed_sha256, downloaded_at`;

function approvalsOf(q: Queryable, ids: readonly string[]): Promise<Map<string, ReidApproval[]>> {
  return rowsByRequest(
    q,
    ids,
    (
      inList,
    ) => `SELECT request_id, approver_id, approver_role, approver_org, capacity, decision, comment, decided_at
       FROM reid_approvals WHERE request_id IN (${inList}) ORDER BY decided_at, approver_id`,
    (r: {
      request_id: string;
      approver_id: string;
      approver_role: string;
      approver_org: string | null;
      capacity: ApproverCapacity;
      decision: ReidDecision;
      comment: string;
      decided_at: string;
    }) => ({
      approverId: r.approver_id,
      approverRole: r.approver_role,
      approverOrg: r.approver_org,
      capacity: r.capacity,
      decision: r.decision,
      comment: r.comment,
      at: r.decided_at,
    }),
  );
}

function fromRow(row: RequestRow, approvals: ReidApproval[]): ReidRequest {
  return {
    id: row.request_id,
    useCaseId: row.use_case_id,
    controller: row.controller_org,
    requestedBy: row.requested_by,
    requesterOrg: row.requester_org,
    reason: row.reason,
    fields: parseJsonColumn<string[]>(row.fields_json, 'requested fields'),
    cohortSize: Number(row.cohort_size),
    state: row.state,
    createdAt: row.created_at,
    decidedAt: row.decided_at,
    recipientKeyId: row.recipient_key_id,
    signerKeyId: row.signer_key_id,
    sealedSha256: row.sealed_sha256,
    downloadedAt: row.downloaded_at,
    approvals,
  };
}

export async function getReidRequest(q: Queryable, id: string): Promise<ReidRequest> {
  const [row] = await q.query<RequestRow>(
    `SELECT ${REQUEST_COLUMNS} FROM reid_requests WHERE request_id = $1`,
    [id],
  );
  if (!row) {
    throw new KernelError('not-found', `There is no re-identification request ${id}`, {
      hint: 'See the list (kernel reidentification list)',
    });
  }
  return fromRow(row, (await approvalsOf(q, [id])).get(id) ?? []);
}

async function approverUseCases(q: Queryable, userId: string): Promise<Set<string>> {
  const rows = await q.query<{ use_case_id: string; approvers_json: string }>(
    'SELECT use_case_id, approvers_json FROM reid_settings',
  );
  return new Set(
    rows
      .filter((r) => parseJsonColumn<string[]>(r.approvers_json, 'approvers').includes(userId))
      .map((r) => r.use_case_id),
  );
}

/**
 * Who sees a request: its requester; the controller's IG lead; an administrator; a second
 * approver the use case names.
 */
function mayView(principal: Principal, request: ReidRequest, namedFor: Set<string>): boolean {
  if (principal.role === 'admin') return true;
  if (request.requestedBy === principal.userId) return true;
  if (principal.role === 'ig-lead') return principal.org === request.controller;
  return namedFor.has(request.useCaseId);
}

export async function listReidRequests(
  q: Queryable,
  principal: Principal,
  filter: { state?: ReidState; controller?: string } = {},
): Promise<ReidRequest[]> {
  const sql = new SqlFilter();
  const controller = controllerScope(principal, filter.controller);
  if (controller) sql.add('controller_org = ?', controller);
  if (filter.state) sql.add('state = ?', filter.state);
  const rows = await q.query<RequestRow>(
    `SELECT ${REQUEST_COLUMNS} FROM reid_requests ${sql.where()}
      ORDER BY created_at DESC, request_id`,
    sql.params,
  );
  const namedFor = await approverUseCases(q, principal.userId);
  const approvals = await approvalsOf(
    q,
    rows.map((r) => r.request_id),
  );
  return rows
    .map((r) => fromRow(r, approvals.get(r.request_id) ?? []))
    .filter((r) => mayView(principal, r, namedFor));
}

export async function visibleReidRequest(
  q: Queryable,
  principal: Principal,
  id: string,
): Promise<ReidRequest> {
  const request = await getReidRequest(q, id);
  if (!mayView(principal, request, await approverUseCases(q, principal.userId))) {
    throw new KernelError('not-found', `There is no re-identification request ${id}`);
  }
  return request;
}

/** In which capacity `principal` may decide `request`, or why not. */
export async function approverCapacity(
  q: Queryable,
  principal: Principal,
  request: ReidRequest,
): Promise<{ capacity: ApproverCapacity } | { refused: string }> {
  if (request.requestedBy === principal.userId) return { refused: 'You cannot approve a request you made' };
  if (request.state !== 'awaiting-approval') return { refused: `Request ${request.id} is ${request.state}` };
  if (request.approvals.some((a) => a.approverId === principal.userId)) {
    return {
      refused: `You have already decided request ${request.id}; another person must give the other approval`,
    };
  }
  let capacity: ApproverCapacity | undefined;
  if (principal.role === 'ig-lead' && principal.org === request.controller) capacity = 'ig-lead';
  else if (
    principal.role === 'admin' ||
    (await reidSettings(q, request.useCaseId)).approvers.includes(principal.userId)
  )
    capacity = 'second';
  if (!capacity) {
    return {
      refused: `Only ${request.controller}’s IG lead and a second approver (an administrator, or one ${request.useCaseId} names) decide this request`,
    };
  }
  if (request.approvals.some((a) => a.capacity === capacity)) {
    return {
      refused:
        capacity === 'ig-lead'
          ? `${request.controller}’s IG lead has already approved; the other approval is the second approver’s`
          : `The second approver has already approved; the other approval is ${request.controller}’s IG lead’s`,
    };
  }
  return { capacity };
}

/**
 * One approver's decision. The IG lead's and the second approver's approvals together
 * release the tokens, sealed to the controller and signed by Kernel; a refusal ends it. An
 * approval is refused (audited `reid.approval-refused`) once the requester may no longer read
 * the controller's data under the use case; someone who may not see the request is told it
 * does not exist.
 * Decided in one transaction that first locks the request's row, so two approvers acting at
 * the same moment cannot both miss the other's approval (PostgreSQL waits; DuckDB refuses the
 * later writer), and `UNIQUE (request_id, capacity)` keeps one approval per capacity.
 */
export async function decideReidentification(
  q: Queryable,
  principal: Principal,
  id: string,
  decision: ReidDecision,
  comment: string,
  actor: string,
  dataDir: string | undefined,
): Promise<ReidRequest> {
  const note = comment.trim();
  if (NHS_NUMBER_LIKE.test(note)) {
    throw new KernelError('usage', 'A comment must not hold an NHS number', { where: { field: 'comment' } });
  }
  const blocked = await inTransaction(q, async (tx) => {
    await tx.query('UPDATE reid_requests SET state = state WHERE request_id = $1', [id]);
    // Someone who may not see the request learns nothing of it, not even who decides it.
    const request = await visibleReidRequest(tx, principal, id);
    const may = await approverCapacity(tx, principal, request);
    if ('refused' in may) {
      const code =
        request.state !== 'awaiting-approval' || may.refused.includes('already') ? 'conflict' : 'forbidden';
      throw new KernelError(code, may.refused);
    }
    if (decision === 'refuse' && note === '') {
      throw new KernelError('usage', 'Say why you refuse, for the requester', {
        where: { field: 'comment' },
      });
    }
    if (decision === 'approve') {
      const stale = await noLongerReadable(tx, request);
      if (stale) return { request, error: stale };
    }
    const releases = decision === 'approve' && request.approvals.some((a) => a.decision === 'approve');
    const now = nowIso();
    const state: ReidState = decision === 'refuse' ? 'refused' : releases ? 'released' : 'awaiting-approval';
    await tx.query(
      `INSERT INTO reid_approvals (request_id, approver_id, approver_role, approver_org, capacity, decision, comment, decided_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [id, principal.userId, principal.role, principal.org, may.capacity, decision, note, now],
    );
    await appendAudit(tx, {
      actor,
      action: decision === 'approve' ? 'reid.approved' : 'reid.refused',
      target: `reid:${id}`,
      purpose: request.useCaseId,
      details: { capacity: may.capacity, state, org: request.controller },
    });
    if (state === 'refused') {
      await tx.query("UPDATE reid_requests SET state = 'refused', decided_at = $1 WHERE request_id = $2", [
        now,
        id,
      ]);
    }
    if (state === 'released') await release(tx, request, now, actor, dataDir);
    return undefined;
  });
  if (blocked) {
    // Audited outside the decision's transaction, which wrote nothing: the attempt stays on record.
    await inTransaction(q, (tx) =>
      appendAudit(tx, {
        actor,
        action: 'reid.approval-refused',
        target: `reid:${id}`,
        purpose: blocked.request.useCaseId,
        details: { org: blocked.request.controller, reason: blocked.error.message },
      }),
    );
    throw blocked.error;
  }
  return getReidRequest(q, id);
}

/**
 * Why a request may no longer be approved, or undefined: the same access policy every read
 * goes through (docs/governance.md: reads only while the use case is active and today is
 * within its dates, and only of controllers with an agreement in force), asked again for the
 * requester now, not as it answered when they asked. A refusal is still open to the approvers.
 */
async function noLongerReadable(q: Queryable, request: ReidRequest): Promise<KernelError | undefined> {
  const hint = 'Refuse the request, with a reason; the requester may ask again once the data may be read';
  const useCase = await getUseCase(q, request.useCaseId);
  const today = nowIso().slice(0, 10);
  if (useCase.state !== 'active' || today < useCase.start || today > useCase.end) {
    const why =
      useCase.state !== 'active'
        ? `${useCase.id} is ${useCase.state}`
        : `${useCase.id} runs from ${useCase.start} to ${useCase.end}, not today`;
    return new KernelError('refused', `Request ${request.id} can no longer be approved: ${why}`, { hint });
  }
  const [requester] = await q.query<{ role: string; org_code: string | null }>(
    'SELECT role, org_code FROM users WHERE id = $1 AND disabled_at IS NULL',
    [request.requestedBy],
  );
  if (!requester) {
    return new KernelError(
      'refused',
      `Request ${request.id} can no longer be approved: its requester's account is disabled`,
      { hint },
    );
  }
  const user: ReadUser = { id: request.requestedBy, role: requester.role, org: requester.org_code };
  for (const dataset of useCase.datasets) {
    const decision = await decideAccess(q, { user, useCaseId: useCase.id }, dataset, today);
    if (decision.allowed && decision.controllers.includes(request.controller)) return undefined;
  }
  return new KernelError(
    'refused',
    `Request ${request.id} can no longer be approved: the requester may no longer read ${request.controller}’s data under ${useCase.id}`,
    {
      hint: `${request.controller} needs a data sharing agreement in force for the use case's datasets and purpose, and the requester must still be one of its users. ${hint}`,
    },
  );
}

/** Seals the cohort's tokens to the controller's current key, signs it, and records it (audited). */
async function release(
  tx: Queryable,
  request: ReidRequest,
  now: string,
  actor: string,
  dataDir: string | undefined,
): Promise<void> {
  if (!dataDir) {
    throw new KernelError('config', 'Releasing needs the data folder, where Kernel’s signing key is kept');
  }
  const recipient = await currentEncryptionKey(tx, request.controller);
  if (!recipient) {
    throw new KernelError('conflict', `${request.controller} has no agent encryption key registered`, {
      hint: `kernel keys trust-encryption --org ${request.controller} FILE.pub`,
    });
  }
  const tokens = (
    await tx.query<{ person_token: string }>(
      'SELECT person_token FROM reid_request_tokens WHERE request_id = $1 ORDER BY position',
      [request.id],
    )
  ).map((r) => r.person_token);
  const sealed = sealRelease(
    {
      requestId: request.id,
      controller: request.controller,
      useCaseId: request.useCaseId,
      fields: request.fields,
      releasedAt: now,
    },
    tokens,
    createPublicKey(recipient.publicKeyPem),
    kernelSigningKey(dataDir).privateKey,
  );
  const json = `${JSON.stringify(sealed, null, 2)}\n`;
  const sha256 = createHash('sha256').update(json).digest('hex');
  await tx.query(
    `UPDATE reid_requests SET state = 'released', decided_at = $1, sealed_json = $2, sealed_sha256 = $3,
       recipient_key_id = $4, signer_key_id = $5 WHERE request_id = $6`,
    [now, json, sha256, sealed.recipientKeyId, sealed.signerKeyId, request.id],
  );
  await appendAudit(tx, {
    actor,
    action: 'reid.released',
    target: `reid:${request.id}`,
    purpose: request.useCaseId,
    details: {
      org: request.controller,
      tokens: tokens.length,
      recipientKeyId: sealed.recipientKeyId,
      signerKeyId: sealed.signerKeyId,
      sha256,
    },
  });
}

/** The sealed file, for the controller's IG lead (or an administrator to pass on): audited. */
export async function downloadSealedRelease(
  q: Queryable,
  principal: Principal,
  id: string,
  actor: string,
): Promise<{ request: ReidRequest; bytes: Buffer; fileName: string }> {
  const request = await visibleReidRequest(q, principal, id);
  const mayDownload =
    principal.role === 'admin' || (principal.role === 'ig-lead' && principal.org === request.controller);
  if (!mayDownload) {
    throw new KernelError('forbidden', `Only ${request.controller}’s IG lead downloads the sealed file`);
  }
  if (request.state !== 'released') {
    throw new KernelError('conflict', `Request ${id} is ${request.state}, not released`, {
      hint: 'It needs the approval of the controller’s IG lead and of a second approver',
    });
  }
  const [row] = await q.query<{ sealed_json: string | null }>(
    'SELECT sealed_json FROM reid_requests WHERE request_id = $1',
    [id],
  );
  const bytes = Buffer.from(row?.sealed_json ?? '', 'utf8');
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (sha256 !== request.sealedSha256) {
    throw new KernelError('internal', `The sealed file of ${id} is not the one released`);
  }
  const now = nowIso();
  await inTransaction(q, async (tx) => {
    await tx.query('UPDATE reid_requests SET downloaded_at = $1 WHERE request_id = $2', [now, id]);
    await appendAudit(tx, {
      actor,
      action: 'reid.downloaded',
      target: `reid:${id}`,
      purpose: request.useCaseId,
      details: { org: request.controller, sha256 },
    });
  });
  return { request: { ...request, downloadedAt: now }, bytes, fileName: `${id}.reid.json` };
}

// ---------------------------------------------------------------------------------------
// Transparency

/** A controller's requests, for its transparency page: never a token, never an approver's name. */
export async function controllerReidRequests(
  q: Queryable,
  org: string,
): Promise<
  {
    id: string;
    useCaseId: string;
    state: ReidState;
    cohortSize: number;
    fields: string[];
    reason: string;
    requestedAt: string;
    decidedAt: string | null;
    downloadedAt: string | null;
    approvals: { capacity: ApproverCapacity; decision: ReidDecision; at: string }[];
  }[]
> {
  const code = parseOrgCode(org);
  const rows = await q.query<RequestRow>(
    `SELECT ${REQUEST_COLUMNS} FROM reid_requests WHERE controller_org = $1 ORDER BY created_at DESC, request_id`,
    [code],
  );
  const approvals = await approvalsOf(
    q,
    rows.map((r) => r.request_id),
  );
  return rows.map((row) => {
    const r = fromRow(row, approvals.get(row.request_id) ?? []);
    return {
      id: r.id,
      useCaseId: r.useCaseId,
      state: r.state,
      cohortSize: r.cohortSize,
      fields: r.fields,
      reason: r.reason,
      requestedAt: r.createdAt,
      decidedAt: r.decidedAt,
      downloadedAt: r.downloadedAt,
      approvals: r.approvals.map((a) => ({ capacity: a.capacity, decision: a.decision, at: a.at })),
    };
  });
}

/** Requests per calendar month (UTC), for the public site: counts of requests only, never of people. */
export async function reidMonthlyCounts(
  q: Queryable,
): Promise<{ month: string; requested: number; released: number; refused: number }[]> {
  const rows = await q.query<{ created_at: string; decided_at: string | null; state: ReidState }>(
    'SELECT created_at, decided_at, state FROM reid_requests',
  );
  const months = new Map<string, { requested: number; released: number; refused: number }>();
  const at = (month: string) => {
    let m = months.get(month);
    if (!m) months.set(month, (m = { requested: 0, released: 0, refused: 0 }));
    return m;
  };
  for (const r of rows) {
    at(r.created_at.slice(0, 7)).requested++;
    if (r.state === 'released' && r.decided_at) at(r.decided_at.slice(0, 7)).released++;
    if (r.state === 'refused' && r.decided_at) at(r.decided_at.slice(0, 7)).refused++;
  }
  return [...months.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([month, m]) => ({ month, ...m }));
}
