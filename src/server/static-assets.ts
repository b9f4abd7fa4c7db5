import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NHSUK_DIST_DIR } from './view-engine.ts';

const NHSUK_DIR = path.join(NHSUK_DIST_DIR, 'nhsuk');
const OWN_ASSETS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'assets');

const TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/manifest+json',
};

/**
 * The NHS.UK frontend's stylesheet refers to Frutiger on assets.nhs.uk; we serve no
 * third-party resource, so those @font-face rules go and the stack falls back to Arial,
 * as the frontend's own font stack intends.
 */
function withoutRemoteFonts(css: string): string {
  return css.replace(/@font-face\{[^}]*assets\.nhs\.uk[^}]*\}/g, '');
}

interface Asset {
  body: Buffer;
  type: string;
}

const cache = new Map<string, Asset>();

/**
 * The asset at `/assets/<name>`, or undefined. Only names we know map to files: no path
 * walking. Only files that exist are cached (issue 23, H2): a name that maps to nothing is
 * answered without being kept, so no stream of made-up names can grow the cache.
 */
export function readAsset(name: string): Asset | undefined {
  const cached = cache.get(name);
  if (cached) return cached;
  const file = resolveAsset(name);
  if (!file) return undefined;
  let body: Buffer;
  try {
    body = readFileSync(file);
  } catch {
    return undefined;
  }
  if (name === 'nhsuk-frontend.min.css') body = Buffer.from(withoutRemoteFonts(body.toString('utf8')));
  const asset = { body, type: TYPES[path.extname(file)] ?? 'application/octet-stream' };
  cache.set(name, asset);
  return asset;
}

/** How many assets are cached (for the test that the cache stays bounded). */
export function cachedAssetCount(): number {
  return cache.size;
}

function resolveAsset(name: string): string | undefined {
  if (name === 'nhsuk-frontend.min.css' || name === 'nhsuk-frontend.min.js')
    return path.join(NHSUK_DIR, name);
  if (name === 'manifest.json') return path.join(NHSUK_DIR, 'assets', 'manifest.json');
  if (name === 'kernel.css') return path.join(OWN_ASSETS_DIR, 'kernel.css');
  const image = /^images\/([a-z0-9-]+\.(svg|png|ico))$/.exec(name);
  if (image) return path.join(NHSUK_DIR, 'assets', 'images', image[1] as string);
  return undefined;
}
