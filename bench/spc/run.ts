/**
 * bench/spc: how often each maternity measure's chart raises a false alarm on a stable
 * process, and how fast it finds a real change (issue 17), through the dashboard's own
 * series code and funnel plot (src/analytics/spc-simulation.ts).
 *
 *   npx tsx bench/spc/run.ts [--charts 10000]
 *
 * Prints, per measure: the share of stable 24-month XmR charts with any special cause,
 * against the rules' design of 23.4%; for rare events, the share of stable funnels of four
 * providers with one beyond a 99.8% limit, against 0.8%; then detection of a 3-sigma shift
 * within 7 months and of a provider at twice a rare event's rate. Arithmetic only: the load
 * average is printed for the record.
 */
import os from 'node:os';
import { MATERNITY_MEASURES } from '../../src/analytics/maternity-measures.ts';
import {
  FUNNEL_DESIGN_RATE,
  funnelAlarmRate,
  XMR_DESIGN_RATE,
  xmrAlarmRate,
} from '../../src/analytics/spc-simulation.ts';
import { benchArgs } from '../bench-args.ts';

const values = benchArgs('bench/spc/run.ts', { options: { charts: { type: 'string', default: '10000' } } });
const charts = Number(values.charts);
const pct = (v: number): string => `${(v * 100).toFixed(1)}%`;

console.log(
  `load average ${os
    .loadavg()
    .map((v) => v.toFixed(2))
    .join(' ')}; ${charts} simulated charts per measure`,
);
console.log(`XmR, stable 24 months (design ${pct(XMR_DESIGN_RATE)}):`);
for (const [i, m] of MATERNITY_MEASURES.entries()) {
  if (m.chart !== 'xmr') continue;
  console.log(`  ${m.id.padEnd(30)} ${pct(xmrAlarmRate(m, charts, 1000 + i))}`);
}
console.log(`Funnel, four stable providers over 24 months (design ${pct(FUNNEL_DESIGN_RATE)}):`);
for (const [i, m] of MATERNITY_MEASURES.entries()) {
  if (m.chart !== 'funnel') continue;
  console.log(`  ${m.id.padEnd(30)} ${pct(funnelAlarmRate(m, charts, 2000 + i))}`);
}
const pph = MATERNITY_MEASURES.find((m) => m.id === 'pph-1500')!;
const stillbirths = MATERNITY_MEASURES.find((m) => m.id === 'stillbirth-rate')!;
console.log(
  `Detection: a 3-sigma shift flagged within 7 months on ${pct(xmrAlarmRate(pph, charts, 7, { at: 17, by: 0.5 }))} of charts; a provider at twice the stillbirth rate flagged on ${pct(funnelAlarmRate(stillbirths, charts, 5, 2))} of funnels`,
);
