/**
 * The HTTP answers a caller gets for a request the server cannot take, each with the API's
 * JSON error body: a method an address does not take (405 and `Allow`, RFC 9110 §15.5.6), a
 * body of a type the route does not take (415, §15.5.16), and header fields too large for
 * Node's HTTP server (431, RFC 6585 §5).
 */
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/config.ts';
import { startServer, type RunningServer } from '../../src/server/start-server.ts';
import type { Role } from '../../src/server/routes.ts';
import type { Store } from '../../src/store/store.ts';
import { testStores } from '../stores.ts';
import { type TestAccount, openPortalForSuite, type PortalSuite } from './portal-helpers.ts';

interface ErrorAnswer {
  error: { code: string; message: string; hint?: string };
}

/** Sends `request` as it is on a socket and answers what came back, whole. */
function rawExchange(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('utf8')));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

describe.each(testStores())('the HTTP answers on $engine', (engine) => {
  let store: Store;
  let portal: PortalSuite['portal'];
  let accounts: Record<Role, TestAccount>;
  openPortalForSuite(engine, (suite) => void ({ store, accounts, portal } = suite));

  describe('a method the address does not take', () => {
    it('answers 405 with the methods it takes in Allow, and the JSON error body, in the API', async () => {
      for (const [method, address, allowed] of [
        ['DELETE', '/api/v1/health', 'GET, HEAD'],
        ['PUT', '/api/v1/loads', 'GET, HEAD, POST'],
        ['POST', '/api/v1/loads/ld-0', 'GET, HEAD'],
        ['GET', `/api/v1/signoff/RWF/apc/2025-04/sign-off`, 'POST'],
      ] as const) {
        const response = await portal.app.request(address, {
          method,
          headers: { Authorization: `Bearer ${accounts.admin.token}` },
        });
        const label = `${method} ${address}`;
        expect(response.status, label).toBe(405);
        expect(response.headers.get('Allow'), label).toBe(allowed);
        expect(response.headers.get('Content-Type'), label).toMatch(/^application\/json/);
        const body = (await response.json()) as ErrorAnswer;
        expect(body.error.code, label).toBe('method-not-allowed');
        expect(body.error.message, label).toContain(`does not take ${method}`);
        expect(body.error.hint, label).toContain(allowed.replace(/, (\w+)$/, ' or $1'));
      }
    });

    it('answers 405 with Allow on a page too, as an error page', async () => {
      const response = await portal.app.request('/sign-in', { method: 'PUT' });
      expect(response.status).toBe(405);
      expect(response.headers.get('Allow')).toBe('GET, HEAD, POST');
      const html = await response.text();
      expect(html).toContain('<!DOCTYPE html>');
      expect(html).toContain('does not take PUT');
    });

    it('still answers 404 for an address that does not exist, whatever the method', async () => {
      for (const method of ['GET', 'POST']) {
        const response = await portal.app.request('/api/v1/nothing-here', { method });
        expect(response.status).toBe(404);
        expect(response.headers.get('Allow')).toBeNull();
        expect(((await response.json()) as ErrorAnswer).error.code).toBe('not-found');
      }
    });
  });

  describe('a body of a type the route does not take', () => {
    const admin = () => ({ Authorization: `Bearer ${accounts.admin.token}` });

    it('refuses a JSON operation’s body sent as another type with 415, naming application/json', async () => {
      for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'text/csv']) {
        for (const address of ['/api/v1/use-cases', '/api/v1/signoff/RWF/apc/2025-04/sign-off']) {
          const response = await portal.app.request(address, {
            method: 'POST',
            headers: { ...admin(), 'Content-Type': type },
            body: JSON.stringify({ note: 'checked' }),
          });
          const label = `${type} to ${address}`;
          expect(response.status, label).toBe(415);
          const body = (await response.json()) as ErrorAnswer;
          expect(body.error.code, label).toBe('unsupported-media-type');
          expect(body.error.message, label).toBe(
            `The request body is ${type}, and this operation takes application/json`,
          );
          expect(body.error.hint, label).toBe('Send the body as JSON, with Content-Type: application/json');
        }
      }
    });

    it('never repeats a Content-Type that is not a plain media type', async () => {
      for (const type of ['text/9990000018 plain', 'text/9990000018', 'text/me10 4aa']) {
        const response = await portal.app.request('/api/v1/use-cases', {
          method: 'POST',
          headers: { ...admin(), 'Content-Type': type },
          body: '{}',
        });
        expect(response.status, type).toBe(415);
        const body = (await response.json()) as ErrorAnswer;
        expect(body.error.message, type).toBe(
          'The request body is not application/json, which this operation takes',
        );
      }
    });

    it('reads JSON sent as application/json with parameters, as a +json type, or with no Content-Type', async () => {
      const bodies: [string, Record<string, string>][] = [
        ['application/json; charset=utf-8', { 'Content-Type': 'application/json; charset=utf-8' }],
        ['application/merge-patch+json', { 'Content-Type': 'application/merge-patch+json' }],
        // A byte body carries no Content-Type of its own (a string body would be text/plain).
        ['no Content-Type', {}],
      ];
      for (const [label, type] of bodies) {
        const response = await portal.app.request('/api/v1/use-cases', {
          method: 'POST',
          headers: { ...admin(), ...type },
          body: new TextEncoder().encode(JSON.stringify({ title: 'Read as JSON' })),
        });
        // Read and validated as JSON: the first field it lacks is named.
        expect(response.status, label).toBe(400);
        const body = (await response.json()) as ErrorAnswer;
        expect(body.error.code, label).toBe('usage');
        expect(body.error.message, label).not.toContain('not JSON');
      }
    });

    it('takes an operation with no body whatever the type says', async () => {
      const response = await portal.app.request('/api/v1/organisations/seed', {
        method: 'POST',
        headers: { ...admin(), 'Content-Type': 'text/plain' },
      });
      expect(response.status, await response.clone().text()).toBe(200);
    });
  });

  it('declares the 415 of every operation that takes a JSON body in the OpenAPI document', async () => {
    const doc = (await (await portal.app.request('/api/openapi.json')).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, { description: string }> }>>;
    };
    const declared = (url: string, method: string) => doc.paths[url]?.[method]?.responses['415']?.description;
    expect(declared('/api/v1/use-cases', 'post')).toBe('The request body is not application/json');
    expect(declared('/api/v1/signoff/{org}/{dataset}/{period}/sign-off', 'post')).toBe(
      'The request body is not application/json',
    );
    // An upload takes multipart, as it always has; a read and a body-less operation take none.
    expect(declared('/api/v1/loads', 'post')).toBeUndefined();
    expect(declared('/api/v1/loads', 'get')).toBeUndefined();
    expect(declared('/api/v1/organisations/seed', 'post')).toBeUndefined();
  });

  describe('header fields too large', () => {
    let server: RunningServer | undefined;
    afterAll(async () => {
      await server?.close();
    });

    it('answers 431 with the JSON error body, and a malformed request still 400', async () => {
      const dataDir = mkdtempSync(path.join(os.tmpdir(), 'kernel-http-'));
      const config = { ...resolveConfig({ data: dataDir }).config, dataDir };
      server = await startServer({ store, config, port: 0 });
      const answer = await rawExchange(
        server.port,
        `GET /api/v1/health HTTP/1.1\r\nHost: localhost\r\nX-Padding: ${'a'.repeat(32 * 1024)}\r\n\r\n`,
      );
      const [head, body] = answer.split('\r\n\r\n') as [string, string];
      expect(head).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
      expect(head).toMatch(/\r\nContent-Type: application\/json; charset=utf-8(\r\n|$)/i);
      expect(head).toMatch(/\r\nConnection: close(\r\n|$)/i);
      expect(head).toContain(`Content-Length: ${Buffer.byteLength(body)}`);
      expect(JSON.parse(body)).toEqual({
        error: {
          code: 'headers-too-large',
          message: 'The request’s header fields are larger than the 16 KiB allowed',
          hint: 'Send smaller headers: a browser can clear this site’s cookies',
        },
      });
      const malformed = await rawExchange(server.port, 'NOT HTTP\r\n\r\n');
      expect(malformed).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
      // And the server still answers well-formed requests.
      expect((await fetch(`${server.url}/api/v1/health`)).status).toBe(200);
    });
  });
});
