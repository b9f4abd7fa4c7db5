import { z } from 'zod';
import type { Dialect } from '../store/dialect.ts';
import { ROLES, type Principal, type RouteDeclaration, type ServerDeps } from './routes.ts';
import { buildOpenApi } from './openapi.ts';

const healthSchema: z.ZodType<{ status: 'ok'; store: Dialect['name'] }> = z.object({
  status: z.literal('ok'),
  store: z.enum(['duckdb', 'postgres']).describe('the store engine the warehouse runs on'),
});

/** The signed-in principal, without its user id or token id. */
const meSchema: z.ZodType<Pick<Principal, 'email' | 'role' | 'org' | 'via'>> = z.object({
  email: z.string(),
  role: z.enum(ROLES),
  org: z
    .string()
    .nullable()
    .describe('the ODS code of the account’s organisation; null for roles without one'),
  via: z.enum(['session', 'token', 'operator']).describe('how the request authenticated'),
});

function whoMay(route: RouteDeclaration): string {
  if (route.access === 'public') return 'Anyone';
  if (route.access === 'signed-in') return 'Any signed-in role';
  return route.access.join(', ');
}

/**
 * The API's own routes: health, who am I, and its description. `table` is the whole route
 * table (read when a request comes, so the document lists every module's operations).
 */
export function apiRoutes(deps: ServerDeps, table: () => readonly RouteDeclaration[]): RouteDeclaration[] {
  return [
    {
      method: 'GET',
      path: '/api/v1/health',
      kind: 'api',
      access: 'public',
      tag: 'service',
      summary: 'Whether the service and its store answer',
      response: healthSchema,
      handle: async (r) => {
        await deps.store.query('SELECT 1 AS ok');
        return r.json({ status: 'ok', store: deps.store.dialect.name });
      },
    },
    {
      method: 'GET',
      path: '/api/v1/me',
      kind: 'api',
      access: 'signed-in',
      tag: 'service',
      summary: 'The account the token or session belongs to',
      response: meSchema,
      handle: (r) => {
        const p = r.principal;
        return r.json(p ? { email: p.email, role: p.role, org: p.org, via: p.via } : null);
      },
    },
    {
      method: 'GET',
      path: '/api/openapi.json',
      kind: 'page',
      access: 'public',
      summary: 'The OpenAPI 3.1 document of the API',
      handle: (r) => r.json(buildOpenApi(table())),
    },
    {
      method: 'GET',
      path: '/api/docs',
      kind: 'page',
      access: 'public',
      summary: 'The API described for people',
      handle: (r) => {
        const groups = new Map<string, unknown[]>();
        for (const route of table()) {
          if (route.kind !== 'api') continue;
          const tag = route.tag ?? route.path.split('/')[3] ?? 'general';
          const params = [
            ...[...route.path.matchAll(/:([A-Za-z0-9_]+)/g)].map(([, name]) => ({
              name,
              description: route.pathParams?.find((p) => p.name === name)?.description ?? 'in the path',
            })),
            ...(route.query ?? []),
          ];
          const list = groups.get(tag) ?? [];
          list.push({
            method: route.method,
            path: route.path,
            summary: route.summary,
            who: whoMay(route),
            params,
          });
          groups.set(tag, list);
        }
        return r.render('api-docs.njk', {
          title: 'API',
          groups: [...groups].map(([tag, operations]) => ({ tag, operations })),
        });
      },
    },
  ];
}
