/**
 * API routes generated from operation declarations: the path parameters, the query string
 * (GET) or the JSON body (other methods) become the operation's input, validated by its
 * schema; the answer is its output. Who may call it, the CSRF guard and error mapping are
 * the server's as for any route (app.ts); the OpenAPI document takes its schemas from here.
 */
import type { z } from 'zod';
import { fromText, runOperation, type AnyOperation } from '../operations/operation.ts';
import type { Principal } from '../operations/principal.ts';
import type { RouteDeclaration, ServerDeps } from './routes.ts';

/** Who calls a public operation without signing in: no role of any use beyond it. */
const ANONYMOUS: Principal = {
  userId: 'anonymous',
  email: '',
  role: 'viewer',
  org: null,
  via: 'session',
  mustChangePassword: false,
};

export function pathParamNames(path: string): string[] {
  return [...path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1] as string);
}

export function operationRoute(operation: AnyOperation, deps: ServerDeps): RouteDeclaration {
  const http = operation.http;
  if (!http) throw new Error(`Operation ${operation.name} has no HTTP shape`);
  const schema = operation.input as z.ZodObject;
  const inPath = pathParamNames(http.path);
  const fields = Object.keys(schema.shape);
  return {
    method: http.method,
    path: http.path,
    kind: 'api',
    access: operation.access,
    summary: operation.summary,
    tag: operation.tag,
    operation,
    ...(http.example ? { example: http.example } : {}),
    handle: async (r) => {
      const fromPath = Object.fromEntries(inPath.map((name) => [name, r.param(name)]));
      // Every query parameter is passed on, as every body field is: a strict input refuses one
      // it does not have, by name; any other input leaves it out.
      const given =
        http.method === 'GET'
          ? Object.fromEntries(
              [...new Set([...fields, ...Object.keys(r.c.req.query())])]
                .filter((f) => !inPath.includes(f))
                .map((f) => [f, r.query(f)]),
            )
          : await r.jsonObject({ emptyIsObject: true });
      const principal = r.principal ?? (operation.access === 'public' ? ANONYMOUS : null);
      if (!principal) throw new Error('The guard lets no one unsigned-in reach a non-public operation');
      const raw =
        http.method === 'GET'
          ? fromText(schema, { ...given, ...fromPath })
          : { ...given, ...fromText(schema, fromPath) };
      const output = await runOperation(
        operation,
        { store: deps.store, config: deps.config, principal, ...(deps.now ? { now: deps.now } : {}) },
        raw,
      );
      return r.json(output, http.status ?? 200);
    },
  };
}

export function operationRoutes(operations: readonly AnyOperation[], deps: ServerDeps): RouteDeclaration[] {
  return operations.filter((op) => op.http).map((op) => operationRoute(op, deps));
}
