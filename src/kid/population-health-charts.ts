/**
 * The population health dashboard's charts as server-rendered SVG, in the look of the
 * maternity charts (spc-chart-svg.ts): a population pyramid, horizontal bars, lines by IMD
 * quintile and stacked bars of cost by setting. Each has a `<title>` and a `<desc>` saying in
 * words what it shows; a suppressed figure (`*`) is drawn as no bar, never as zero, and the
 * data table under every chart holds each figure as published.
 */
import { escapeXml } from '../analytics/spc-chart-svg.ts';

const TEXT = '#212b32';
const GRID = '#d8dde0';
const BLUE = '#005eb8';
const DARK_BLUE = '#003087';
/** Distinguishable colours from the NHS identity palette, darkest first (IMD quintile 1 most deprived). */
export const SERIES_COLOURS = ['#7c2855', '#d5281b', '#ed8b00', '#007f3b', '#005eb8', '#330072', '#4c6272'];

const r1 = (n: number): string => (Math.round(n * 10) / 10).toString();
type Figure = number | '*' | null;
const num = (v: Figure): number | null => (typeof v === 'number' ? v : null);

function head(
  id: string,
  title: string,
  description: string,
  width: number,
  height: number,
  css: string,
): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" class="${css}" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-labelledby="${id}-title ${id}-desc" focusable="false"><title id="${id}-title">${escapeXml(title)}</title><desc id="${id}-desc">${escapeXml(description)}</desc>`;
}

function niceMax(max: number): number {
  if (max <= 0) return 1;
  const step = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * step >= max) return m * step;
  return 10 * step;
}

/** A bar chart's value axis, 0 at `from` to `max` at `to`, and its title; it closes the SVG. */
function valueAxisAndEnd(axis: {
  from: number;
  to: number;
  y: number;
  max: number;
  title: string;
}): string[] {
  const { from, to, y, max } = axis;
  return [
    `<line x1="${from}" x2="${to}" y1="${y}" y2="${y}" stroke="${GRID}"/>`,
    `<text x="${from}" y="${y + 14}" text-anchor="middle" font-size="11" fill="${TEXT}">0</text>`,
    `<text x="${to}" y="${y + 14}" text-anchor="middle" font-size="11" fill="${TEXT}">${max.toLocaleString('en-GB')}</text>`,
    `<text x="${(from + to) / 2}" y="${y + 32}" text-anchor="middle" font-size="12" fill="${TEXT}">${escapeXml(axis.title)}</text></svg>`,
  ];
}

/** Males to the left, females to the right, youngest band at the bottom. */
export function pyramidSvg(input: {
  id: string;
  title: string;
  description: string;
  rows: readonly { band: string; female: Figure; male: Figure }[];
}): string {
  const width = 720;
  const rowH = 16;
  const top = 28;
  const height = top + input.rows.length * rowH + 40;
  const mid = width / 2;
  const labelW = 56;
  const half = mid - labelW / 2 - 16;
  const max = niceMax(Math.max(1, ...input.rows.flatMap((r) => [num(r.female) ?? 0, num(r.male) ?? 0])));
  const scale = (v: number): number => (v / max) * half;
  const parts = [head(input.id, input.title, input.description, width, height, 'kernel-kid-chart')];
  parts.push(
    `<text x="${mid - labelW / 2 - 8}" y="18" text-anchor="end" font-size="14" fill="${TEXT}">Male</text>`,
    `<text x="${mid + labelW / 2 + 8}" y="18" font-size="14" fill="${TEXT}">Female</text>`,
  );
  [...input.rows].reverse().forEach((r, i) => {
    const y = top + i * rowH;
    parts.push(
      `<text x="${mid}" y="${y + rowH - 4}" text-anchor="middle" font-size="11" fill="${TEXT}">${escapeXml(r.band)}</text>`,
    );
    const male = num(r.male);
    const female = num(r.female);
    if (male !== null && male > 0)
      parts.push(
        `<rect x="${r1(mid - labelW / 2 - scale(male))}" y="${y + 2}" width="${r1(scale(male))}" height="${rowH - 4}" fill="${DARK_BLUE}"><title>Male ${escapeXml(r.band)}: ${male.toLocaleString('en-GB')}</title></rect>`,
      );
    if (female !== null && female > 0)
      parts.push(
        `<rect x="${mid + labelW / 2}" y="${y + 2}" width="${r1(scale(female))}" height="${rowH - 4}" fill="${BLUE}" fill-opacity="0.7"><title>Female ${escapeXml(r.band)}: ${female.toLocaleString('en-GB')}</title></rect>`,
      );
  });
  const axisY = top + input.rows.length * rowH + 4;
  parts.push(`<line x1="16" x2="${width - 16}" y1="${axisY}" y2="${axisY}" stroke="${GRID}"/>`);
  for (const side of [-1, 1])
    for (const f of [0.5, 1]) {
      const x = mid + side * (labelW / 2 + scale(max * f));
      parts.push(
        `<text x="${r1(x)}" y="${axisY + 16}" text-anchor="middle" font-size="11" fill="${TEXT}">${(max * f).toLocaleString('en-GB')}</text>`,
      );
    }
  parts.push(
    `<text x="${mid}" y="${axisY + 32}" text-anchor="middle" font-size="12" fill="${TEXT}">People</text></svg>`,
  );
  return parts.join('');
}

/** One horizontal bar per row, its value written beside it. */
export function barChartSvg(input: {
  id: string;
  title: string;
  description: string;
  rows: readonly { label: string; value: Figure; text: string }[];
  axisTitle: string;
}): string {
  const width = 720;
  const rowH = 22;
  const left = 230;
  const right = 80;
  const height = input.rows.length * rowH + 44;
  const max = niceMax(Math.max(0, ...input.rows.map((r) => num(r.value) ?? 0)));
  const scale = (v: number): number => (v / max) * (width - left - right);
  const parts = [head(input.id, input.title, input.description, width, height, 'kernel-kid-chart')];
  input.rows.forEach((r, i) => {
    const y = 4 + i * rowH;
    const v = num(r.value);
    parts.push(
      `<text x="${left - 8}" y="${y + rowH - 7}" text-anchor="end" font-size="12" fill="${TEXT}">${escapeXml(r.label)}</text>`,
    );
    if (v !== null && v > 0)
      parts.push(
        `<rect x="${left}" y="${y + 3}" width="${r1(scale(v))}" height="${rowH - 6}" fill="${BLUE}"><title>${escapeXml(`${r.label}: ${r.text}`)}</title></rect>`,
      );
    parts.push(
      `<text x="${r1(left + (v !== null && v > 0 ? scale(v) : 0) + 6)}" y="${y + rowH - 7}" font-size="12" fill="${TEXT}">${escapeXml(r.text)}</text>`,
    );
  });
  const axisY = 4 + input.rows.length * rowH + 2;
  parts.push(...valueAxisAndEnd({ from: left, to: width - right, y: axisY, max, title: input.axisTitle }));
  return parts.join('');
}

/** Lines across categories (age bands), one per series, each labelled at its last point. */
export function lineChartSvg(input: {
  id: string;
  title: string;
  description: string;
  categories: readonly string[];
  series: readonly { label: string; values: readonly Figure[] }[];
  yTitle: string;
  xTitle: string;
}): string {
  const width = 720;
  const height = 340;
  const m = { top: 16, right: 170, bottom: 56, left: 64 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const max = niceMax(Math.max(0, ...input.series.flatMap((s) => s.values.map((v) => num(v) ?? 0))));
  const x = (i: number): number =>
    m.left + (input.categories.length <= 1 ? 0 : (i / (input.categories.length - 1)) * plotW);
  const y = (v: number): number => m.top + plotH - (v / max) * plotH;
  const parts = [head(input.id, input.title, input.description, width, height, 'kernel-kid-chart')];
  for (const f of [0, 0.25, 0.5, 0.75, 1]) {
    const gy = y(max * f);
    parts.push(
      `<line x1="${m.left}" x2="${m.left + plotW}" y1="${r1(gy)}" y2="${r1(gy)}" stroke="${GRID}"/>`,
      `<text x="${m.left - 6}" y="${r1(gy + 4)}" text-anchor="end" font-size="11" fill="${TEXT}">${r1(max * f)}</text>`,
    );
  }
  input.categories.forEach((c, i) =>
    parts.push(
      `<text x="${r1(x(i))}" y="${m.top + plotH + 18}" text-anchor="middle" font-size="11" fill="${TEXT}">${escapeXml(c)}</text>`,
    ),
  );
  input.series.forEach((s, k) => {
    const colour = SERIES_COLOURS[k % SERIES_COLOURS.length] as string;
    // A suppressed point breaks the line rather than joining across it.
    let path = '';
    let pen = false;
    let last: { x: number; y: number } | null = null;
    s.values.forEach((v, i) => {
      const n = num(v);
      if (n === null) {
        pen = false;
        return;
      }
      path += `${pen ? 'L' : 'M'}${r1(x(i))} ${r1(y(n))}`;
      pen = true;
      last = { x: x(i), y: y(n) };
      parts.push(
        `<circle cx="${r1(x(i))}" cy="${r1(y(n))}" r="3.5" fill="${colour}"><title>${escapeXml(`${s.label}, ${input.categories[i]}: ${r1(n)}`)}</title></circle>`,
      );
    });
    if (path) parts.push(`<path d="${path}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    const end = last as { x: number; y: number } | null;
    if (end)
      parts.push(
        `<text x="${r1(end.x + 8)}" y="${r1(end.y + 4 + (k - (input.series.length - 1) / 2) * 2)}" font-size="11" fill="${colour}">${escapeXml(s.label)}</text>`,
      );
  });
  parts.push(
    `<text x="${m.left + plotW / 2}" y="${height - 12}" text-anchor="middle" font-size="12" fill="${TEXT}">${escapeXml(input.xTitle)}</text>`,
    `<text x="16" y="${m.top + plotH / 2}" text-anchor="middle" font-size="12" fill="${TEXT}" transform="rotate(-90 16 ${m.top + plotH / 2})">${escapeXml(input.yTitle)}</text></svg>`,
  );
  return parts.join('');
}

/** One horizontal bar per row, stacked by part (a legend names each colour). */
export function stackedBarSvg(input: {
  id: string;
  title: string;
  description: string;
  parts: readonly string[];
  rows: readonly { label: string; values: readonly Figure[]; text: string }[];
  axisTitle: string;
}): string {
  const width = 720;
  const rowH = 24;
  const left = 200;
  const right = 90;
  const legendH = 22 * Math.ceil(input.parts.length / 4);
  const height = legendH + input.rows.length * rowH + 48;
  const totals = input.rows.map((r) => r.values.reduce<number>((n, v) => n + (num(v) ?? 0), 0));
  const max = niceMax(Math.max(0, ...totals));
  const scale = (v: number): number => (v / max) * (width - left - right);
  const out = [head(input.id, input.title, input.description, width, height, 'kernel-kid-chart')];
  input.parts.forEach((p, k) => {
    const lx = 16 + (k % 4) * 176;
    const ly = 4 + Math.floor(k / 4) * 22;
    out.push(
      `<rect x="${lx}" y="${ly}" width="14" height="14" fill="${SERIES_COLOURS[k % SERIES_COLOURS.length]}"/>`,
      `<text x="${lx + 20}" y="${ly + 12}" font-size="12" fill="${TEXT}">${escapeXml(p)}</text>`,
    );
  });
  input.rows.forEach((r, i) => {
    const y = legendH + 8 + i * rowH;
    out.push(
      `<text x="${left - 8}" y="${y + rowH - 8}" text-anchor="end" font-size="12" fill="${TEXT}">${escapeXml(r.label)}</text>`,
    );
    let at = left;
    r.values.forEach((v, k) => {
      const n = num(v);
      if (n === null || n <= 0) return;
      out.push(
        `<rect x="${r1(at)}" y="${y + 3}" width="${r1(scale(n))}" height="${rowH - 6}" fill="${SERIES_COLOURS[k % SERIES_COLOURS.length]}"><title>${escapeXml(`${r.label}, ${input.parts[k]}: £${n.toLocaleString('en-GB')}`)}</title></rect>`,
      );
      at += scale(n);
    });
    out.push(
      `<text x="${r1(at + 6)}" y="${y + rowH - 8}" font-size="12" fill="${TEXT}">${escapeXml(r.text)}</text>`,
    );
  });
  const axisY = legendH + 8 + input.rows.length * rowH + 2;
  out.push(...valueAxisAndEnd({ from: left, to: width - right, y: axisY, max, title: input.axisTitle }));
  return out.join('');
}
