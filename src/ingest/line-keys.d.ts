/** Types for line-keys.js. */
export declare function lineKeys(
  file: string,
  start: number,
  end: number,
  delimiter: string,
): { lines: Uint32Array | Float64Array; keys: Uint32Array; count: number; untidy: number; oddQuotes: number };
export declare function linesWithKeys(
  keyed: { lines: Uint32Array | Float64Array; keys: Uint32Array; count: number },
  shared: Set<number>,
): number[];
