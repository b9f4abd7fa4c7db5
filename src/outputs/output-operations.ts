/**
 * Output requests as operations (see src/operations/operation.ts): listing, showing and
 * checking them, in the API (`/api/v1/outputs…`), the CLI (`kernel outputs …`) and the
 * portal's pages alike. Making a request runs a workspace query, and downloading answers a
 * file, so those two are declared beside the workspace (src/workspace/) and hand-written.
 */
import { z } from 'zod';
import { formatTable } from '../console/console.ts';
import { listedAsTable } from '../operations/list-table.ts';
import { OUTPUT_FORMATS } from '../files/output-files.ts';
import { requiredText } from '../operations/fields.ts';
import { operationsOf, type AnyOperation } from '../operations/operation.ts';
import {
  CHECK_DECISIONS,
  checkOutput,
  listOutputRequests,
  OUTPUT_KINDS,
  OUTPUT_STATES,
  releasedOutputs,
  visibleOutputRequest,
  type OutputRequest,
} from './output-requests.ts';

/** Whoever can read under a use case may request an output; checkers check them. */
export const REQUESTERS = ['admin', 'analyst', 'provider', 'ig-lead', 'viewer', 'programme'] as const;
const EVERYONE_SIGNED_IN = 'signed-in';
/** Output operations are for anyone signed in, unless one says otherwise; the domain narrows. */
const outputOperation = operationsOf({ tag: 'outputs', access: EVERYONE_SIGNED_IN });

export const outputRequestSchema: z.ZodType<OutputRequest> = z.object({
  id: z.string().describe('e.g. OUT-1A2B3C4D5E'),
  useCaseId: z.string(),
  requestedBy: z.string().describe('the requester’s user id'),
  requesterOrg: z.string().nullable(),
  title: z.string(),
  description: z.string(),
  kind: z.enum(OUTPUT_KINDS),
  format: z.enum(OUTPUT_FORMATS),
  state: z.enum(OUTPUT_STATES),
  sha256: z.string().describe('SHA-256 of the file as made and checked'),
  bytes: z.number().int(),
  rows: z.number().int(),
  disclosureNote: z.string(),
  createdAt: z.string(),
  decidedAt: z.string().nullable(),
  downloadedAt: z.string().nullable(),
  checks: z.array(
    z.object({
      checkerId: z.string(),
      checkerOrg: z.string().nullable(),
      decision: z.enum(CHECK_DECISIONS),
      comment: z.string(),
      at: z.string(),
    }),
  ),
});

function requestLines(r: OutputRequest): string {
  return formatTable(
    ['field', 'value'],
    [
      ['id', r.id],
      ['title', r.title],
      ['use case', r.useCaseId],
      ['kind', r.kind],
      ['format', r.format],
      ['state', r.state],
      ['rows', r.rows],
      ['sha256', r.sha256],
      ['disclosure', r.disclosureNote],
      ...r.checks.map((c) => [
        `check (${c.checkerOrg ?? 'no organisation'})`,
        `${c.decision} ${c.comment}`.trim(),
      ]),
    ],
  );
}

export const listOutputsOperation = outputOperation({
  name: 'outputs.list',
  summary: 'Output requests: your own, or every one for an output checker',
  input: z.object({ state: z.enum(OUTPUT_STATES).optional().describe('one state') }),
  output: z.object({ outputs: z.array(outputRequestSchema) }),
  http: { method: 'GET', path: '/api/v1/outputs' },
  cli: {
    command: ['outputs', 'list'],
    ...listedAsTable(
      'outputs',
      ['id', 'state', 'kind', 'use case', 'checks', 'title'],
      (r: OutputRequest) => [r.id, r.state, r.kind, r.useCaseId, r.checks.length, r.title],
    ),
  },
  run: async ({ store, principal }, { state }) => ({
    outputs: await listOutputRequests(store, principal, state ? { state } : {}),
  }),
});

export const showOutputOperation = outputOperation({
  name: 'outputs.show',
  summary: 'One output request with its checks',
  input: z.object({ id: requiredText('output request id') }),
  output: outputRequestSchema,
  http: { method: 'GET', path: '/api/v1/outputs/:id', example: { id: 'OUT-0000000000' } },
  cli: { command: ['outputs', 'show'], args: ['id'], print: requestLines },
  run: ({ store, principal }, { id }) => visibleOutputRequest(store, principal, id),
});

export const checkOutputOperation = outputOperation({
  name: 'outputs.check',
  summary: 'Approve, return with comments, or reject an output (output checkers; never your own)',
  access: ['output-checker'],
  input: z.object({
    id: requiredText('output request id'),
    decision: z.enum(CHECK_DECISIONS).describe('approve, return (with comments) or reject'),
    comment: z.string().trim().default('').describe('why; required to return or reject'),
  }),
  output: outputRequestSchema,
  http: { method: 'POST', path: '/api/v1/outputs/:id/check', example: { id: 'OUT-0000000000' } },
  cli: {
    command: ['outputs', 'check'],
    args: ['id'],
    print: (r) =>
      r.state === 'submitted'
        ? `Recorded. ${r.id} needs another independent check.`
        : `${r.id} is ${r.state}.`,
  },
  run: ({ store, principal, actor }, { id, decision, comment }) =>
    checkOutput(store, principal, id, decision, comment, actor),
});

export const releasedOutputsOperation = outputOperation({
  name: 'outputs.released',
  summary: 'Outputs released from the workspace: title, use case, date and who checked them',
  access: 'public',
  input: z.object({}),
  output: z.object({
    released: z.array(
      z.object({
        id: z.string(),
        title: z.string(),
        useCaseId: z.string(),
        releasedOn: z.string(),
        checkedBy: z.array(z.string()).describe('the checkers’ role and organisation, never their names'),
      }),
    ),
  }),
  http: { method: 'GET', path: '/api/v1/public/outputs' },
  run: async ({ store }) => ({ released: await releasedOutputs(store) }),
});

export const OUTPUT_OPERATIONS: readonly AnyOperation[] = [
  listOutputsOperation,
  showOutputOperation,
  checkOutputOperation,
  releasedOutputsOperation,
];
