import type { Store } from '../src/store/store.ts';
import { accountsForEveryRole, portalApp } from './e2e/portal-helpers.ts';

/**
 * The KID's API resource `/api/v1/kid/RESOURCE` as the portal answers an analyst's API token
 * (an account of every role is added to `store` first): `get('?useCase=…')`.
 */
export async function kidApiForAnalyst(
  store: Store,
  resource: string,
): Promise<(query: string) => Promise<Response>> {
  const accounts = await accountsForEveryRole(store);
  const { app } = portalApp(store);
  return async (query) =>
    app.request(`/api/v1/kid/${resource}${query}`, {
      headers: { Authorization: `Bearer ${accounts.analyst.token}` },
    });
}
