import { describe, expect, it } from 'vitest';
import { funnelChartSvg, type FunnelChartInput } from './funnel-chart-svg.ts';
import { funnelPlot, type FunnelUnit } from './funnel.ts';

const perThousand = (v: number): string => `${v.toFixed(1)} per 1,000`;

/** A chart of these providers' stillbirths (lower is better), drawn as the page draws it. */
function chart(units: readonly FunnelUnit[], title = 'Stillbirths'): string {
  const result = funnelPlot(units, { polarity: 'lower-is-better', scale: 1000 });
  return funnelChartSvg({
    id: 'f',
    title,
    target: result.target,
    curve: result.curve,
    points: result.points,
    format: perThousand,
    xTitle: 'Births over the period',
    yTitle: 'Rate per 1,000',
  });
}

const PROVIDERS: FunnelUnit[] = [
  { id: 'RAA', numerator: 40, denominator: 2000 },
  { id: 'RBB', numerator: 8, denominator: 2000 },
  { id: 'RCC', numerator: 9, denominator: 2200 },
  { id: 'RDD', numerator: 2, denominator: 300 },
];

/** Every element opened is closed, in order: the markup is well-formed XML. */
function balanced(svg: string): boolean {
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = m;
    if (selfClosing) continue;
    if (closing) {
      if (stack.pop() !== name) return false;
    } else {
      stack.push(name ?? '');
    }
  }
  return stack.length === 0;
}

/** The text of the chart's <desc>. */
function desc(svg: string): string {
  return /<desc id="f-desc">([^<]*)<\/desc>/.exec(svg)?.[1] ?? '';
}

describe('funnel chart SVG', () => {
  it('is an image with a title and a description naming every provider in words', () => {
    const svg = chart(PROVIDERS);
    expect(svg.startsWith('<svg ')).toBe(true);
    expect(svg.endsWith('</svg>')).toBe(true);
    expect(balanced(svg)).toBe(true);
    expect(svg).toContain('role="img"');
    expect(svg).toContain('aria-labelledby="f-title f-desc"');
    expect(svg).toContain('<title id="f-title">Stillbirths</title>');
    const words = desc(svg);
    // p0 = 59 / 6,500 = 9.08 per 1,000; at 2,000 the 95% limits are 9.08 ± 1.96 × 2.12 =
    // 4.92 to 13.2 and the 99.8% limits 2.52 to 15.6; at 300 the 95% lower limit is below 0.
    expect(words).toMatch(/^Funnel plot\. Pooled rate 9\.1 per 1,000\./);
    expect(words).toContain('RAA: 20.0 per 1,000 from 2,000, above the 99.8% limit (special cause)');
    expect(words).toContain('RBB: 4.0 per 1,000 from 2,000, below the 95% limit, within the 99.8%');
    expect(words).toContain('RCC: 4.1 per 1,000 from 2,200, below the 95% limit, within the 99.8%');
    expect(words).toContain('RDD: 6.7 per 1,000 from 300, within the 95% limits');
    // each provider is labelled on the chart itself, and titled for a tooltip
    for (const { id } of PROVIDERS) {
      expect(svg).toMatch(new RegExp(`<text [^>]*>${id}</text>`));
      expect(svg).toMatch(new RegExp(`<title>${id}: `));
    }
  });

  it('escapes markup in the title, the provider labels and the formatted values', () => {
    const svg = funnelChartSvg({
      id: 'f',
      title: 'Tears <3rd & 4th degree>',
      target: 4,
      curve: funnelPlot([{ id: 'x', numerator: 4, denominator: 1000 }], {
        polarity: 'neutral',
        scale: 1000,
      }).curve,
      points: [{ id: 'R<&>"', denominator: 1000, value: 4, band: 'within', meaning: null }],
      format: (v) => `${v} <per> 1,000 & more`,
      xTitle: 'Births <all>',
      yTitle: 'Rate & more',
    });
    expect(balanced(svg)).toBe(true);
    expect(svg).toContain('<title id="f-title">Tears &lt;3rd &amp; 4th degree&gt;</title>');
    expect(svg).toContain('>R&lt;&amp;&gt;&quot;</text>');
    expect(desc(svg)).toContain('R&lt;&amp;&gt;&quot;: 4 &lt;per&gt; 1,000 &amp; more from 1,000');
    expect(svg).toContain('>Births &lt;all&gt;</text>');
    expect(svg).toContain('>Rate &amp; more</text>');
    expect(svg).not.toContain('R<&>');
    expect(svg).not.toContain('<per>');
    expect(svg).not.toContain('<3rd');
    expect(svg).not.toMatch(/&(?!amp;|lt;|gt;|quot;|#39;)/);
  });

  it('draws the 99.8% limits solid, the 95% limits dashed and the pooled rate as a line', () => {
    const svg = chart(PROVIDERS);
    const limits = [...svg.matchAll(/<path d="([^"]*)" fill="none"([^>]*)><title>([^<]*)<\/title>/g)];
    expect(limits.map((m) => m[3])).toEqual([
      '99.8% upper limit',
      '99.8% lower limit',
      '95% upper limit',
      '95% lower limit',
    ]);
    for (const m of limits) {
      // one vertex for each of the curve's volumes
      expect(m[1]?.match(/[ML]/g)?.length).toBe(40);
      if (m[3]?.startsWith('95%')) expect(m[2]).toContain('stroke-dasharray');
      else expect(m[2]).not.toContain('stroke-dasharray');
    }
    const target = funnelPlot(PROVIDERS, { polarity: 'lower-is-better', scale: 1000 }).target ?? 0;
    expect(svg).toContain(`<title>Pooled rate ${perThousand(target)}</title></line>`);
  });

  it('shapes each provider by what it shows, so colour is not the only cue', () => {
    const base: Omit<FunnelChartInput, 'points'> = {
      id: 'f',
      title: 't',
      target: 4,
      curve: funnelPlot([{ id: 'x', numerator: 40, denominator: 10000 }], {
        polarity: 'neutral',
        scale: 1000,
      }).curve,
      format: perThousand,
      xTitle: 'x',
      yTitle: 'y',
    };
    const svg = funnelChartSvg({
      ...base,
      points: [
        { id: 'IMP', denominator: 5000, value: 1, band: 'below-99.8', meaning: 'improvement' },
        { id: 'CON', denominator: 5000, value: 9, band: 'above-99.8', meaning: 'concern' },
        { id: 'NEI', denominator: 5000, value: 9, band: 'above-99.8', meaning: 'neither' },
        { id: 'WARN', denominator: 5000, value: 6, band: 'above-95', meaning: null },
        { id: 'IN', denominator: 5000, value: 4, band: 'within', meaning: null },
      ],
    });
    expect(svg).toMatch(/<rect [^>]*fill="#005eb8"><title>IMP: 1\.0 per 1,000 from 5,000, below the 99\.8%/);
    expect(svg).toMatch(/<path d="M[^"]*Z" fill="#b35900"><title>CON: /);
    expect(svg).toMatch(/<path d="M[^"]*Z" fill="#330072"><title>NEI: /);
    expect(svg).toMatch(
      /<circle [^>]*><title>WARN: 6\.0 per 1,000 from 5,000, above the 95% limit, within the 99\.8%<\/title>/,
    );
    expect(svg).toMatch(/<circle [^>]*><title>IN: 4\.0 per 1,000 from 5,000, within the 95% limits<\/title>/);
  });

  it('places volume across on a log scale and the rate up, inside the plot', () => {
    const svg = chart(PROVIDERS);
    const circles = [...svg.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)"[^>]*><title>(\w+):/g)].map((m) => ({
      id: m[3],
      x: Number(m[1]),
      y: Number(m[2]),
    }));
    const at = (id: string) => circles.find((c) => c.id === id);
    // RDD (300) is left of RBB (2,000), which is left of RCC (2,200); RBB and RCC nearly meet
    expect(at('RDD')?.x ?? 0).toBeLessThan(at('RBB')?.x ?? 0);
    expect(at('RBB')?.x ?? 0).toBeLessThan(at('RCC')?.x ?? 0);
    expect((at('RCC')?.x ?? 0) - (at('RBB')?.x ?? 0)).toBeLessThan((at('RBB')?.x ?? 0) - (at('RDD')?.x ?? 0));
    // a higher rate is drawn higher up (smaller y)
    expect(at('RDD')?.y ?? 0).toBeLessThan(at('RBB')?.y ?? 0);
    for (const c of circles) {
      expect(c.x).toBeGreaterThanOrEqual(0);
      expect(c.x).toBeLessThanOrEqual(720);
      expect(c.y).toBeGreaterThanOrEqual(0);
      expect(c.y).toBeLessThanOrEqual(320);
    }
    // the volume axis is labelled at powers of ten
    for (const tick of ['1', '10', '100', '1,000']) expect(svg).toContain(`>${tick}</text>`);
  });

  it('says so when there is nothing to draw, or no provider can be shown', () => {
    const empty = chart([{ id: 'A', numerator: 0, denominator: 0 }]);
    expect(balanced(empty)).toBe(true);
    expect(empty).toContain('role="img"');
    expect(desc(empty)).toBe('No figures for this period.');
    expect(empty).toContain('No figures to chart for this period');
    const result = funnelPlot(PROVIDERS, { polarity: 'lower-is-better', scale: 1000 });
    const hidden = funnelChartSvg({
      id: 'f',
      title: 't',
      target: result.target,
      curve: result.curve,
      points: [],
      format: perThousand,
      xTitle: 'x',
      yTitle: 'y',
    });
    expect(balanced(hidden)).toBe(true);
    expect(desc(hidden)).toContain('No provider can be shown without disclosing small numbers.');
    expect(hidden).toContain('<title>95% upper limit</title>');
  });
});
