import type { ParamDoc, RouteDeclaration } from './routes.ts';

/** The OpenAPI path template for a Hono path (`/loads/:id` → `/loads/{id}`). */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function pathParamsOf(route: RouteDeclaration): ParamDoc[] {
  const declared = new Map((route.pathParams ?? []).map((p) => [p.name, p]));
  return [...route.path.matchAll(/:([A-Za-z0-9_]+)/g)].map(
    ([, name]) => declared.get(name as string) ?? { name: name as string, description: name as string },
  );
}

function whoMay(route: RouteDeclaration): string {
  if (route.access === 'public') return 'Anyone, without signing in.';
  if (route.access === 'signed-in') return 'Any signed-in role.';
  return `Roles: ${route.access.join(', ')}.`;
}

const ERROR_SCHEMA = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        where: {
          type: 'object',
          properties: {
            file: { type: 'string' },
            line: { type: 'integer' },
            column: { type: 'integer' },
            field: { type: 'string' },
          },
        },
        hint: { type: 'string' },
      },
    },
  },
};

/**
 * The OpenAPI 3.1 document, generated from the route declarations so it cannot drift
 * from what the server does (OpenAPI Specification 3.1.0 §4.8).
 */
export function buildOpenApi(
  routes: readonly RouteDeclaration[],
  version = '0.1.0',
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    if (route.kind !== 'api') continue;
    const key = openApiPath(route.path);
    const parameters = [
      ...pathParamsOf(route).map((p) => ({
        name: p.name,
        in: 'path',
        required: true,
        description: p.description,
        schema: { type: p.type ?? 'string' },
      })),
      ...(route.query ?? []).map((p) => ({
        name: p.name,
        in: 'query',
        required: p.required ?? false,
        description: p.description,
        schema: { type: p.type ?? 'string' },
      })),
    ];
    const errorResponse = (description: string) => ({
      description,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    });
    const responses: Record<string, unknown> = {
      '200': { description: 'OK', content: { 'application/json': { schema: { type: 'object' } } } },
      '400': errorResponse('The request was malformed'),
    };
    if (route.access !== 'public') {
      responses['401'] = errorResponse('No valid API token or session');
      responses['403'] = errorResponse('Your role may not use this operation');
    }
    const operation: Record<string, unknown> = {
      operationId: `${route.method.toLowerCase()}${key.replace(/[{}]/g, '').replace(/(^|[/-])([a-z0-9])/g, (_, _s, ch: string) => ch.toUpperCase())}`,
      summary: route.summary,
      description: whoMay(route),
      tags: [route.tag ?? route.path.split('/')[3] ?? 'general'],
      parameters,
      responses,
      security: route.access === 'public' ? [] : [{ bearerAuth: [] }],
    };
    if (route.body) {
      operation.requestBody = {
        required: true,
        description: route.body.description,
        content: { [route.body.contentType]: { schema: { type: 'object' } } },
      };
    }
    (paths[key] ??= {})[route.method.toLowerCase()] = operation;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Kernel API',
      version,
      description:
        'The API of Kernel, the shared health and care data warehouse of the Kent and Medway integrated care system. ' +
        'Authenticate with `Authorization: Bearer <token>` (a token from `kernel tokens new`).',
    },
    servers: [{ url: '/' }],
    paths,
    components: {
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } },
      schemas: { Error: ERROR_SCHEMA },
    },
  };
}
