import { describe, expect, it } from 'vitest';
import { labelWidth, spcChartSvg } from './spc-chart-svg.ts';
import { xmrChart } from './spc.ts';

const months = Array.from({ length: 12 }, (_, i) => `2024-${String(i + 1).padStart(2, '0')}`);

function chart(values: number[], format: (v: number) => string, yTitle = 'Rate per 1,000'): string {
  return spcChartSvg({
    id: 'c',
    title: 'A chart',
    description: 'A description',
    months,
    spc: xmrChart(values, { polarity: 'neutral' }),
    format,
    yTitle,
  });
}

/** The y labels: right-aligned text at the left of the plot, with where they end. */
function yLabels(svg: string): { x: number; text: string }[] {
  return [
    ...svg.matchAll(/<text x="([\d.]+)" y="[\d.]+" dy="4" text-anchor="end"[^>]*>([^<]*)<\/text>/g),
  ].map((m) => ({ x: Number(m[1]), text: m[2] ?? '' }));
}

describe('SPC chart SVG', () => {
  it('sizes the left margin to the widest axis label, so none is clipped', () => {
    const values = [0.8, 1.2, 0.9, 1.1, 1.0, 0.7, 1.3, 0.9, 1.0, 1.2, 0.8, 1.1];
    const perThousand = (v: number): string => `${v.toLocaleString('en-GB')} per 1,000`;
    const svg = chart(values, perThousand);
    const labels = yLabels(svg);
    expect(labels.length).toBeGreaterThan(2);
    expect(labels.map((l) => l.text)).toContain('0.5 per 1,000');
    for (const label of labels) {
      // the label's left edge stays right of the rotated axis title's column
      expect(label.x - labelWidth(label.text)).toBeGreaterThanOrEqual(24);
    }
    // a wider format gets a wider margin; a short one a narrower margin
    const narrow = yLabels(chart(values, (v) => v.toString()));
    expect(narrow[0]?.x ?? 0).toBeLessThan(labels[0]?.x ?? 0);
  });

  it('titles both axes', () => {
    const svg = chart([1, 2, 3, 2, 1, 2, 3, 2, 1, 2, 3, 2], (v) => `${v}%`, 'Per cent');
    const titles = [...svg.matchAll(/<text class="kernel-spc-axis-title"[^>]*>([^<]*)<\/text>/g)].map(
      (m) => m[1],
    );
    expect(titles).toEqual(['Month', 'Per cent']);
    expect(svg).toMatch(/rotate\(-90\)[^>]*>Per cent</);
  });
});
