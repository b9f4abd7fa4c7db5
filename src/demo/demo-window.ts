/**
 * Fifteen months: enough points for the maternity dashboard's process limits, few enough
 * files (about 65 a month across the organisations) for `npm start` to be serving within
 * two minutes on a 2-core machine.
 */
export const DEMO_WINDOW = { from: '2020-01', to: '2021-03' } as const;

/**
 * The demo's population. At 100,000 people most of the maternity dashboard's whole-system
 * monthly values clear disclosure control (52% of the 22 measures' values, 5 December 2026;
 * 60% of the 14 measures before the LMNS measures came, against 3% at 5,000 and 46% at
 * 40,000: `bench/demo`), so it shows real charts, and `npm start` still builds in about 75
 * seconds. Rates of rare events (PPH of 1,500 ml, low Apgar, term admissions) stay mostly
 * suppressed at any size a laptop builds: their monthly numerators are under 8 even for the
 * whole system, which is why rare events are compared on funnel plots over the window.
 */
export const DEMO_PEOPLE = 100_000;

/**
 * A known change in the demo world, so the dashboard has a real one to show: from September
 * 2020 half of labours are induced (about a third before), as a new induction pathway would
 * do. The demo records it as a rebase of the induction chart (demo-charts.ts).
 */
export const DEMO_CHANGES = [{ kind: 'induction-of-labour', from: '2020-09', share: 0.5 }] as const;
