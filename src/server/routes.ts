/**
 * The route-declaration format: every page and API route of `kernel serve` is one
 * `RouteDeclaration`, and the whole server is the list of them (see `route-table.ts`).
 *
 * How to add routes from another domain (e.g. `maternity-routes.ts`, `governance-routes.ts`):
 *
 * ```ts
 * import type { RouteDeclaration, ServerDeps } from './routes.ts';
 * export function maternityRoutes(deps: ServerDeps): RouteDeclaration[] {
 *   return [
 *     {
 *       method: 'GET',
 *       path: '/dashboards/maternity',
 *       kind: 'page',
 *       access: ['admin', 'provider', 'analyst', 'ig-lead', 'viewer'],
 *       summary: 'Maternity dashboard',
 *       handle: async (r) => r.render('maternity/dashboard.njk', { title: 'Maternity', ... }),
 *     },
 *     {
 *       method: 'GET',
 *       path: '/api/v1/dashboards/maternity',
 *       kind: 'api',
 *       access: 'signed-in',
 *       summary: 'Maternity measures by provider and month',
 *       query: [{ name: 'org', description: 'ODS code' }],
 *       handle: async (r) => r.json(await maternityMeasures(deps.store, { org: r.query('org'), ... })),
 *     },
 *   ];
 * }
 * ```
 *
 * The rules the server applies from a declaration, so handlers never check them:
 * - `access` decides who may call it: `'public'` (no sign-in), `'signed-in'` (any role),
 *   or a list of roles. A page without a session redirects to `/sign-in`; an API route
 *   answers 401; a signed-in user whose role is not listed gets 403.
 * - `kind: 'page'` answers HTML through `r.render(template, vars)` (Nunjucks, autoescaped,
 *   templates under `src/server/templates/`; extend `"layout.njk"`; put a domain's own
 *   templates in a sub-folder, e.g. `templates/maternity/`). POST pages must be forms
 *   with `<input type="hidden" name="csrf" value="{{ csrfToken }}">`: the guard checks the
 *   synchronizer token before the handler runs.
 * - `kind: 'api'` lives under `/api/v1`, answers JSON through `r.json(value)`, and is
 *   listed in `/api/openapi.json` with its `summary`, `query`, `pathParams` and `body`.
 *   Callers authenticate with `Authorization: Bearer <token>` (or the portal session;
 *   then unsafe methods need the `X-CSRF-Token` header).
 * - A thrown `KernelError` becomes the right status: JSON `errorBody()` for the API, an
 *   error page for the portal. Handlers call domain functions; they hold no business rule.
 * - `example` gives concrete path parameters so the route × role test can call the route.
 */
import type { Context } from 'hono';
import type { KernelConfig } from '../config/config.ts';
import type { Store } from '../store/store.ts';
import type { z } from 'zod';
import type { AnyOperation, HttpMethod, Operation } from '../operations/operation.ts';
import type { Access, Principal } from '../operations/principal.ts';
import type { FormFields } from './request-body.ts';

export type { HttpMethod };

export {
  ORGANISATION_ROLES,
  ROLES,
  isRole,
  mayUse,
  type Access,
  type Principal,
  type Role,
} from '../operations/principal.ts';
/** What every route module receives once, when the app is built. */
export interface ServerDeps {
  store: Store;
  config: KernelConfig;
  /** the clock; tests pass a fixed one */
  now?: () => Date;
  /** one line per request, without secrets or identifiers; defaults to nothing in tests */
  log?: (line: string) => void;
}

export interface ParamDoc {
  name: string;
  description: string;
  required?: boolean;
  /** JSON-schema type; default string */
  type?: 'string' | 'integer' | 'boolean';
}

/** What a handler receives for one request. */
export interface RouteRequest {
  /** the Hono context, for anything not below */
  c: Context;
  deps: ServerDeps;
  /** null only on public routes when nobody is signed in */
  principal: Principal | null;
  /** a path parameter (`/loads/:id` → `r.param('id')`) */
  param(name: string): string;
  /** a query-string value, or undefined */
  query(name: string): string | undefined;
  /**
   * the parsed form body of a POST page (already CSRF-checked), bounded; a route that
   * `takesFile` gets its files streamed to disk (`UploadedFile`), removed after the response
   */
  form(): Promise<FormFields>;
  /**
   * the JSON object an API request sent (bounded), or a clear 400; with `emptyIsObject`, no
   * body at all reads as `{}` (an operation whose input is all optional, or in the path)
   */
  jsonObject(options?: { emptyIsObject?: boolean }): Promise<Record<string, unknown>>;
  /** renders a Nunjucks template inside the portal layout */
  render(template: string, vars?: Record<string, unknown>, status?: number): Response;
  json(value: unknown, status?: number): Response;
  redirect(location: string): Response;
  /**
   * This response's CSP nonce, for a handler that answers a whole HTML document itself
   * (not through `render`): put it on its `<script nonce>` and `<style nonce>` elements.
   */
  nonce: string;
  /**
   * runs an operation as this request's principal (pages are hand-written templates over
   * the same operations the API and CLI run, so they apply the same rules)
   */
  run<O>(operation: Operation<z.ZodObject, z.ZodType<O>>, input: Record<string, unknown>): Promise<O>;
  /** the actor for `appendAudit`: `user:<email>` for a session, `token:<id>` for an API token */
  actor: string;
}

export interface RouteDeclaration {
  method: HttpMethod;
  /** Hono path syntax: `/loads/:id` */
  path: string;
  kind: 'page' | 'api';
  access: Access;
  /** one line, plain English: shown in the OpenAPI document and the docs */
  summary: string;
  /** OpenAPI grouping, e.g. 'catalogue'; defaults to the first path segment */
  tag?: string;
  query?: readonly ParamDoc[];
  pathParams?: readonly ParamDoc[];
  /**
   * the route receives a file (multipart): its body may be as large as `uploadLimitMb` and
   * its files are streamed to disk; every other route's body is limited to a small form
   */
  takesFile?: boolean;
  /** the operation this route was generated from (operation-routes.ts): its schemas document it */
  operation?: AnyOperation;
  /**
   * what a hand-written API route answers with (JSON), for the OpenAPI document and the test
   * that checks every answer against it; generated routes take it from their operation
   */
  response?: z.ZodType;
  /**
   * the JSON body a hand-written API route takes: `r.jsonObject()` answers it validated
   * (a clear 400 naming the field otherwise), and the OpenAPI document shows it
   */
  request?: z.ZodObject;
  /** the status a hand-written API route answers with on success, when not 200 (201: created) */
  status?: 201;
  /** request body of an API route, for the OpenAPI document */
  body?: { contentType: 'application/json' | 'multipart/form-data'; description: string };
  /** concrete values for path parameters, for the route × role test and the docs */
  example?: Record<string, string>;
  /** shown in the portal navigation with this label, for the roles that may use it */
  nav?: string;
  /**
   * For a page in the navigation that not everyone its `access` admits may open (the
   * population health dashboard needs a use case the policy allows): whether this principal
   * may. The navigation leaves the page out when it answers false, so it must be the very
   * decision the handler refuses by, with no side effect: it runs for every page drawn, and
   * deciding is not reading (nothing is audited).
   */
  mayOpen?: (principal: Principal) => Promise<boolean>;
  handle(r: RouteRequest): Response | Promise<Response>;
}
