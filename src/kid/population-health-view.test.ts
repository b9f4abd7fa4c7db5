import { describe, expect, it } from 'vitest';
import type { PopulationHealth } from './population-health.ts';
import { populationHealthView } from './population-health-view.ts';

/** An answer with two panels: a pyramid of two bands, and one condition whose title needs escaping. */
const answer: PopulationHealth = {
  day: '2021-07-31',
  scope: { kind: 'practice', code: 'G82001', text: 'practice:G82001' },
  rule: 'Counts of 1 to 7 are shown as *; others are rounded to the nearest 5.',
  useCase: { id: 'UC-1', title: 'Planning', purpose: 'planning' },
  optOutApplied: true,
  leftOut: [],
  people: 1234,
  pyramid: [
    { band: '0-4', female: 1230, male: '*', other: 0 },
    { band: '90+', female: 10, male: 5, other: 0 },
  ],
  prevalence: [
    {
      condition: 'x',
      title: 'Heart <failure> & "other"',
      people: 20,
      percent: { numerator: 20, denominator: 1235, value: 1.6, decimals: 1 },
    },
  ],
  byAge: null,
  byImdDecile: null,
  byAgeAndQuintile: null,
  frailty: null,
  costs: null,
};

describe('the population health view', () => {
  it("writes each data table's body rows as NHS.UK's table marks them, every text escaped", () => {
    const view = populationHealthView(answer, 'Practice G82001');
    expect(view.pyramid?.body).toBe(
      '<tr class="nhsuk-table__row"><th scope="row" class="nhsuk-table__header">0-4</th>' +
        '<td class="nhsuk-table__cell nhsuk-table__cell--numeric">*</td>' +
        '<td class="nhsuk-table__cell nhsuk-table__cell--numeric">1,230</td>' +
        '<td class="nhsuk-table__cell nhsuk-table__cell--numeric">0</td></tr>\n' +
        '<tr class="nhsuk-table__row"><th scope="row" class="nhsuk-table__header">90+</th>' +
        '<td class="nhsuk-table__cell nhsuk-table__cell--numeric">5</td>' +
        '<td class="nhsuk-table__cell nhsuk-table__cell--numeric">10</td>' +
        '<td class="nhsuk-table__cell nhsuk-table__cell--numeric">0</td></tr>\n',
    );
    expect(view.prevalence?.body).toContain(
      '<th scope="row" class="nhsuk-table__header">Heart &lt;failure&gt; &amp; &quot;other&quot;</th>' +
        '<td class="nhsuk-table__cell nhsuk-table__cell--numeric">20</td>' +
        '<td class="nhsuk-table__cell nhsuk-table__cell--numeric">1.6%</td>',
    );
    expect(view.byAge).toBeNull();
  });
});
