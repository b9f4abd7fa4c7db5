// The CLI compiled to plain JavaScript, kept beside the dependencies and rebuilt whenever a
// source file changes. Running the TypeScript through tsx costs every command about half a
// second before it starts (its loader hooks and a transform per module); a compiled copy
// starts in a fraction of that. Anything amiss here falls back to tsx: a checkout still
// needs no build step, and a stale copy is never run (it is found by the sources' stamp).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE = path.join(ROOT, 'src');
export const CACHE = path.join(ROOT, 'node_modules', '.cache', 'kernel-cli');
/** Compiled copies of older sources are removed once this old (a command may be using one). */
const STALE_MS = 24 * 60 * 60 * 1000;

/** Every source file's path, size and modification time, with the build settings, as one stamp. */
export function sourceStamp(root = ROOT) {
  const hash = createHash('sha256');
  const source = path.join(root, 'src');
  const files = readdirSync(source, { recursive: true })
    .map(String)
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'))
    .sort();
  for (const file of files) {
    const stat = statSync(path.join(source, file));
    hash.update(`${file}\0${stat.size}\0${stat.mtimeMs}\n`);
  }
  for (const file of ['package.json', 'tsconfig.json']) hash.update(readFileSync(path.join(root, file)));
  return hash.digest('hex').slice(0, 20);
}

async function compile(outdir) {
  const esbuild = await import('esbuild');
  await esbuild.build({
    entryPoints: [path.join(SOURCE, 'cli', 'main.ts')],
    outdir,
    bundle: true,
    // Modules the CLI imports only when a command needs them stay in their own files.
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    sourcemap: true,
    logLevel: 'silent',
    plugins: [ownUrlPlugin],
  });
}

/**
 * Modules find their templates, migrations and data beside them: in a compiled copy (this
 * CLI's, the load's scan worker's) each keeps its own URL, as when it runs from source.
 */
export const ownUrlPlugin = {
  name: 'own-url',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, (args) => ({
      contents: readFileSync(args.path, 'utf8').replaceAll(
        'import.meta.url',
        JSON.stringify(pathToFileURL(args.path).href),
      ),
      loader: 'ts',
    }));
  },
};

function removeStale(keep) {
  for (const name of readdirSync(CACHE)) {
    const dir = path.join(CACHE, name);
    if (name !== keep && Date.now() - statSync(dir).mtimeMs > STALE_MS) {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

/** The compiled CLI's entry module as a URL, compiled first if the sources changed; or null. */
export async function compiledCli() {
  if (process.env.KERNEL_FROM_SOURCE) return null;
  try {
    const stamp = sourceStamp();
    const dir = path.join(CACHE, stamp);
    const entry = path.join(dir, 'main.js');
    if (!existsSync(entry)) {
      // Built aside and renamed into place, so a command started meanwhile never sees half.
      mkdirSync(CACHE, { recursive: true });
      const building = `${dir}.${process.pid}.tmp`;
      try {
        await compile(building);
        renameSync(building, dir);
      } catch (error) {
        rmSync(building, { recursive: true, force: true });
        if (!existsSync(entry)) throw error;
      }
      removeStale(stamp);
    }
    process.setSourceMapsEnabled(true);
    return pathToFileURL(entry).href;
  } catch {
    return null;
  }
}
