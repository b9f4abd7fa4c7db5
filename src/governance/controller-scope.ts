import { KernelError } from '../errors.ts';
import type { Principal } from '../operations/principal.ts';
import { parseOrgCode } from './governance-values.ts';

/**
 * The controller whose data a principal asks about. An IG lead always gets their own
 * organisation, whatever they name, so no page, export, API call or command shows them
 * another controller's; an IG lead without one is refused. Others name one, or none for all.
 */
export function controllerScope(principal: Principal, requested?: string): string | undefined {
  if (principal.role === 'ig-lead') {
    if (!principal.org) {
      throw new KernelError('forbidden', 'Your IG lead account belongs to no organisation', {
        hint: 'Ask an administrator to set your organisation',
      });
    }
    return principal.org;
  }
  return requested ? parseOrgCode(requested) : undefined;
}
