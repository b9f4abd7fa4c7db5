import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.KERNEL_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Debian's Chromium, installed if missing (`apt-get install -y chromium`, as root) so the
 * browser tests run on a fresh machine; playwright-core brings no browser of its own.
 */
export function ensureChromium(): string {
  if (existsSync(CHROMIUM_PATH)) return CHROMIUM_PATH;
  const asRoot = process.getuid?.() === 0 ? [] : ['sudo', '-n'];
  const run = (argv: string[]) => execFileSync(argv[0] as string, argv.slice(1), { stdio: 'inherit' });
  run([...asRoot, 'apt-get', 'update']);
  run([...asRoot, 'apt-get', 'install', '-y', 'chromium']);
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`Chromium is still missing at ${CHROMIUM_PATH}`);
  return CHROMIUM_PATH;
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: ensureChromium(),
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** WCAG 2.0, 2.1 and 2.2, levels A and AA: the tags axe-core files its rules under. */
export const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa'];

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/**
 * Runs axe-core on the page as it stands. It is evaluated through the DevTools protocol,
 * not added as a <script>, so the page's CSP (which would rightly block it) stays on.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  if (!(await page.evaluate("typeof axe === 'object'"))) await page.evaluate(AXE_SOURCE);
  // A string, evaluated in the page: this file is type-checked without the DOM library.
  return page.evaluate(
    `axe.run(document, { runOnly: { type: 'tag', values: ${JSON.stringify(WCAG_TAGS)} } }).then((r) =>
      r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) })))`,
  ) as Promise<AxeViolation[]>;
}
