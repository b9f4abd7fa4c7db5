import { outputsRoutes } from './outputs-routes.ts';
import { workspaceRoutes } from './workspace-routes.ts';
import { cohortRoutes } from './cohort-routes.ts';
import { linkageReviewRoutes } from './linkage-review-routes.ts';
import { reidRoutes } from './reid-routes.ts';
import { signoffRoutes } from './signoff-routes.ts';
import { listDatasets } from '../catalogue/catalogue.ts';
import { apiRoutes } from './api-routes.ts';
import { auditRoutes } from './audit-routes.ts';
import { authRoutes } from './auth-routes.ts';
import { catalogueRoutes } from './catalogue-routes.ts';
import { governanceRoutes } from './governance-routes.ts';
import { homeRoutes } from './home-routes.ts';
import { kidRoutes } from './kid-routes.ts';
import { loadsRoutes } from './loads-routes.ts';
import { maternityRoutes } from './maternity-routes.ts';
import { programmeRoutes } from './programme-routes.ts';
import type { RouteDeclaration, ServerDeps } from './routes.ts';
import { uploadRoutes } from './upload-routes.ts';

/**
 * Every route of `kernel serve`, in one table. Who may use each is in its declaration;
 * the guard in app.ts enforces it, and test/e2e/portal-routes.test.ts walks the table with
 * every role. Domain modules that add pages (maternity, governance) are listed here.
 */
export function buildRouteTable(deps: ServerDeps): RouteDeclaration[] {
  const table: RouteDeclaration[] = [];
  table.push(
    ...homeRoutes(deps, () => listDatasets().length),
    // Before the catalogue's /catalogue/:dataset, which would otherwise take /catalogue/linkage.
    ...kidRoutes(deps),
    ...catalogueRoutes(deps),
    ...loadsRoutes(deps),
    ...signoffRoutes(deps),
    ...uploadRoutes(deps),
    ...maternityRoutes(deps),
    ...governanceRoutes(deps),
    ...programmeRoutes(deps),
    ...workspaceRoutes(deps),
    ...cohortRoutes(deps),
    ...linkageReviewRoutes(deps),
    ...reidRoutes(deps),
    ...outputsRoutes(deps),
    ...auditRoutes(deps),
    ...authRoutes(deps),
    ...apiRoutes(deps, () => table),
  );
  assertUnique(table);
  return table;
}

function assertUnique(table: readonly RouteDeclaration[]): void {
  const seen = new Set<string>();
  for (const route of table) {
    const key = `${route.method} ${route.path}`;
    if (seen.has(key)) throw new Error(`Route declared twice: ${key}`);
    seen.add(key);
  }
}
