import type { z } from 'zod';
import { jsonSchemaOf } from '../operations/operation.ts';
import { pathParamNames } from './operation-routes.ts';
import type { ParamDoc, RouteDeclaration } from './routes.ts';

/** What a route answers with: its operation's output, or the hand-written route's own schema. */
export function responseSchemaOf(route: RouteDeclaration): z.ZodType | undefined {
  return route.operation ? (route.operation.output as z.ZodType) : route.response;
}

/** The JSON body a route takes: its operation's input less the path, or the route's own schema. */
export function requestSchemaOf(route: RouteDeclaration): z.ZodObject | undefined {
  if (route.method === 'GET') return undefined;
  if (route.operation) {
    const input = route.operation.input as z.ZodObject;
    const inPath = Object.fromEntries(pathParamNames(route.path).map((name) => [name, true as const]));
    return input.omit(inPath as never);
  }
  return route.request;
}

interface Parameter {
  name: string;
  in: 'path' | 'query';
  required: boolean;
  description: string;
  schema: Record<string, unknown>;
}

/** An operation's path and query parameters, each with its field's schema. */
function operationParameters(route: RouteDeclaration): Parameter[] {
  const input = (route.operation?.input as z.ZodObject).shape as Record<string, z.ZodType>;
  const inPath = pathParamNames(route.path);
  const fields = route.method === 'GET' ? Object.keys(input) : inPath;
  return fields.map((name) => {
    const field = input[name] as z.ZodType;
    const schema = jsonSchemaOf(field, 'input');
    const { description, ...rest } = schema;
    const where = inPath.includes(name) ? 'path' : 'query';
    return {
      name,
      in: where,
      required: where === 'path' || !field.safeParse(undefined).success,
      description: typeof description === 'string' ? description : name,
      schema: rest,
    };
  });
}

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
    const parameters: Parameter[] = route.operation
      ? operationParameters(route)
      : [
          ...pathParamsOf(route).map((p) => ({
            name: p.name,
            in: 'path' as const,
            required: true,
            description: p.description,
            schema: { type: p.type ?? 'string' },
          })),
          ...(route.query ?? []).map((p) => ({
            name: p.name,
            in: 'query' as const,
            required: p.required ?? false,
            description: p.description,
            schema: { type: p.type ?? 'string' },
          })),
        ];
    const errorResponse = (description: string) => ({
      description,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    });
    const answer = responseSchemaOf(route);
    const status = String(route.operation?.http?.status ?? route.status ?? 200);
    const responses: Record<string, unknown> = {
      [status]: {
        description: status === '201' ? 'Created' : 'OK',
        content: {
          'application/json': { schema: answer ? jsonSchemaOf(answer, 'output') : { type: 'object' } },
        },
      },
      '400': errorResponse('The request was malformed'),
    };
    if (route.access !== 'public') {
      responses['401'] = errorResponse('No valid API token or session');
      responses['403'] = errorResponse('Your role may not use this operation');
    }
    if (pathParamNames(route.path).length > 0) responses['404'] = errorResponse('There is no such thing');
    const operation: Record<string, unknown> = {
      operationId:
        route.operation?.name ??
        `${route.method.toLowerCase()}${key.replace(/[{}]/g, '').replace(/(^|[/-])([a-z0-9])/g, (_, _s, ch: string) => ch.toUpperCase())}`,
      summary: route.summary,
      description: whoMay(route),
      tags: [route.tag ?? route.path.split('/')[3] ?? 'general'],
      parameters,
      responses,
      security: route.access === 'public' ? [] : [{ bearerAuth: [] }],
    };
    const body = requestSchemaOf(route);
    if (body && Object.keys(body.shape).length > 0) {
      responses['415'] = errorResponse('The request body is not application/json');
      operation.requestBody = {
        required: !body.safeParse({}).success,
        ...(route.body ? { description: route.body.description } : {}),
        content: { 'application/json': { schema: jsonSchemaOf(body, 'input') } },
      };
    } else if (route.body?.contentType === 'multipart/form-data') {
      operation.requestBody = {
        required: true,
        description: route.body.description,
        content: { 'multipart/form-data': { schema: multipartSchema(route.body.description) } },
      };
    } else if (route.body) {
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

/** A multipart upload: its fields are described in prose, its file is binary. */
function multipartSchema(description: string): Record<string, unknown> {
  return {
    type: 'object',
    description,
    properties: { file: { type: 'string', contentMediaType: 'application/octet-stream' } },
    required: ['file'],
  };
}
