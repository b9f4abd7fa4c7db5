/**
 * What the population health page shows, from what `readPopulationHealth` answers: strings
 * and chart markup only, each chart with the rows of the data table under it.
 */
import type { ControlledCount, ControlledRate } from '../analytics/disclosure-control.ts';
import { escapeXml } from '../analytics/spc-chart-svg.ts';
import { barChartSvg, lineChartSvg, pyramidSvg, stackedBarSvg } from './population-health-charts.ts';
import { CONDITION_BANDS, QUINTILES, type CostSetting, type PopulationHealth } from './population-health.ts';

const SETTING_TITLES: Record<CostSetting, string> = {
  ae: 'A&E',
  emergency: 'Emergency admissions',
  elective: 'Elective admissions',
  op: 'Outpatients',
  community: 'Community',
  mh: 'Mental health',
  asc: 'Adult social care',
};

const SEGMENT_TITLES: Record<string, string> = {
  'healthy-well': 'Healthy and well',
  'maternal-infant': 'Maternal and infant health',
  'chronic-conditions': 'Chronic conditions',
  'serious-curable': 'Serious but curable illness',
  disability: 'Disability',
  'decline-before-dying': 'Short period of decline before dying',
  'frailty-dementia': 'Frailty and dementia',
  'organ-failure': 'Organ failure',
};

const FRAILTY_TITLES: Record<string, string> = {
  fit: 'Fit',
  mild: 'Mild frailty',
  moderate: 'Moderate frailty',
  severe: 'Severe frailty',
};

const count = (v: ControlledCount): string => (v === '*' ? '*' : v.toLocaleString('en-GB'));
const rate = (r: ControlledRate): string =>
  r.value === null ? '–' : r.value === '*' ? '*' : `${r.value.toFixed(r.decimals)}%`;
const mean = (v: number | '*' | null): string => (v === null ? '–' : v === '*' ? '*' : v.toFixed(1));
const pounds = (v: number | '*' | null): string =>
  v === null ? '–' : v === '*' ? '*' : `£${v.toLocaleString('en-GB')}`;
const rateValue = (r: ControlledRate): number | '*' | null => r.value;

/**
 * A data table's body rows as NHS.UK's table component marks them (a row header, then numeric
 * cells), every text escaped. Built here, as the charts are, rather than looped over in the
 * template: the page is drawn afresh for every request, and its 270 cells looped in Nunjucks
 * (a frame and its loop variables per row and per cell) cost more than the rest of the
 * tables' markup (docs/kid.md, "The page's own cost").
 */
function tableBody(rows: readonly { header: string; cells: readonly string[] }[]): string {
  let html = '';
  for (const row of rows) {
    html += `<tr class="nhsuk-table__row"><th scope="row" class="nhsuk-table__header">${escapeXml(row.header)}</th>`;
    for (const cell of row.cells)
      html += `<td class="nhsuk-table__cell nhsuk-table__cell--numeric">${escapeXml(cell)}</td>`;
    html += '</tr>\n';
  }
  return html;
}

export function populationHealthView(d: PopulationHealth, scopeLabel: string) {
  const where = `${scopeLabel}, ${d.day}`;
  const pyramid = d.pyramid && {
    chart: pyramidSvg({
      id: 'chart-pyramid',
      title: `Population by age and sex, ${where}`,
      description: `Population pyramid of ${count(d.people)} people: males to the left, females to the right, in five-year age bands from 0-4 at the bottom to 90+ at the top. Suppressed counts are not drawn. The table below gives every figure.`,
      rows: d.pyramid,
    }),
    body: tableBody(
      d.pyramid.map((p) => ({ header: p.band, cells: [count(p.male), count(p.female), count(p.other)] })),
    ),
  };
  const prevalenceRows =
    d.prevalence &&
    [...d.prevalence].sort(
      (a, b) =>
        (typeof b.percent.value === 'number' ? b.percent.value : -1) -
        (typeof a.percent.value === 'number' ? a.percent.value : -1),
    );
  const prevalence = prevalenceRows && {
    chart: barChartSvg({
      id: 'chart-prevalence',
      title: `Long-term conditions: people with each, per cent of the population, ${where}`,
      description: `Bar chart of the prevalence of each long-term condition, highest first: ${prevalenceRows
        .slice(0, 5)
        .map((p) => `${p.title} ${rate(p.percent)}`)
        .join(', ')}. The table below gives every figure.`,
      rows: prevalenceRows.map((p) => ({
        label: p.title,
        value: rateValue(p.percent),
        text: rate(p.percent),
      })),
      axisTitle: 'Per cent of the population',
    }),
    body: tableBody(
      prevalenceRows.map((p) => ({ header: p.title, cells: [count(p.people), rate(p.percent)] })),
    ),
  };
  const byAge = d.byAge && {
    chart: barChartSvg({
      id: 'chart-by-age',
      title: `Mean number of long-term conditions per person by age band, ${where}`,
      description: `Bar chart of the mean number of long-term conditions by age band: ${d.byAge
        .filter((r) => r.band !== 'unknown')
        .map((r) => `${r.band} ${mean(r.meanConditions)}`)
        .join(', ')}. The table below gives every figure.`,
      rows: d.byAge
        .filter((r) => r.band !== 'unknown')
        .map((r) => ({ label: `Aged ${r.band}`, value: r.meanConditions, text: mean(r.meanConditions) })),
      axisTitle: 'Mean number of long-term conditions',
    }),
    body: tableBody(
      d.byAge.map((r) => ({
        header: r.band,
        cells: [
          count(r.people),
          mean(r.meanConditions),
          rate(r.multimorbidity),
          rate(r.complexMultimorbidity),
        ],
      })),
    ),
  };
  const quintiles = d.byAgeAndQuintile;
  const deprivation = quintiles &&
    d.byImdDecile && {
      chart: lineChartSvg({
        id: 'chart-deprivation',
        title: `Mean number of long-term conditions per person by age band and IMD quintile, ${where}`,
        description: `Line chart, one line per IMD quintile of residence (1 most deprived, 5 least). ${CONDITION_BANDS.map(
          (band) =>
            `Aged ${band}: ${QUINTILES.map((q) => `quintile ${q} ${mean(quintiles.find((r) => r.band === band && r.quintile === q)?.meanConditions ?? null)}`).join(', ')}`,
        ).join(
          '. ',
        )}. In more deprived areas multimorbidity comes at younger ages. The table below gives every figure.`,
        categories: CONDITION_BANDS,
        series: QUINTILES.map((q) => ({
          label: `Quintile ${q}${q === '1' ? ' (most deprived)' : q === '5' ? ' (least)' : ''}`,
          values: CONDITION_BANDS.map((band) => {
            const r = quintiles.find((x) => x.band === band && x.quintile === q);
            return r ? r.meanConditions : null;
          }),
        })),
        yTitle: 'Mean conditions per person',
        xTitle: 'Age band (years)',
      }),
      body: tableBody(
        CONDITION_BANDS.map((band) => ({
          header: band,
          cells: QUINTILES.map((q) => {
            const r = quintiles.find((x) => x.band === band && x.quintile === q);
            return r
              ? `${mean(r.meanConditions)} (${rate(r.multimorbidity)} with 2+, of ${count(r.people)})`
              : '–';
          }),
        })),
      ),
      decilesBody: tableBody(
        d.byImdDecile.map((r) => ({
          header: `${r.decile}${r.decile === '1' ? ' (most deprived)' : r.decile === '10' ? ' (least deprived)' : ''}`,
          cells: [
            count(r.people),
            mean(r.meanConditions),
            rate(r.multimorbidity),
            rate(r.complexMultimorbidity),
          ],
        })),
      ),
    };
  const frailty = d.frailty && {
    asOf: d.frailty.asOf,
    chart: barChartSvg({
      id: 'chart-frailty',
      title: `Frailty (electronic Frailty Index) among people aged 65 or over, per cent, ${scopeLabel}, ${d.frailty.asOf}`,
      description: `Bar chart of the eFI categories of ${count(d.frailty.people)} people aged 65 or over: ${d.frailty.categories
        .map((c) => `${FRAILTY_TITLES[c.category] ?? c.category} ${rate(c.percent)}`)
        .join(', ')}.`,
      rows: d.frailty.categories.map((c) => ({
        label: FRAILTY_TITLES[c.category] ?? c.category,
        value: rateValue(c.percent),
        text: rate(c.percent),
      })),
      axisTitle: 'Per cent of people aged 65 or over',
    }),
    body: tableBody(
      d.frailty.categories.map((c) => ({
        header: FRAILTY_TITLES[c.category] ?? c.category,
        cells: [count(c.people), rate(c.percent)],
      })),
    ),
    people: count(d.frailty.people),
  };
  const costs = d.costs && {
    asOf: d.costs.asOf,
    settings: d.costs.settings.map((s) => SETTING_TITLES[s]),
    chart: stackedBarSvg({
      id: 'chart-costs',
      title: `Cost per person by segment and setting, 12 months to ${d.costs.asOf}, ${scopeLabel}`,
      description: `Stacked bar chart of the cost per person in each Bridges to Health segment, split by setting: ${d.costs.segments
        .map((s) => `${SEGMENT_TITLES[s.segment] ?? s.segment} ${pounds(s.total)}`)
        .join(', ')}. The table below gives every figure.`,
      parts: d.costs.settings.map((s) => SETTING_TITLES[s]),
      rows: d.costs.segments.map((s) => ({
        label: SEGMENT_TITLES[s.segment] ?? s.segment,
        values: d.costs?.settings.map((k) => s.perPerson[k]) ?? [],
        text: pounds(s.total),
      })),
      axisTitle: 'Pounds per person',
    }),
    body: tableBody(
      d.costs.segments.map((s) => ({
        header: SEGMENT_TITLES[s.segment] ?? s.segment,
        cells: [
          count(s.people),
          ...(d.costs?.settings.map((k) => pounds(s.perPerson[k])) ?? []),
          pounds(s.total),
        ],
      })),
    ),
  };
  return { people: count(d.people), pyramid, prevalence, byAge, deprivation, frailty, costs };
}
