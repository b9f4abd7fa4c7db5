/**
 * The sum of values with `places` decimal places, added in whole units of the last place: the
 * rows of a GROUP BY come in no fixed order, and a sum of doubles depends on the order.
 */
export function exactSum(values: readonly number[], places: number): number {
  const scale = 10 ** places;
  return values.reduce((n, v) => n + Math.round(v * scale), 0) / scale;
}
