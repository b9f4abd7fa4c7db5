/**
 * Review R2: a feed a system pushes (`POST /api/v1/feeds`, `POST /api/v1/loads`) says why it
 * was refused, in the answer itself (a provider's token may not read the load's record), and
 * a form without its manifest, or with one that is not JSON, names the manifest.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Role } from '../../src/server/routes.ts';
import { testStores } from '../stores.ts';
import {
  openPortalForSuite,
  prepareForFeed,
  pseudonymisedFeed,
  type PortalSuite,
  type PseudonymisedFeed,
  type TestAccount,
} from './portal-helpers.ts';

describe.each(testStores())('a pushed feed on $engine', (engine) => {
  let accounts: Record<Role, TestAccount>;
  let feed: PseudonymisedFeed;
  let portal: PortalSuite['portal'];

  openPortalForSuite(
    engine,
    (suite) => void ({ accounts, portal } = suite),
    async (opened) => {
      feed = await pseudonymisedFeed(mkdtempSync(path.join(os.tmpdir(), 'kernel-push-')));
      await prepareForFeed(opened, feed);
    },
  );

  const push = (url: string, parts: [string, string | Buffer, string][], token = accounts.provider.token) => {
    const form = new FormData();
    for (const [name, content, file] of parts) form.append(name, new Blob([content]), file);
    return portal.app.request(url, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}` },
      body: form,
    });
  };

  it('answers a refused feed with its report and why, on both ways in', async () => {
    // The manifest edited after it was signed (another month), as the reviewer sent it.
    const edited = JSON.stringify({ ...JSON.parse(readFileSync(feed.manifest, 'utf8')), period: '2025-03' });
    const parts: [string, string | Buffer, string][] = [
      ['file', readFileSync(feed.file), 'apc-2025-04.csv'],
      ['manifest', edited, 'apc-2025-04.csv.manifest.json'],
    ];
    for (const [url, extra] of [
      ['/api/v1/feeds', []],
      ['/api/v1/loads', [['dataset', 'apc', '']]],
    ] as const) {
      const form = new FormData();
      for (const [name, value] of extra) form.set(name, value);
      for (const [name, content, file] of parts) form.append(name, new Blob([content]), file);
      const response = await portal.app.request(url, {
        method: 'POST',
        headers: { Authorization: `Bearer ${accounts.provider.token}` },
        body: form,
      });
      expect(response.status, url).toBe(422);
      const body = (await response.json()) as Record<string, unknown>;
      expect(body, url).toMatchObject({
        status: 'refused',
        loadId: expect.stringMatching(/^ld-/),
        error: { code: 'refused', message: expect.stringMatching(/manifest/i), hint: expect.any(String) },
      });
    }
  });

  it('names the manifest when it is missing or not JSON, and refuses two files in one field', async () => {
    const file: [string, string | Buffer, string] = ['file', readFileSync(feed.file), 'apc-2025-04.csv'];
    const missing = await push('/api/v1/feeds', [file]);
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({
      error: {
        code: 'usage',
        message: 'Select the file’s manifest (.manifest.json)',
        where: { field: 'manifest' },
      },
    });
    const notJson = await push('/api/v1/feeds', [file, ['manifest', readFileSync(feed.file), 'm.json']]);
    expect(notJson.status).toBe(422);
    expect(await notJson.json()).toMatchObject({
      error: {
        code: 'invalid-input',
        message: 'The manifest is not a JSON object',
        where: { field: 'manifest' },
      },
    });
    const twice = await push('/api/v1/feeds', [
      file,
      file,
      ['manifest', readFileSync(feed.manifest), 'apc-2025-04.csv.manifest.json'],
    ]);
    expect(twice.status).toBe(400);
    expect(await twice.json()).toMatchObject({
      error: {
        code: 'usage',
        message: 'The form carries more than one file in a field',
        where: { field: 'file' },
      },
    });
  });
});
