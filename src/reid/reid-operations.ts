/**
 * Re-identification as operations (src/operations/operation.ts): the API
 * (`/api/v1/reidentification…`), the CLI (`kernel reidentification …`) and the portal's
 * pages run these, so they apply the same rules. Who may do what depends on the principal
 * and the request (the controller's IG lead, a named second approver), so `access` admits
 * the roles that could and `run` decides (src/reid/reid-requests.ts).
 */
import { z } from 'zod';
import { formatTable } from '../console/console.ts';
import { listedAsTable } from '../operations/list-table.ts';
import { KernelError } from '../errors.ts';
import { controllerScope } from '../governance/controller-scope.ts';
import { orgCode, requiredText, textList, useCaseId } from '../operations/fields.ts';
import { givenFields, operationsOf, type AnyOperation } from '../operations/operation.ts';
import { kernelSigningPublicKey } from './kernel-signing-key.ts';
import {
  APPROVER_CAPACITIES,
  controllerReidRequests,
  decideReidentification,
  REID_DECISIONS,
  REID_STATES,
  reidMonthlyCounts,
  useCaseReidSettings,
  REQUESTER_ROLES,
  requestReidentification,
  setReidSettings,
  trustEncryptionKey,
  listReidRequests,
  visibleReidRequest,
  type ReidRequest,
} from './reid-requests.ts';

/** Re-identification operations are for anyone signed in, unless one says otherwise; the domain narrows. */
const reidOperation = operationsOf({ tag: 'reidentification', access: 'signed-in' });

export const reidRequestSchema: z.ZodType<ReidRequest> = z.object({
  id: z.string().describe('e.g. REID-BCDFGHJKLM'),
  useCaseId: z.string(),
  controller: z.string().describe('the organisation the tokens are released to'),
  requestedBy: z.string().describe('the requester’s user id'),
  requesterOrg: z.string().nullable(),
  reason: z.string(),
  fields: z
    .array(z.string())
    .describe('the fields the clinician needs, as named in the controller’s extract'),
  cohortSize: z.number().int(),
  state: z.enum(REID_STATES),
  createdAt: z.string(),
  decidedAt: z.string().nullable(),
  recipientKeyId: z.string().nullable().describe('the controller’s encryption key the release is sealed to'),
  signerKeyId: z.string().nullable().describe('Kernel’s signing key'),
  sealedSha256: z.string().nullable(),
  downloadedAt: z.string().nullable(),
  approvals: z.array(
    z.object({
      approverId: z.string(),
      approverRole: z.string(),
      approverOrg: z.string().nullable(),
      capacity: z.enum(APPROVER_CAPACITIES),
      decision: z.enum(REID_DECISIONS),
      comment: z.string(),
      at: z.string(),
    }),
  ),
});

function requestLines(r: ReidRequest): string {
  return formatTable(
    ['field', 'value'],
    [
      ['id', r.id],
      ['state', r.state],
      ['use case', r.useCaseId],
      ['controller', r.controller],
      ['people', r.cohortSize],
      ['fields', r.fields.join(', ')],
      ['reason', r.reason],
      ...r.approvals.map((a) => [`${a.capacity} (${a.approverRole})`, `${a.decision} ${a.comment}`.trim()]),
      ...(r.sealedSha256 ? [['sealed file sha256', r.sealedSha256]] : []),
    ],
  );
}

export const listReidOperation = reidOperation({
  name: 'reidentification.list',
  summary: 'Re-identification requests you may see: your own, your organisation’s as its IG lead, or all',
  input: z.object({
    state: z.enum(REID_STATES).optional().describe('one state'),
    controller: orgCode('one controller (an IG lead always sees their own)').optional(),
  }),
  output: z.object({ requests: z.array(reidRequestSchema) }),
  http: { method: 'GET', path: '/api/v1/reidentification' },
  cli: {
    command: ['reidentification', 'list'],
    ...listedAsTable(
      'requests',
      ['id', 'state', 'use case', 'controller', 'people', 'approvals'],
      (r: ReidRequest) => [
        r.id,
        r.state,
        r.useCaseId,
        r.controller,
        r.cohortSize,
        r.approvals.filter((a) => a.decision === 'approve').length,
      ],
    ),
  },
  run: async ({ store, principal }, { state, controller }) => ({
    requests: await listReidRequests(store, principal, givenFields({ state, controller })),
  }),
});

export const showReidOperation = reidOperation({
  name: 'reidentification.show',
  summary: 'One re-identification request with its approvals',
  input: z.object({ id: requiredText('request id') }),
  output: reidRequestSchema,
  http: { method: 'GET', path: '/api/v1/reidentification/:id', example: { id: 'REID-BCDFGHJKLM' } },
  cli: { command: ['reidentification', 'show'], args: ['id'], print: requestLines },
  run: ({ store, principal }, { id }) => visibleReidRequest(store, principal, id),
});

export const requestReidOperation = reidOperation({
  name: 'reidentification.request',
  summary: 'Ask for a direct-care cohort to be re-identified by one controller (two approvals release it)',
  access: REQUESTER_ROLES,
  input: z.object({
    useCaseId,
    controller: orgCode('the controller whose patients they are, e.g. a GP practice'),
    reason: requiredText('why the clinician needs these people'),
    fields: textList('the fields the clinician needs, named as in the controller’s extract').min(1),
    tokens: textList('the cohort: person tokens from a governed query').min(1),
  }),
  output: reidRequestSchema,
  http: { method: 'POST', path: '/api/v1/reidentification', status: 201 },
  run: ({ store, principal, actor }, input) => requestReidentification(store, principal, input, actor),
});

export const decideReidOperation = reidOperation({
  name: 'reidentification.decide',
  summary: 'Approve or refuse a re-identification request (the controller’s IG lead, or the second approver)',
  input: z.object({
    id: requiredText('request id'),
    decision: z.enum(REID_DECISIONS).describe('approve or refuse'),
    comment: z.string().trim().default('').describe('why; required to refuse'),
  }),
  output: reidRequestSchema,
  http: {
    method: 'POST',
    path: '/api/v1/reidentification/:id/decision',
    example: { id: 'REID-BCDFGHJKLM' },
  },
  cli: {
    command: ['reidentification', 'decide'],
    args: ['id'],
    print: (r) =>
      r.state === 'released'
        ? `${r.id} is released to ${r.controller}: its IG lead can download the sealed file.`
        : r.state === 'refused'
          ? `${r.id} is refused.`
          : `Recorded. ${r.id} needs the other approval.`,
  },
  run: ({ store, principal, actor, config }, { id, decision, comment }) =>
    decideReidentification(store, principal, id, decision, comment, actor, config?.dataDir),
});

const settingsSchema = z.object({
  useCaseId: z.string(),
  sizeLimit: z.number().int(),
  approvers: z
    .array(z.string())
    .describe('user ids who may give the second approval, besides administrators'),
  honourOptOut: z.boolean(),
  setBy: z.string().nullable(),
  setAt: z.string().nullable(),
});

export const showReidSettingsOperation = reidOperation({
  name: 'reidentification.settings',
  summary: 'A use case’s re-identification rules: size limit, second approvers, opt-out',
  input: z.object({ useCaseId }),
  output: settingsSchema,
  http: {
    method: 'GET',
    path: '/api/v1/reidentification/settings/:useCaseId',
    example: { useCaseId: 'UC-001' },
  },
  cli: {
    command: ['reidentification', 'settings'],
    args: ['useCaseId'],
    print: (s) =>
      `${s.useCaseId}: at most ${s.sizeLimit} people a request; second approvers: administrators${
        s.approvers.length ? `, ${s.approvers.join(', ')}` : ''
      }; opt-out list ${s.honourOptOut ? 'honoured' : 'not applied (direct care)'}.`,
  },
  run: ({ store }, { useCaseId: id }) => useCaseReidSettings(store, id),
});

export const setReidSettingsOperation = reidOperation({
  name: 'reidentification.set-settings',
  summary: 'Set a use case’s re-identification rules (administrators)',
  access: ['admin'],
  input: z.object({
    useCaseId,
    sizeLimit: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .optional()
      .describe('the most people one request may name'),
    approvers: textList('user ids who may give the second approval, besides administrators').optional(),
    honourOptOut: z.boolean().optional().describe('refuse people on the opt-out list'),
  }),
  output: settingsSchema,
  http: {
    method: 'POST',
    path: '/api/v1/reidentification/settings/:useCaseId',
    example: { useCaseId: 'UC-001' },
  },
  cli: {
    command: ['reidentification', 'set'],
    args: ['useCaseId'],
    flags: { approvers: 'approver' },
    print: (s) => `${s.useCaseId}: at most ${s.sizeLimit} people a request.`,
  },
  run: ({ store, principal, actor }, input) =>
    setReidSettings(
      store,
      principal,
      {
        useCaseId: input.useCaseId,
        ...givenFields({
          sizeLimit: input.sizeLimit,
          approvers: input.approvers,
          honourOptOut: input.honourOptOut,
        }),
      },
      actor,
    ),
});

export const trustEncryptionKeyOperation = reidOperation({
  name: 'keys.trust-encryption',
  summary: 'Register a controller’s agent encryption key, to seal re-identification releases to (audited)',
  access: ['admin'],
  input: z.object({
    org: orgCode('the controller the key belongs to'),
    publicKeyPem: requiredText('the X25519 public key, SPKI PEM (FILE.pub of kernel keys new-encryption)'),
  }),
  output: z.object({ org: z.string(), keyId: z.string(), trustedAt: z.string(), trustedBy: z.string() }),
  http: { method: 'POST', path: '/api/v1/keys/encryption', status: 201 },
  run: async ({ store, actor }, { org, publicKeyPem }) => {
    const { publicKeyPem: _pem, ...trusted } = await trustEncryptionKey(store, org, publicKeyPem, actor);
    return trusted;
  },
});

export const kernelKeyOperation = reidOperation({
  name: 'reidentification.kernel-key',
  summary: 'Kernel’s public key that signs re-identification releases, for controllers’ agents',
  access: 'public',
  input: z.object({}),
  output: z.object({ keyId: z.string(), publicKeyPem: z.string() }),
  http: { method: 'GET', path: '/api/v1/reidentification/kernel-key' },
  run: ({ config }) => {
    if (!config)
      throw new KernelError(
        'config',
        'Kernel’s signing key lives in the data folder, which is not configured',
      );
    // Reading makes nothing: the key is made by the first release, or by the operator's
    // `kernel reidentification kernel-key`.
    const key = kernelSigningPublicKey(config.dataDir);
    if (!key) {
      throw new KernelError('not-found', 'Kernel has no re-identification signing key yet', {
        hint: 'The operator makes it: kernel reidentification kernel-key --out kernel-reid.pub',
      });
    }
    return key;
  },
});

export const controllerReidOperation = reidOperation({
  name: 'reidentification.transparency',
  summary: 'A controller’s re-identification requests, for its transparency record (never a token or a name)',
  access: ['ig-lead', 'admin'],
  input: z.object({ org: orgCode('the controller (an IG lead always gets their own)').optional() }),
  output: z.object({
    org: z.string(),
    requests: z.array(
      z.object({
        id: z.string(),
        useCaseId: z.string(),
        state: z.enum(REID_STATES),
        cohortSize: z.number().int(),
        fields: z.array(z.string()),
        reason: z.string(),
        requestedAt: z.string(),
        decidedAt: z.string().nullable(),
        downloadedAt: z.string().nullable(),
        approvals: z.array(
          z.object({
            capacity: z.enum(APPROVER_CAPACITIES),
            decision: z.enum(REID_DECISIONS),
            at: z.string(),
          }),
        ),
      }),
    ),
  }),
  http: { method: 'GET', path: '/api/v1/reidentification/transparency' },
  cli: {
    command: ['reidentification', 'transparency'],
    json: (o) => o.requests,
    print: ({ org, requests }) =>
      `${org}\n${formatTable(
        ['id', 'use case', 'state', 'people', 'requested', 'decided'],
        requests.map((r) => [r.id, r.useCaseId, r.state, r.cohortSize, r.requestedAt, r.decidedAt ?? '']),
      )}`,
  },
  run: async ({ store, principal }, { org }) => {
    const controller = controllerScope(principal, org);
    if (!controller) throw new KernelError('usage', 'Name the controller', { where: { field: 'org' } });
    return { org: controller, requests: await controllerReidRequests(store, controller) };
  },
});

const monthCountsSchema = z.object({
  month: z.string(),
  requested: z.number().int(),
  released: z.number().int(),
  refused: z.number().int(),
});

export const monthlyReidOperation = reidOperation({
  name: 'reidentification.monthly',
  summary: 'Re-identification requests per month: made, released and refused (for the public site)',
  access: 'public',
  input: z.object({}),
  output: z.object({ months: z.array(monthCountsSchema) }),
  http: { method: 'GET', path: '/api/v1/public/reidentification' },
  cli: {
    command: ['reidentification', 'monthly'],
    ...listedAsTable(
      'months',
      ['month', 'requested', 'released', 'refused'],
      (m: z.output<typeof monthCountsSchema>) => [m.month, m.requested, m.released, m.refused],
    ),
  },
  run: async ({ store }) => ({ months: await reidMonthlyCounts(store) }),
});

export const REID_OPERATIONS: readonly AnyOperation[] = [
  listReidOperation,
  kernelKeyOperation,
  monthlyReidOperation,
  controllerReidOperation,
  showReidSettingsOperation,
  setReidSettingsOperation,
  showReidOperation,
  requestReidOperation,
  decideReidOperation,
  trustEncryptionKeyOperation,
];
