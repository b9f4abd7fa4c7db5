/**
 * The high-level plan as a chart: workstreams by month as bars, milestones marked M (done,
 * planned or slipped as they stood), and "now" — the month the chart is drawn for.
 *
 * The geometry is worked out once, as a list of shapes, and drawn twice: as SVG for pages
 * and HTML documents, and with PDFKit's vector calls in the PDF, so both always agree.
 */
import { stateAsAt, type MilestoneState, type Plan } from './programme-plan.ts';
import { monthName, monthsBetween, shortMonthName } from './programme-values.ts';

export interface PlanChart {
  months: string[];
  /** the month drawn as now, or null when it is outside the plan */
  now: string | null;
  rows: {
    id: string;
    title: string;
    owner: string;
    from: string;
    to: string;
    milestones: { id: string; title: string; month: string; state: MilestoneState }[];
  }[];
}

/** The plan as it stood at the end of `asAt`, drawn with `asAt` as now. */
export function planChart(plan: Plan, asAt: string): PlanChart {
  const months = plan.from && plan.to ? monthsBetween(plan.from, plan.to) : [];
  return {
    months,
    now: months.includes(asAt) ? asAt : null,
    rows: plan.workstreams.map((w) => ({
      id: w.id,
      title: w.title,
      owner: w.owner,
      from: w.from,
      to: w.to,
      milestones: w.milestones.map((m) => {
        const as = stateAsAt(m, asAt);
        return {
          id: m.id,
          title: m.title,
          // A milestone done is marked where it was done; otherwise where it is due.
          month: as.doneOn ? as.doneOn.slice(0, 7) : m.due,
          state: as.state,
        };
      }),
    })),
  };
}

export type Shape =
  | { kind: 'rect'; x: number; y: number; w: number; h: number; fill: string; stroke?: string }
  | { kind: 'diamond'; cx: number; cy: number; r: number; fill: string; label: string; title: string }
  | {
      kind: 'text';
      x: number;
      y: number;
      text: string;
      size: number;
      bold?: boolean;
      anchor?: 'start' | 'middle';
      fill?: string;
    }
  | {
      kind: 'line';
      x1: number;
      y1: number;
      x2: number;
      y2: number;
      stroke: string;
      dash?: boolean;
      width: number;
    };

export interface ChartLayout {
  width: number;
  height: number;
  shapes: Shape[];
}

// NHS identity colours (NHS digital service manual, "Colours"): the word always says what
// the colour shows, so the chart never relies on colour alone.
const COLOURS = {
  blue: '#005eb8',
  paleBlue: '#c7dcf0',
  darkBlue: '#003087',
  green: '#007f3b',
  red: '#d5281b',
  grey: '#4c6272',
  paleGrey: '#e8edee',
  text: '#212b32',
  now: '#ffb81c',
};

const STATE_FILL: Record<MilestoneState, string> = {
  done: COLOURS.green,
  planned: COLOURS.darkBlue,
  slipped: COLOURS.red,
};

/** Where everything goes; units are CSS pixels (SVG) or points (PDF), the same numbers. */
export function chartLayout(chart: PlanChart): ChartLayout {
  const labelWidth = 250;
  const column = 52;
  const header = 40;
  const row = 34;
  const legend = 40;
  const width = labelWidth + Math.max(chart.months.length, 1) * column + 10;
  const height = header + Math.max(chart.rows.length, 1) * row + legend;
  const shapes: Shape[] = [];
  const x = (month: string): number => labelWidth + chart.months.indexOf(month) * column;

  chart.months.forEach((m, i) => {
    if (i % 2 === 1)
      shapes.push({
        kind: 'rect',
        x: x(m),
        y: header,
        w: column,
        h: chart.rows.length * row,
        fill: COLOURS.paleGrey,
      });
    shapes.push({
      kind: 'text',
      x: x(m) + column / 2,
      y: 16,
      text: shortMonthName(m),
      size: 12,
      bold: true,
      anchor: 'middle',
    });
    if (i === 0 || m.endsWith('-01'))
      shapes.push({
        kind: 'text',
        x: x(m) + column / 2,
        y: 32,
        text: m.slice(0, 4),
        size: 10,
        anchor: 'middle',
        fill: COLOURS.grey,
      });
  });

  const marks: Shape[] = [];
  chart.rows.forEach((r, i) => {
    const top = header + i * row;
    shapes.push({ kind: 'text', x: 4, y: top + 15, text: r.title, size: 12, bold: true });
    shapes.push({ kind: 'text', x: 4, y: top + 28, text: r.owner, size: 10, fill: COLOURS.grey });
    const from = chart.months.includes(r.from) ? r.from : chart.months[0];
    const to = chart.months.includes(r.to) ? r.to : chart.months.at(-1);
    if (from && to) {
      shapes.push({
        kind: 'rect',
        x: x(from) + 2,
        y: top + 8,
        w: x(to) - x(from) + column - 4,
        h: row - 16,
        fill: COLOURS.paleBlue,
        stroke: COLOURS.blue,
      });
    }
    // Two milestones in one month sit side by side.
    const seen = new Map<string, number>();
    for (const m of r.milestones) {
      if (!chart.months.includes(m.month)) continue;
      const n = seen.get(m.month) ?? 0;
      seen.set(m.month, n + 1);
      marks.push({
        kind: 'diamond',
        cx: x(m.month) + column / 2 + (n % 2 === 0 ? 1 : -1) * Math.ceil(n / 2) * 18,
        cy: top + row / 2,
        r: 10,
        fill: STATE_FILL[m.state],
        label: 'M',
        title: `${m.id} ${m.title}: ${m.state}`,
      });
    }
  });

  // The line for now goes over the bars and under the milestones, so it never hides an M.
  if (chart.now) {
    const cx = x(chart.now) + column / 2;
    shapes.push({
      kind: 'line',
      x1: cx,
      y1: header - 4,
      x2: cx,
      y2: header + chart.rows.length * row,
      stroke: COLOURS.text,
      dash: true,
      width: 2,
    });
  }

  shapes.push(...marks);

  if (chart.now) {
    const cx = x(chart.now) + column / 2;
    const bottom = header + chart.rows.length * row;
    shapes.push({ kind: 'rect', x: cx - 20, y: bottom + 2, w: 40, h: 14, fill: COLOURS.now });
    shapes.push({ kind: 'text', x: cx, y: bottom + 13, text: 'Now', size: 10, bold: true, anchor: 'middle' });
  }

  const ly = header + chart.rows.length * row + 30;
  let lx = 4;
  for (const [state, fill] of Object.entries(STATE_FILL)) {
    shapes.push({
      kind: 'diamond',
      cx: lx + 10,
      cy: ly - 4,
      r: 8,
      fill,
      label: 'M',
      title: `Milestone ${state}`,
    });
    shapes.push({ kind: 'text', x: lx + 24, y: ly, text: `Milestone ${state}`, size: 11 });
    lx += 140;
  }
  shapes.push({
    kind: 'rect',
    x: lx,
    y: ly - 11,
    w: 30,
    h: 12,
    fill: COLOURS.paleBlue,
    stroke: COLOURS.blue,
  });
  shapes.push({ kind: 'text', x: lx + 36, y: ly, text: 'Workstream', size: 11 });
  return { width, height, shapes };
}

const escapeXml = (text: string): string =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

/** The chart as an accessible SVG element (WAI-ARIA: role img, with a title and description). */
export function planChartSvg(chart: PlanChart, id = 'plan-chart'): string {
  const { width, height, shapes } = chartLayout(chart);
  const title = chart.months.length
    ? `High-level plan, ${monthName(chart.months[0] as string)} to ${monthName(chart.months.at(-1) as string)}`
    : 'High-level plan (no workstreams yet)';
  const desc = `${chart.rows.length} workstreams by month; milestones marked M${chart.now ? `; now is ${monthName(chart.now)}` : ''}. The same plan is listed in the table that follows.`;
  const body = shapes
    .map((s) => {
      switch (s.kind) {
        case 'rect':
          return `<rect x="${s.x}" y="${s.y}" width="${s.w}" height="${s.h}" fill="${s.fill}"${s.stroke ? ` stroke="${s.stroke}"` : ''}/>`;
        case 'line':
          return `<line x1="${s.x1}" y1="${s.y1}" x2="${s.x2}" y2="${s.y2}" stroke="${s.stroke}" stroke-width="${s.width}"${s.dash ? ' stroke-dasharray="5 4"' : ''}/>`;
        case 'diamond':
          return (
            `<g><title>${escapeXml(s.title)}</title>` +
            `<polygon points="${s.cx},${s.cy - s.r} ${s.cx + s.r},${s.cy} ${s.cx},${s.cy + s.r} ${s.cx - s.r},${s.cy}" fill="${s.fill}"/>` +
            `<text x="${s.cx}" y="${s.cy + 4}" text-anchor="middle" font-size="${s.r}" font-weight="bold" fill="#ffffff">${s.label}</text></g>`
          );
        case 'text':
          return `<text x="${s.x}" y="${s.y}" font-size="${s.size}"${s.bold ? ' font-weight="bold"' : ''}${s.anchor === 'middle' ? ' text-anchor="middle"' : ''} fill="${s.fill ?? COLOURS.text}">${escapeXml(s.text)}</text>`;
      }
    })
    .join('');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-labelledby="${id}-title ${id}-desc" font-family="Arial, sans-serif">` +
    `<title id="${id}-title">${escapeXml(title)}</title><desc id="${id}-desc">${escapeXml(desc)}</desc>${body}</svg>`
  );
}
