/** What `kernel kid build` says of a build, from its summary. */
import { describe, expect, it } from 'vitest';
import type { SpineBuild } from '../kid/person-spine.ts';
import { printBuild } from './kid-command.ts';

const built: SpineBuild = {
  version: 7,
  mode: 'incremental',
  rebuiltPeople: 12,
  pmiRows: 2_000,
  people: 1_500,
  gpRegistered: 1_400,
  registrations: 1_600,
  residences: 1_700,
  disagreements: { sex: 0, birth_year_month: 0, death_date: 0, ethnic_category: 0, registration_start: 0 },
  seconds: 1.5,
  modelDate: { asOf: '2021-02-28', latestMonth: '2021-02', waitingFor: [], feedsWaiting: 0, lastDueOn: null },
};

function said(build: SpineBuild): string {
  const lines: string[] = [];
  printBuild(build, (text) => lines.push(text));
  return lines.join('\n');
}

describe('kernel kid build’s answer', () => {
  it('says for how many people a build that kept the model’s date computed the model, and kept it', () => {
    const text = said({ ...built, model: { computed: 1_234, copied: 98_765 } });
    expect(text).toContain('12 people whose records changed rebuilt');
    expect(text).toContain(
      'The person-level model describes 2021-02-28: computed for the 1,234 people whose records changed, kept as it was for the other 98,765.',
    );
  });

  it('says only the date when the build computed everyone’s model', () => {
    const text = said({ ...built, model: { computedAllBecause: 'the model’s date moved' } });
    expect(text).toContain('The person-level model describes 2021-02-28.');
    expect(text).not.toContain('kept as it was');
  });
});
