/**
 * An XmR chart as server-rendered SVG, in the Making Data Count look: the data line in
 * grey, the mean as a solid line, the process limits dashed, special-cause points coloured
 * (blue improvement, orange concern, purple neither) and shaped differently so colour is
 * never the only cue (WCAG 2.2 SC 1.4.1). It needs no script: every point carries an SVG
 * `<title>`, which browsers show as a tooltip, and the chart has a `<title>` and `<desc>`
 * referenced by `aria-labelledby` (SVG Accessibility API Mappings). A data table under
 * every chart carries the same figures for people who do not read charts.
 *
 * Colours are set with presentation attributes, not `style`, because the portal's Content
 * Security Policy forbids inline styles; each meets 3:1 against white (WCAG 2.2 SC 1.4.11).
 */
import type { SpcPoint, SpcResult } from './spc.ts';

/** What the chart draws: the limits and each point's value and meaning. */
export type ChartSpc = Pick<SpcResult, 'mean' | 'upperProcessLimit' | 'lowerProcessLimit'> & {
  points: readonly Pick<SpcPoint, 'value' | 'rules' | 'meaning'>[];
  /**
   * A rebased chart's periods, by point index, each with its own mean and limits; drawn in
   * place of the single mean and limits, with a marker where each new period begins.
   */
  segments?: readonly {
    start: number;
    end: number;
    mean: number | null;
    upperProcessLimit: number | null;
    lowerProcessLimit: number | null;
    /** why the period begins (a rebase's reason); none for the first */
    reason?: string;
  }[];
  /** the target, drawn as a dotted line */
  target?: number | null;
};

export interface ChartInput {
  /** unique within the page, for the title and desc ids */
  id: string;
  title: string;
  description: string;
  /** x labels, one per point ('YYYY-MM') */
  months: readonly string[];
  spc: ChartSpc;
  /** how a value is written: "12.5%", "3.1 per 1,000" */
  format: (value: number) => string;
  /** the y axis title, e.g. "Rate per 1,000 women giving birth" */
  yTitle: string;
  /** the x axis title; default "Month" */
  xTitle?: string;
}

const WIDTH = 720;
const HEIGHT = 300;
const MARGIN = { top: 16, right: 24, bottom: 60 };
const FONT_SIZE = 12;
/**
 * A generous average advance of a 12 px sans-serif character (digits and most letters in
 * Frutiger and Arial are 0.5–0.6 em): labels are measured with it, so none is clipped.
 */
const CHAR_WIDTH = 0.62 * FONT_SIZE;
/** room for the rotated y axis title, left of the labels */
const Y_TITLE_SPACE = 28;
const LABEL_GAP = 8;

/** The width a label needs at the chart's font size, in viewBox units. */
export function labelWidth(text: string): number {
  return Math.ceil(text.length * CHAR_WIDTH);
}

const COLOURS = {
  line: '#768692', // NHS mid grey
  mean: '#212b32', // NHS black
  limit: '#4c6272', // NHS dark grey
  common: '#4c6272',
  improvement: '#005eb8', // NHS blue
  concern: '#b35900', // darkened NHS orange, 4.6:1 on white
  neither: '#330072', // NHS purple
  target: '#d5281b', // NHS red, 4.5:1 on white
};

const MONTH_NAMES = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export function monthLabel(month: string): string {
  const [year, m] = month.split('-');
  return `${MONTH_NAMES[Number(m) - 1] ?? m} ${year}`;
}

export function escapeXml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

const RULE_WORDS: Record<string, string> = {
  'beyond-limit': 'beyond a process limit',
  shift: 'part of a shift',
  trend: 'part of a trend',
  'two-of-three': 'two of three near a limit',
};

function niceStep(range: number): number {
  const raw = range / 5;
  const power = 10 ** Math.floor(Math.log10(raw));
  const unit = raw / power;
  return (unit <= 1 ? 1 : unit <= 2 ? 2 : unit <= 2.5 ? 2.5 : unit <= 5 ? 5 : 10) * power;
}

/** A coordinate to one decimal place, as every chart writes them. */
export function round(n: number): string {
  return (Math.round(n * 10) / 10).toString();
}

/**
 * A point's marker, shaped and coloured by what its variation means: a square for improvement,
 * a diamond for concern, a triangle for neither, a circle for common cause. The funnel plot
 * draws its providers with it too, so both charts read alike. `title` is the marker's `<title>`.
 */
export function variationMarker(meaning: SpcPoint['meaning'], cx: number, cy: number, title: string): string {
  if (meaning === 'improvement')
    return `<rect x="${round(cx - 5)}" y="${round(cy - 5)}" width="10" height="10" fill="${COLOURS.improvement}">${title}</rect>`;
  if (meaning === 'concern')
    return `<path d="M${round(cx)},${round(cy - 7)} L${round(cx + 7)},${round(cy)} L${round(cx)},${round(cy + 7)} L${round(cx - 7)},${round(cy)} Z" fill="${COLOURS.concern}">${title}</path>`;
  if (meaning === 'neither')
    return `<path d="M${round(cx)},${round(cy - 7)} L${round(cx + 7)},${round(cy + 6)} L${round(cx - 7)},${round(cy + 6)} Z" fill="${COLOURS.neither}">${title}</path>`;
  return `<circle cx="${round(cx)}" cy="${round(cy)}" r="4" fill="${COLOURS.common}">${title}</circle>`;
}

export function spcChartSvg(input: ChartInput): string {
  const { spc, months } = input;
  const values = spc.points.map((p) => p.value);
  const numbers = [
    ...values.filter((v): v is number => v !== null),
    ...[spc.upperProcessLimit, spc.lowerProcessLimit, spc.mean, spc.target ?? null].filter(
      (v): v is number => v !== null,
    ),
    ...(spc.segments ?? []).flatMap((g) =>
      [g.upperProcessLimit, g.lowerProcessLimit, g.mean].filter((v): v is number => v !== null),
    ),
  ];
  const titleId = `${input.id}-title`;
  const descId = `${input.id}-desc`;
  const head = `<svg xmlns="http://www.w3.org/2000/svg" class="kernel-spc-chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="100%" role="img" aria-labelledby="${titleId} ${descId}" focusable="false"><title id="${titleId}">${escapeXml(input.title)}</title><desc id="${descId}">${escapeXml(input.description)}</desc>`;
  if (numbers.length === 0) {
    return `${head}<text x="${WIDTH / 2}" y="${HEIGHT / 2}" text-anchor="middle" font-size="16" fill="${COLOURS.mean}">No figures to chart for this period</text></svg>`;
  }
  let low = Math.min(0, ...numbers);
  let high = Math.max(...numbers);
  if (high === low) high = low + 1;
  const step = niceStep(high - low);
  low = Math.floor(low / step) * step;
  high = Math.ceil(high / step) * step;
  const ticks: { v: number; text: string }[] = [];
  for (let v = low; v <= high + step / 2; v += step) {
    ticks.push({ v, text: input.format(Number(v.toPrecision(12))) });
  }
  // The left margin fits the widest y label and the axis title: "0.8 per 1,000" is never clipped.
  const left = Y_TITLE_SPACE + LABEL_GAP + Math.max(...ticks.map((t) => labelWidth(t.text)));
  const MARGIN_LEFT = Math.min(left, WIDTH / 2);
  const plotW = WIDTH - MARGIN_LEFT - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (i: number): number =>
    MARGIN_LEFT + (months.length <= 1 ? plotW / 2 : (i * plotW) / (months.length - 1));
  const y = (v: number): number => MARGIN.top + plotH - ((v - low) / (high - low)) * plotH;
  const parts: string[] = [head];

  // Axes and gridlines, with the y values written out.
  for (const { v, text } of ticks) {
    const yy = round(y(v));
    parts.push(
      `<line x1="${MARGIN_LEFT}" x2="${WIDTH - MARGIN.right}" y1="${yy}" y2="${yy}" stroke="#d8dde0" stroke-width="1"/>`,
    );
    parts.push(
      `<text x="${MARGIN_LEFT - 8}" y="${yy}" dy="4" text-anchor="end" font-size="${FONT_SIZE}" fill="${COLOURS.mean}">${escapeXml(text)}</text>`,
    );
  }
  const labelEvery = Math.max(1, Math.ceil(months.length / 8));
  months.forEach((month, i) => {
    if (i % labelEvery !== 0 && i !== months.length - 1) return;
    parts.push(
      `<text x="${round(x(i))}" y="${HEIGHT - MARGIN.bottom + 20}" text-anchor="middle" font-size="12" fill="${COLOURS.mean}">${escapeXml(monthLabel(month))}</text>`,
    );
  });

  // Axis titles.
  parts.push(
    `<text class="kernel-spc-axis-title" x="${round(MARGIN_LEFT + plotW / 2)}" y="${HEIGHT - 12}" text-anchor="middle" font-size="${FONT_SIZE}" font-weight="bold" fill="${COLOURS.mean}">${escapeXml(input.xTitle ?? 'Month')}</text>`,
  );
  parts.push(
    `<text class="kernel-spc-axis-title" transform="translate(16 ${round(MARGIN.top + plotH / 2)}) rotate(-90)" text-anchor="middle" font-size="${FONT_SIZE}" font-weight="bold" fill="${COLOURS.mean}">${escapeXml(input.yTitle)}</text>`,
  );

  // Mean and process limits: across the chart, or per period of a rebased chart (each
  // period's lines span its own points, half a month either side of them).
  const hline = (
    v: number | null,
    colour: string,
    dash: string | null,
    label: string,
    x1 = MARGIN_LEFT,
    x2 = WIDTH - MARGIN.right,
  ): void => {
    if (v === null) return;
    const yy = round(y(v));
    parts.push(
      `<line x1="${round(x1)}" x2="${round(x2)}" y1="${yy}" y2="${yy}" stroke="${colour}" stroke-width="1.5"${dash ? ` stroke-dasharray="${dash}"` : ''}><title>${escapeXml(label)}</title></line>`,
    );
  };
  const half = months.length <= 1 ? plotW / 2 : plotW / (months.length - 1) / 2;
  const periods =
    spc.segments && spc.segments.length > 1
      ? spc.segments
      : [{ start: 0, end: months.length - 1, ...spc, reason: undefined }];
  for (const period of periods) {
    const x1 = period.start === 0 ? MARGIN_LEFT : x(period.start) - half;
    const x2 = period.end >= months.length - 1 ? WIDTH - MARGIN.right : x(period.end) + half;
    const from = periods.length > 1 ? ` from ${monthLabel(months[period.start] ?? '')}` : '';
    const { upperProcessLimit: upper, lowerProcessLimit: lower, mean } = period;
    hline(
      upper,
      COLOURS.limit,
      '6 4',
      `Upper process limit${from} ${upper === null ? '' : input.format(upper)}`,
      x1,
      x2,
    );
    hline(
      lower,
      COLOURS.limit,
      '6 4',
      `Lower process limit${from} ${lower === null ? '' : input.format(lower)}`,
      x1,
      x2,
    );
    hline(mean, COLOURS.mean, null, `Mean${from} ${mean === null ? '' : input.format(mean)}`, x1, x2);
    if (period.start > 0) {
      // The rebase: a vertical rule where the new period begins, its reason as its title.
      parts.push(
        `<line class="kernel-spc-rebase" x1="${round(x1)}" x2="${round(x1)}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}" stroke="${COLOURS.mean}" stroke-width="1" stroke-dasharray="2 3"><title>${escapeXml(`Rebased from ${monthLabel(months[period.start] ?? '')}${period.reason ? `: ${period.reason}` : ''}`)}</title></line>`,
      );
    }
  }
  if (spc.target !== undefined && spc.target !== null) {
    hline(spc.target, COLOURS.target, '1 3', `Target ${input.format(spc.target)}`);
  }

  // The data line, broken where a month has no value.
  let path = '';
  values.forEach((v, i) => {
    if (v === null) return;
    const previous = i > 0 ? values[i - 1] : null;
    path += `${previous === null || previous === undefined ? 'M' : 'L'}${round(x(i))},${round(y(v))} `;
  });
  if (path) parts.push(`<path d="${path.trim()}" fill="none" stroke="${COLOURS.line}" stroke-width="2"/>`);

  // Points, each marked by what its variation means.
  spc.points.forEach((point, i) => {
    if (point.value === null) return;
    const cx = x(i);
    const cy = y(point.value);
    const rules = point.rules.map((r) => RULE_WORDS[r] ?? r).join(', ');
    const label = `${monthLabel(months[i] ?? '')}: ${input.format(point.value)}${point.meaning ? ` — special cause (${point.meaning}): ${rules}` : ' — common cause'}`;
    parts.push(variationMarker(point.meaning, cx, cy, `<title>${escapeXml(label)}</title>`));
  });
  parts.push('</svg>');
  return parts.join('');
}
