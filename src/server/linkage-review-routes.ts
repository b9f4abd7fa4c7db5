/**
 * Clerical review of `kernel link`'s uncertain pairs in the portal (docs/linkage.md): the
 * queue, a pair's waterfall, and the decision on it. The pages call the linkage domain
 * (src/linkage/link-review.ts) and hold no rule of their own; a provider sees and decides
 * only the records its own organisation sent (the domain refuses another's pair). No name,
 * date of birth, address, encoding or person token reaches a page: a pair is its id, the
 * sender's month and line, and the model's evidence.
 */
import { KernelError } from '../errors.ts';
import { decidePair, explainQueuedPair, reviewQueue } from '../linkage/link-review.ts';
import {
  decideRequestSchema,
  pairDecisionSchema,
  pairWaterfallSchema,
  reviewQueueSchema,
} from '../linkage/linkage-schemas.ts';
import type { RouteDeclaration, RouteRequest, ServerDeps } from './routes.ts';

const WHO = ['admin', 'provider'] as const;

/** A provider's own organisation: the only records it may review. */
const ownOrg = (r: RouteRequest): string | undefined =>
  r.principal?.role === 'provider' ? (r.principal.org ?? '') : undefined;

export function linkageReviewRoutes(deps: ServerDeps): RouteDeclaration[] {
  const renderPair = async (
    r: RouteRequest,
    errors: { text: string; href: string }[] = [],
    status = 200,
  ): Promise<Response> => {
    const org = ownOrg(r);
    const waterfall = await explainQueuedPair(deps.store, r.param('pair'), org === undefined ? {} : { org });
    return r.render(
      'linkage/pair.njk',
      { title: `Review pair ${waterfall.pair.pairId}`, waterfall, errors },
      status,
    );
  };
  return [
    {
      method: 'GET',
      path: '/linkage/review',
      kind: 'page',
      access: [...WHO],
      summary: 'Clerical review: the pairs kernel link was unsure of, surest first',
      nav: 'Linkage review',
      query: [
        { name: 'dataset', description: 'a dataset linked by encodings (default asc)' },
        { name: 'decided', description: 'the pair just decided, to confirm it' },
      ],
      handle: async (r) => {
        const org = ownOrg(r);
        const queue = await reviewQueue(deps.store, {
          dataset: r.query('dataset') ?? 'asc',
          ...(org === undefined ? {} : { org }),
          limit: 500,
        });
        return r.render('linkage/review.njk', {
          title: 'Linkage review',
          queue,
          decided: r.query('decided') ?? null,
          ownOrg: org ?? null,
        });
      },
    },
    {
      method: 'GET',
      path: '/linkage/review/:pair',
      kind: 'page',
      access: [...WHO],
      summary: 'A pair awaiting review: its match weight as a waterfall, and the decision',
      example: { pair: `pr-${'0'.repeat(20)}` },
      handle: (r) => renderPair(r),
    },
    {
      method: 'POST',
      path: '/linkage/review/:pair',
      kind: 'page',
      access: [...WHO],
      summary: 'Decide a pair: the record is, or is not, the person',
      example: { pair: `pr-${'0'.repeat(20)}` },
      handle: async (r) => {
        const form = await r.form();
        const decision = form.decision;
        if (decision !== 'match' && decision !== 'non-match') {
          return renderPair(
            r,
            [{ text: 'Choose whether the record is this person', href: '#decision' }],
            400,
          );
        }
        const org = ownOrg(r);
        const decided = await decidePair(deps.store, {
          pairId: r.param('pair'),
          match: decision === 'match',
          actor: r.actor,
          ...(org === undefined ? {} : { org }),
        }).catch((error: unknown) => {
          if (error instanceof KernelError) throw error;
          throw new KernelError('internal', 'The decision could not be kept', { cause: error });
        });
        return r.redirect(
          `/linkage/review?dataset=${encodeURIComponent(decided.dataset)}&decided=${decided.pairId}`,
        );
      },
    },
    {
      method: 'GET',
      path: '/api/v1/linkage/review',
      kind: 'api',
      access: [...WHO],
      tag: 'linkage',
      summary:
        'The clerical review queue of a dataset’s latest kernel link run (a provider sees its own records)',
      query: [
        { name: 'dataset', description: 'a dataset linked by encodings (default asc)' },
        { name: 'org', description: 'only the records this organisation sent (ODS code)' },
      ],
      response: reviewQueueSchema,
      handle: async (r) => {
        const org = ownOrg(r) ?? (r.query('org')?.trim().toUpperCase() || undefined);
        return r.json(
          await reviewQueue(deps.store, {
            dataset: r.query('dataset') ?? 'asc',
            ...(org === undefined ? {} : { org }),
          }),
        );
      },
    },
    {
      method: 'GET',
      path: '/api/v1/linkage/review/:pair',
      kind: 'api',
      access: [...WHO],
      tag: 'linkage',
      summary: 'A queued pair’s match weight as a waterfall, comparison by comparison, and its decisions',
      pathParams: [{ name: 'pair', description: 'the pair id' }],
      example: { pair: `pr-${'0'.repeat(20)}` },
      response: pairWaterfallSchema,
      handle: async (r) => {
        const org = ownOrg(r);
        return r.json(await explainQueuedPair(deps.store, r.param('pair'), org === undefined ? {} : { org }));
      },
    },
    {
      method: 'POST',
      path: '/api/v1/linkage/review/:pair',
      kind: 'api',
      access: [...WHO],
      tag: 'linkage',
      summary:
        'Decide a queued pair: the record is (match) or is not (non-match) the person; the next run honours it',
      pathParams: [{ name: 'pair', description: 'the pair id' }],
      example: { pair: `pr-${'0'.repeat(20)}` },
      request: decideRequestSchema,
      response: pairDecisionSchema,
      status: 201,
      handle: async (r) => {
        const body = decideRequestSchema.parse(await r.jsonObject());
        const org = ownOrg(r);
        const decision = await decidePair(deps.store, {
          pairId: r.param('pair'),
          match: body.decision === 'match',
          actor: r.actor,
          ...(org === undefined ? {} : { org }),
        });
        return r.json(decision, 201);
      },
    },
  ];
}
