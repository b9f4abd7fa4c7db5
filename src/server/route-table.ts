import { apiRoutes } from './api-routes.ts';
import { auditRoutes } from './audit-routes.ts';
import { authRoutes } from './auth-routes.ts';
import type { RouteDeclaration, ServerDeps } from './routes.ts';

/**
 * Every route of `kernel serve`, in one table: who may use each is declared here (in
 * each module's declarations), and the guard in app.ts enforces it. Domain modules that
 * add pages (maternity, governance) are listed here.
 */
export function buildRouteTable(deps: ServerDeps): RouteDeclaration[] {
  const table: RouteDeclaration[] = [];
  table.push(...authRoutes(deps), ...auditRoutes(deps), ...apiRoutes(deps, () => table));
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
