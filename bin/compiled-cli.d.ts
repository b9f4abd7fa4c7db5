import type { Plugin } from 'esbuild';

/** Types for compiled-cli.js, for the tests that import it. */
export declare const CACHE: string;
export declare function sourceStamp(root?: string): string;
export declare function compiledCli(): Promise<string | null>;
export declare const ownUrlPlugin: Plugin;
