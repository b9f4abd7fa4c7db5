/**
 * Every module of the KID loads whichever is imported first: a cycle among them (person-model.ts
 * → person-spine.ts → area-summary.ts → person-model.ts) once left a constant reading another
 * module's binding before it was made, so a script that began with person-model.ts failed.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it, vi } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));
const modules = readdirSync(here).filter((f) => f.endsWith('.ts') && !f.includes('.test.'));

it.each(modules)('loads with %s imported first', async (file) => {
  vi.resetModules();
  await expect(import(path.join(here, file))).resolves.toBeDefined();
});
