/**
 * Issue 23, H2: request bodies are bounded before they are read whole, and uploads stream
 * to disk. The bodies here are streams that count what the server pulls from them, so a
 * test fails if the server reads a body it should have refused.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { listLoads } from '../../src/ingest/load-history.ts';
import type { Role } from '../../src/server/routes.ts';
import { cachedAssetCount } from '../../src/server/static-assets.ts';
import { createApiToken } from '../../src/server/auth/api-tokens.ts';
import { addUser, changePassword } from '../../src/server/auth/user-accounts.ts';
import type { Store } from '../../src/store/store.ts';
import { testStores } from '../stores.ts';
import {
  openPortalForSuite,
  portalApp,
  PASSWORD,
  prepareForFeed,
  pseudonymisedFeed,
  type PortalSuite,
  type PseudonymisedFeed,
  type TestAccount,
} from './portal-helpers.ts';

/** A body of `total` bytes of `fill`, made as it is read; `pulled()` says how much was read. */
function countedBody(total: number, fill = 'a'): { body: ReadableStream<Uint8Array>; pulled: () => number } {
  const chunk = new TextEncoder().encode(fill.repeat(64 * 1024));
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= total) return controller.close();
      sent += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
  return { body, pulled: () => sent };
}

const uploadsLeft = () => readdirSync(os.tmpdir()).filter((n) => n.startsWith('kernel-upload-')).length;

describe.each(testStores())('request bodies on $engine (issue 23, H2)', (engine) => {
  let store: Store;
  let accounts: Record<Role, TestAccount>;
  let feed: PseudonymisedFeed;
  let portal: PortalSuite['portal'];

  openPortalForSuite(
    engine,
    (suite) => {
      ({ store, accounts, portal } = suite);
      portal.deps.config.uploadLimitMb = 1;
    },
    async (opened) => {
      feed = await pseudonymisedFeed(mkdtempSync(path.join(os.tmpdir(), 'kernel-limits-')));
      await prepareForFeed(opened, feed);
    },
  );

  it('refuses a 300 MB sign-in form after reading a fraction of it, without signing in', async () => {
    const { body, pulled } = countedBody(300 * 1024 * 1024);
    const response = await portal.app.request('/sign-in', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(413);
    expect(await response.text()).toContain('larger than the 256 KiB allowed');
    expect(pulled()).toBeLessThan(2 * 1024 * 1024);
  });

  it('refuses at once a body whose Content-Length is over the limit, reading none of it', async () => {
    const { body, pulled } = countedBody(8 * 1024 * 1024);
    const response = await portal.app.request('/api/v1/loads', {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${accounts.admin.token}`,
        'Content-Type': 'multipart/form-data; boundary=x',
        'Content-Length': String(8 * 1024 * 1024),
      },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ error: { code: 'too-large' } });
    expect(pulled()).toBeLessThanOrEqual(64 * 1024);
  });

  it('refuses a multipart body with no boundary as a form it cannot read, on a page and in the API', async () => {
    for (const type of ['multipart/form-data', 'multipart/form-data; boundary=']) {
      const page = await portal.app.request('/sign-in', {
        method: 'POST',
        headers: { 'Content-Type': type },
        body: 'abc',
      });
      expect(page.status).toBe(400);
      const html = await page.text();
      expect(html).toContain('The upload is not a valid form');
      expect(html).toContain('<!DOCTYPE html>');
      for (const api of ['/api/v1/loads', '/api/v1/feeds']) {
        const response = await portal.app.request(api, {
          method: 'POST',
          headers: { Authorization: `Bearer ${accounts.admin.token}`, 'Content-Type': type },
          body: 'abc',
        });
        expect(response.status, api).toBe(400);
        expect(await response.json()).toMatchObject({
          error: { message: expect.stringContaining('The upload is not a valid form') },
        });
      }
    }
  });

  it('loads a file uploaded through the API, streamed to disk and removed afterwards', async () => {
    const before = uploadsLeft();
    const form = new FormData();
    form.set('dataset', 'apc');
    form.set('org', 'RWF');
    form.set('file', new Blob([readFileSync(feed.file)]), 'apc-2025-04.csv');
    form.set('manifest', new Blob([readFileSync(feed.manifest)]), 'apc-2025-04.csv.manifest.json');
    const response = await portal.app.request('/api/v1/loads', {
      method: 'POST',
      headers: { Authorization: `Bearer ${accounts.admin.token}` },
      body: form,
    });
    expect(response.status, await response.clone().text()).toBe(200);
    expect(await response.json()).toMatchObject({
      status: 'loaded',
      rowsRead: 30,
      org: 'RWF',
      dataset: 'apc',
    });
    expect(uploadsLeft()).toBe(before);
  });

  it('takes a feed a system pushes, whose manifest says whose it is, and only with that organisation’s token (issue 16)', async () => {
    const push = (token: string) => {
      const form = new FormData();
      form.set('file', new Blob([readFileSync(feed.file)]), 'apc-2025-04.csv');
      form.set('manifest', new Blob([readFileSync(feed.manifest)]), 'apc-2025-04.csv.manifest.json');
      return portal.app.request('/api/v1/feeds', {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}` },
        body: form,
      });
    };
    const { user } = await addUser(
      store,
      { email: 'bi@rvv.test', role: 'provider', org: 'RVV', password: `${PASSWORD} 0` },
      'test',
    );
    await changePassword(store, user.id, `${PASSWORD} 0`, PASSWORD, 'test');
    const { token: rvv } = await createApiToken(store, 'bi@rvv.test', 'test');
    const other = await push(rvv);
    expect(other.status).toBe(403);
    expect(((await other.json()) as { error: { message: string } }).error.message).toBe(
      "This token sends RVV's feeds, and the manifest is RWF's",
    );
    // RWF's own token: the dataset and organisation come from the manifest (the file was
    // loaded above, so this push is a duplicate of it).
    const own = await push(accounts.provider.token);
    expect(own.status).toBe(200);
    expect(await own.json()).toMatchObject({ status: 'duplicate', org: 'RWF', dataset: 'apc' });
  });

  it('refuses an upload over the configured limit while it streams, loading nothing and leaving nothing', async () => {
    const before = uploadsLeft();
    const loads = (await listLoads(store)).length;
    const form = new FormData();
    form.set('dataset', 'apc');
    form.set('file', new Blob([new Uint8Array(3 * 1024 * 1024)]), 'big.csv');
    form.set('manifest', new Blob([readFileSync(feed.manifest)]), 'big.csv.manifest.json');
    // Sent as a stream with no Content-Length, so only the streaming limit can stop it.
    const encoded = new Response(form);
    const response = await portal.app.request('/api/v1/loads', {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${accounts.admin.token}`,
        'Content-Type': encoded.headers.get('Content-Type') as string,
      },
      body: encoded.body,
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({
      error: { code: 'too-large', message: 'The request is larger than the 1 MiB allowed' },
    });
    expect((await listLoads(store)).length).toBe(loads);
    expect(uploadsLeft()).toBe(before);
  });
});

describe('the static asset cache (issue 23, H2)', () => {
  it('keeps only assets that exist, however many made-up names are asked for', async () => {
    const store = await testStores()[0]!.open();
    const { app } = portalApp(store);
    expect((await app.request('/assets/kernel.css')).status).toBe(200);
    const known = cachedAssetCount();
    for (let i = 0; i < 2000; i += 1) {
      const name = i % 2 ? `images/made-up-${i}.png` : `nothing-${i}.css`;
      expect((await app.request(`/assets/${name}`)).status).toBe(404);
    }
    expect(cachedAssetCount()).toBe(known);
    await store.close();
  });
});
