/**
 * Fifteen months: enough points for the maternity dashboard's process limits, few enough
 * files (about 65 a month across the organisations) for `npm start` to be serving within
 * two minutes on a 2-core machine.
 */
export const DEMO_WINDOW = { from: '2020-01', to: '2021-03' } as const;
