/**
 * The HTTP answers a caller gets for a request the server cannot take, each with the API's
 * JSON error body: a method an address does not take (405 and `Allow`, RFC 9110 §15.5.6).
 */
import { describe, expect, it } from 'vitest';
import type { Role } from '../../src/server/routes.ts';
import { openForSuite, testStores } from '../stores.ts';
import { accountsForEveryRole, portalApp, type TestAccount } from './portal-helpers.ts';

interface ErrorAnswer {
  error: { code: string; message: string; hint?: string };
}

describe.each(testStores())('the HTTP answers on $engine', (engine) => {
  let portal: ReturnType<typeof portalApp>;
  let accounts: Record<Role, TestAccount>;
  openForSuite(
    engine,
    () => undefined,
    async (s) => {
      accounts = await accountsForEveryRole(s);
      portal = portalApp(s);
    },
  );

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
});
