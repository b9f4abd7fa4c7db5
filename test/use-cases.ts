/**
 * A use case proposed, approved by every controller and active: what a test that reads
 * warehouse data needs first. Give what the test is about; the rest are the test world's
 * usual values (months stay the domain's default, published, unless given).
 */
import {
  activateUseCase,
  approveUseCase,
  proposeUseCase,
  type NewUseCase,
  type UseCase,
} from '../src/governance/use-cases.ts';
import type { Purpose } from '../src/governance/governance-values.ts';
import type { Queryable } from '../src/store/store.ts';

export async function activeUseCase(
  store: Queryable,
  input: Partial<NewUseCase> & Pick<NewUseCase, 'datasets' | 'controllers'>,
  actor = 'test',
): Promise<UseCase> {
  const proposed = await proposeUseCase(
    store,
    {
      title: 'Test use case',
      sponsor: 'QKS',
      purpose: 'planning',
      legalBasis: 'UK GDPR Art 6(1)(e) and 9(2)(h)',
      start: '2020-01-01',
      end: '2099-12-31',
      ...input,
    },
    actor,
  );
  for (const org of proposed.controllers) await approveUseCase(store, proposed.id, org, actor);
  return activateUseCase(store, proposed.id, actor);
}

/**
 * The id of an active use case for a test that reads warehouse data as analysts: titled
 * `SUBJECT PURPOSE DATASETS`, running from April 2021; `more` changes the rest (users, months).
 */
export async function readingUseCaseId(
  store: Queryable,
  subject: string,
  purpose: Purpose,
  datasets: string[],
  controllers: string[],
  more: Partial<NewUseCase> = {},
): Promise<string> {
  const made = await activeUseCase(store, {
    title: `${subject} ${purpose} ${datasets.join(' ')}`,
    purpose,
    datasets,
    controllers,
    users: ['role:analyst'],
    start: '2021-04-01',
    end: '2099-03-31',
    ...more,
  });
  return made.id;
}
