import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** Kernel's version, from package.json: what `kernel --version` prints and manifests record. */
export function kernelVersion(): string {
  if (cached === undefined) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
        version?: string;
      };
      cached = pkg.version ?? 'unknown';
    } catch {
      cached = 'unknown';
    }
  }
  return cached;
}
