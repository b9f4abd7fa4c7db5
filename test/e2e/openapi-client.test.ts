/**
 * Issue 12: the OpenAPI document is a contract a client can be generated from. It passes an
 * independent validator (@readme/openapi-parser) with a real schema for every request and
 * response body; openapi-typescript generates types from the running server's document; a
 * client written against them type-checks (and a wrong call does not), then runs against
 * the server.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { validate } from '@readme/openapi-parser';
import openapiTS, { astToString } from 'openapi-typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/config.ts';
import { seedOrganisations } from '../../src/governance/organisations.ts';
import { startServer, type RunningServer } from '../../src/server/start-server.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { ROOT } from '../cli.ts';
import { accountsForEveryRole } from './portal-helpers.ts';

type Document = {
  paths: Record<
    string,
    Record<
      string,
      { requestBody?: { content: Record<string, { schema: object }> } } & {
        responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }>;
      }
    >
  >;
};

/** A schema that says nothing but "an object" is no contract. */
const saysSomething = (schema: Record<string, unknown> | undefined): boolean =>
  schema !== undefined && Object.keys(schema).some((k) => !['type', 'description'].includes(k));

const CLIENT = `
import type { paths } from './api.ts';

type Post<P extends keyof paths> = paths[P] extends { post: { requestBody?: { content: { 'application/json': infer B } } } } ? B : never;
type Answer<P extends keyof paths, M extends 'get' | 'post', S extends number> =
  paths[P] extends { [K in M]: { responses: { [C in S]: { content: { 'application/json': infer A } } } } } ? A : never;

export async function call<P extends keyof paths, M extends 'get' | 'post', S extends number = 200>(
  base: string, token: string, method: M, path: P, init: { params?: Record<string, string>; body?: M extends 'post' ? Post<P> : never; status?: S } = {},
): Promise<Answer<P, M, S>> {
  const url = String(path).replace(/\\{(\\w+)\\}/g, (_, name: string) => encodeURIComponent(init.params?.[name] ?? ''));
  const response = await fetch(base + url, {
    method: method.toUpperCase(),
    headers: { Authorization: 'Bearer ' + token, 'Content-Type': 'application/json' },
    ...(init.body ? { body: JSON.stringify(init.body) } : {}),
  });
  if (!response.ok) throw new Error(method + ' ' + url + ' answered ' + response.status + ': ' + (await response.text()));
  return (await response.json()) as Answer<P, M, S>;
}

export async function walkThrough(base: string, token: string): Promise<string[]> {
  const proposed = await call(base, token, 'post', '/api/v1/use-cases', {
    status: 201,
    body: {
      title: 'Typed client',
      sponsor: 'QKS',
      purpose: 'planning',
      legalBasis: 'UK GDPR Art 6(1)(e)',
      datasets: ['apc'],
      controllers: ['RWF'],
      start: '2022-01-01',
      end: '2099-12-31',
    },
  });
  // The generated types know the answer's fields: a typo here would not compile.
  const awaiting: string[] = proposed.awaiting;
  const approved = await call(base, token, 'post', '/api/v1/use-cases/{id}/approve', {
    params: { id: proposed.id },
    body: { org: 'RWF' },
  });
  const register = await call(base, token, 'get', '/api/v1/organisations');
  const kent = register.organisations.find((o) => o.code === 'E10000016');
  return [proposed.state, awaiting.join(','), approved.state, kent?.type ?? 'missing'];
}

export function wrongCalls(base: string, token: string): void {
  void call(base, token, 'post', '/api/v1/use-cases', {
    status: 201,
    // @ts-expect-error "marketing" is not a purpose: the enum is in the document
    body: { title: 't', sponsor: 'QKS', purpose: 'marketing', legalBasis: 'x', datasets: ['apc'], controllers: ['RWF'], start: '2022-01-01', end: '2022-12-31' },
  });
  // @ts-expect-error a use case has no "owner" field
  void call(base, token, 'get', '/api/v1/use-cases/{id}', { params: { id: 'UC-001' } }).then((u) => u.owner);
}
`;

describe('the OpenAPI document', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-openapi-'));
  const dataDir = path.join(dir, 'warehouse');
  const config = { ...resolveConfig({ data: dataDir }).config, dataDir, store: 'duckdb' };
  let store: Store;
  let server: RunningServer;
  let token: string;
  let document: Document;

  beforeAll(async () => {
    store = await openStore(config);
    await seedOrganisations(store, 'test');
    token = (await accountsForEveryRole(store, 'RWF')).admin.token;
    server = await startServer({ store, config, port: 0 });
    document = (await (await fetch(`${server.url}/api/openapi.json`)).json()) as Document;
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes an independent validator, with a schema for every request and response body', async () => {
    const result = await validate(structuredClone(document) as never);
    expect(result.valid ? [] : result.errors).toEqual([]);
    const vague: string[] = [];
    for (const [url, methods] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        const ok = Object.entries(operation.responses).find(([status]) => status.startsWith('2'));
        if (!saysSomething(ok?.[1].content?.['application/json']?.schema))
          vague.push(`${method} ${url} answer`);
        const body = operation.requestBody?.content;
        if (body && !Object.values(body).every((c) => saysSomething(c.schema as Record<string, unknown>)))
          vague.push(`${method} ${url} body`);
      }
    }
    expect(vague).toEqual([]);
  });

  it('generates a typed client that type-checks, refuses wrong calls, and runs against the server', async () => {
    writeFileSync(path.join(dir, 'api.ts'), astToString(await openapiTS(document as never)));
    writeFileSync(path.join(dir, 'client.ts'), CLIENT);
    writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          allowImportingTsExtensions: true,
          lib: ['ES2022', 'DOM'],
          types: [],
          skipLibCheck: true,
        },
        files: ['client.ts'],
      }),
    );
    // Unused @ts-expect-error lines fail too: the wrong calls must really be wrong.
    const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    execFileSync(process.execPath, [tsc, '-p', path.join(dir, 'tsconfig.json')], { stdio: 'pipe' });

    const client = (await import(path.join(dir, 'client.ts'))) as {
      walkThrough(base: string, token: string): Promise<string[]>;
    };
    expect(await client.walkThrough(server.url, token)).toEqual([
      'proposed',
      'RWF',
      'approved',
      'local-authority',
    ]);
  }, 60_000);
});
