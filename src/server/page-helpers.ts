/**
 * What several pages do the same way: offer the use cases a user can work under, and tell a
 * mistake to show beside a form from a refusal that must stand as an error page, and declare
 * a module's pages for the same readers.
 */
import { readableUseCases, readUserOf } from '../governance/access-policy.ts';
import type { UseCase } from '../governance/use-cases.ts';
import { KernelError } from '../errors.ts';
import type { Principal } from './routes.ts';
import type { Access, RouteDeclaration, RouteRequest, ServerDeps } from './routes.ts';

/** Who is signed in, on a page whose guard admits only signed-in users. */
export function signedInPrincipal(r: RouteRequest): Principal {
  if (!r.principal) throw new Error('The guard admits only signed-in users here');
  return r.principal;
}

/** The active use cases the signed-in user may read under, for a page's picker. */
export async function useCasesFor(r: RouteRequest, deps: ServerDeps): Promise<UseCase[]> {
  const principal = r.principal;
  if (!principal) return [];
  return readableUseCases(deps.store, readUserOf(principal));
}

/**
 * A mistake in what the user typed (bad SQL, a missing field, a limit reached) is shown beside
 * the form with what they typed kept; a refusal by the policy, or a fault, is not theirs to
 * correct there and stands as an error page.
 */
export function isFormMistake(error: unknown): error is KernelError {
  return error instanceof KernelError && error.code !== 'forbidden' && error.code !== 'internal';
}

/** A module's pages, for the same readers unless one says otherwise: `const page = pagesFor(TEAM)`. */
export function pagesFor(access: Access) {
  return (route: Omit<RouteDeclaration, 'kind' | 'access'> & { access?: Access }): RouteDeclaration => ({
    kind: 'page',
    access,
    ...route,
  });
}
