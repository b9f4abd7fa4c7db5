/**
 * Screenshots of the portal for docs/screenshots/: builds the demo warehouse `npm start`
 * builds (or reuses the one in --data), signs in as the demo administrator in Chromium, and
 * captures pages.
 *
 *   npx tsx scripts/screenshots.ts [--data DIR] [--people N]
 *
 * With --data naming an existing warehouse (e.g. one `kernel demo` built), it only captures.
 */
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../src/cli/main.ts';
import { resolveConfig } from '../src/config/config.ts';
import { enrolAuthenticator } from '../src/server/auth/second-factor.ts';
import { newTotpSecret, totpCode } from '../src/server/auth/totp.ts';
import { changePassword, findUserByEmail } from '../src/server/auth/user-accounts.ts';
import { createDemoUsers } from '../src/server/demo-users.ts';
import { startServer } from '../src/server/start-server.ts';
import { DUCKDB_FILE_NAME, openStore } from '../src/store/open-store.ts';
import { launchBrowser } from '../test/browser-setup.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(ROOT, 'docs', 'screenshots');
const PAGES = [
  { path: '/', file: 'home.png', height: undefined },
  // The dashboard is long (a chart and a table per measure): its top third is enough to show it.
  { path: '/dashboards/maternity', file: 'maternity-dashboard.png', height: 3200 },
  { path: '/catalogue/coverage', file: 'coverage.png', height: 2400 },
];

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function run(): Promise<void> {
  const dataDir = flag('data') ?? mkdtempSync(path.join(os.tmpdir(), 'kernel-screenshots-'));
  // Without --people, the warehouse `npm start` builds (the demo's defaults), so the
  // screenshots show what a newcomer sees. One already in --data is used as it is.
  const people = flag('people');
  if (!existsSync(path.join(dataDir, DUCKDB_FILE_NAME))) {
    const built = await main([
      'demo',
      '--no-serve',
      ...(people ? ['--people', people] : []),
      '--data',
      dataDir,
    ]);
    if (built !== 0) throw new Error(`kernel demo failed with exit code ${built}`);
  }
  const config = { ...resolveConfig({ data: dataDir }).config, dataDir };
  const store = await openStore(config);
  const accounts = await createDemoUsers(store, 'script:screenshots');
  const admin = accounts.find((a) => a.role === 'admin');
  const user = admin ? await findUserByEmail(store, admin.email) : undefined;
  if (!admin || !user) throw new Error('no demo administrator');
  const password = 'screenshots passphrase';
  await changePassword(store, user.id, admin.oneTimePassword, password, 'script:screenshots');
  // An administrator gives a second factor (issue 19): enrol one whose codes the script can make.
  const secret = newTotpSecret();
  const enrolledAt = new Date();
  await enrolAuthenticator(
    store,
    user.id,
    secret,
    totpCode(secret, enrolledAt),
    'script:screenshots',
    enrolledAt,
  );
  const server = await startServer({ store, config, port: 0 });
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ baseURL: server.url, viewport: { width: 1280, height: 900 } });
    await page.goto('/sign-in');
    await page.fill('#email', admin.email);
    await page.fill('#password', password);
    await Promise.all([
      page.waitForURL((url) => url.pathname === '/sign-in/two-factor'),
      page.click('form[action="/sign-in"] button'),
    ]);
    await page.fill('#code', totpCode(secret, new Date(Date.now() + 30_000)));
    await Promise.all([
      page.waitForURL((url) => url.pathname === '/'),
      page.click('form[action="/sign-in/two-factor"] button'),
    ]);
    mkdirSync(OUT, { recursive: true });
    for (const shot of PAGES) {
      await page.goto(shot.path);
      await page.screenshot({
        path: path.join(OUT, shot.file),
        fullPage: true,
        ...(shot.height ? { clip: { x: 0, y: 0, width: 1280, height: shot.height } } : {}),
      });
      process.stdout.write(`wrote docs/screenshots/${shot.file}\n`);
    }
  } finally {
    await browser.close();
    await server.close();
    await store.close();
  }
}

await run();
