/**
 * A funnel plot as server-rendered SVG, in the same look as the XmR chart (spc-chart-svg.ts):
 * volume across (a log scale, so small and large providers both show), the rate up; the
 * pooled rate as a solid line, the 95% limits dashed and the 99.8% limits solid grey;
 * providers as labelled points, shaped and coloured by what they show (a blue square for
 * improvement, an orange diamond for concern, a purple triangle for neither, a grey circle
 * within the limits). Every point carries a `<title>`, and the chart a `<title>` and
 * `<desc>` that say in words where each provider lies. A table beside it holds the figures.
 */
import { escapeXml, round, variationMarker } from './spc-chart-svg.ts';
import type { FunnelBand, FunnelLimits } from './funnel.ts';

export interface FunnelChartInput {
  id: string;
  title: string;
  /** the pooled rate as shown, or null with nothing to draw */
  target: number | null;
  curve: readonly (FunnelLimits & { denominator: number })[];
  /** the providers to place (suppressed ones are left out by the caller) */
  points: readonly {
    id: string;
    denominator: number;
    value: number;
    band: FunnelBand;
    meaning: 'improvement' | 'concern' | 'neither' | null;
  }[];
  format: (value: number) => string;
  xTitle: string;
  yTitle: string;
}

const WIDTH = 720;
const HEIGHT = 320;
const MARGIN = { top: 16, right: 24, bottom: 60, left: 96 };
const COLOURS = {
  text: '#212b32',
  grid: '#d8dde0',
  limit: '#4c6272',
};

const BAND_WORDS: Record<FunnelBand, string> = {
  within: 'within the 95% limits',
  'above-95': 'above the 95% limit, within the 99.8%',
  'below-95': 'below the 95% limit, within the 99.8%',
  'above-99.8': 'above the 99.8% limit (special cause)',
  'below-99.8': 'below the 99.8% limit (special cause)',
};

export function funnelChartSvg(input: FunnelChartInput): string {
  const titleId = `${input.id}-title`;
  const descId = `${input.id}-desc`;
  const words = input.points.map(
    (p) =>
      `${p.id}: ${input.format(p.value)} from ${p.denominator.toLocaleString('en-GB')}, ${BAND_WORDS[p.band]}`,
  );
  const description =
    input.target === null
      ? 'No figures for this period.'
      : `Funnel plot. Pooled rate ${input.format(input.target)}. ${words.length ? `${words.join('; ')}.` : 'No provider can be shown without disclosing small numbers.'}`;
  const head = `<svg xmlns="http://www.w3.org/2000/svg" class="kernel-funnel-chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="100%" role="img" aria-labelledby="${titleId} ${descId}" focusable="false"><title id="${titleId}">${escapeXml(input.title)}</title><desc id="${descId}">${escapeXml(description)}</desc>`;
  if (input.target === null || input.curve.length === 0) {
    return `${head}<text x="${WIDTH / 2}" y="${HEIGHT / 2}" text-anchor="middle" font-size="16" fill="${COLOURS.text}">No figures to chart for this period</text></svg>`;
  }
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const maxN = Math.max(
    ...input.curve.map((c) => c.denominator),
    ...input.points.map((p) => p.denominator),
    10,
  );
  const logMax = Math.log10(maxN);
  const x = (n: number): number => MARGIN.left + (Math.log10(Math.max(1, n)) / logMax) * plotW;
  // The rate axis shows the limits where volume is ten or more: below it they span everything.
  const visible = input.curve.filter((c) => c.denominator >= Math.min(10, maxN / 10));
  const high =
    Math.max(input.target * 2, ...visible.map((c) => c.upper998), ...input.points.map((p) => p.value)) || 1;
  const y = (v: number): number => MARGIN.top + plotH - (Math.min(v, high) / high) * plotH;
  const parts = [head];

  for (let i = 0; i <= 4; i++) {
    const v = (high * i) / 4;
    parts.push(
      `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${round(y(v))}" y2="${round(y(v))}" stroke="${COLOURS.grid}" stroke-width="1"/>`,
      `<text x="${MARGIN.left - 8}" y="${round(y(v))}" dy="4" text-anchor="end" font-size="12" fill="${COLOURS.text}">${escapeXml(input.format(v))}</text>`,
    );
  }
  for (let power = 0; 10 ** power <= maxN; power++) {
    parts.push(
      `<text x="${round(x(10 ** power))}" y="${HEIGHT - MARGIN.bottom + 20}" text-anchor="middle" font-size="12" fill="${COLOURS.text}">${(10 ** power).toLocaleString('en-GB')}</text>`,
    );
  }
  parts.push(
    `<text x="${round(MARGIN.left + plotW / 2)}" y="${HEIGHT - 12}" text-anchor="middle" font-size="12" font-weight="bold" fill="${COLOURS.text}">${escapeXml(input.xTitle)}</text>`,
    `<text transform="translate(16 ${round(MARGIN.top + plotH / 2)}) rotate(-90)" text-anchor="middle" font-size="12" font-weight="bold" fill="${COLOURS.text}">${escapeXml(input.yTitle)}</text>`,
  );

  const line = (pick: (c: FunnelLimits) => number, dash: string | null, label: string): void => {
    const d = input.curve
      .map((c, i) => `${i === 0 ? 'M' : 'L'}${round(x(c.denominator))},${round(y(pick(c)))}`)
      .join(' ');
    parts.push(
      `<path d="${d}" fill="none" stroke="${COLOURS.limit}" stroke-width="1.5"${dash ? ` stroke-dasharray="${dash}"` : ''}><title>${escapeXml(label)}</title></path>`,
    );
  };
  line((c) => c.upper998, null, '99.8% upper limit');
  line((c) => c.lower998, null, '99.8% lower limit');
  line((c) => c.upper95, '6 4', '95% upper limit');
  line((c) => c.lower95, '6 4', '95% lower limit');
  parts.push(
    `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${round(y(input.target))}" y2="${round(y(input.target))}" stroke="${COLOURS.text}" stroke-width="1.5"><title>${escapeXml(`Pooled rate ${input.format(input.target)}`)}</title></line>`,
  );

  for (const [i, p] of input.points.entries()) {
    const cx = x(p.denominator);
    const cy = y(p.value);
    parts.push(variationMarker(p.meaning, cx, cy, `<title>${escapeXml(words[i] ?? p.id)}</title>`));
    parts.push(
      `<text x="${round(cx + 8)}" y="${round(cy - 6)}" font-size="12" fill="${COLOURS.text}">${escapeXml(p.id)}</text>`,
    );
  }
  parts.push('</svg>');
  return parts.join('');
}
