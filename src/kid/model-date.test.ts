/** What the model's date says of itself (src/kid/model-date.ts): the note, and what a provider is shown. */
import { describe, expect, it } from 'vitest';
import { heldBackNote, lastDayOfMonth, modelDateSeenBy, type ModelDate } from './model-date.ts';

const held: ModelDate = {
  asOf: '2021-01-31',
  latestMonth: '2021-02',
  waitingFor: [
    { org: 'G82001', dataset: 'gp-events', period: '2021-02', dueOn: '2021-03-05' },
    { org: 'RWF', dataset: 'ecds', period: '2021-02', dueOn: '2021-03-12' },
  ],
  feedsWaiting: 2,
  lastDueOn: '2021-03-12',
};

describe('the model date', () => {
  it('names every feed still to come, and the last due day, for the operator and the analysts', () => {
    expect(heldBackNote(held)).toBe(
      'GP events are loaded to 2021-02, but 2021-02 is still coming in: 2 scheduled feeds not yet received ' +
        'and not yet due (the last by 2021-03-12): G82001 gp-events and RWF ecds. The person-level model stays on ' +
        '2021-01-31 until they arrive or fall due (feed schedules: docs/feeds.md).',
    );
    expect(modelDateSeenBy(held, null)).toEqual(held);
    expect(heldBackNote({ ...held, waitingFor: [], feedsWaiting: 0, lastDueOn: null })).toBeNull();
  });

  it('names a long list by its first ten', () => {
    const many = Array.from({ length: 12 }, (_, i) => ({
      org: `G8${2000 + i}`,
      dataset: 'gp-events',
      period: '2021-02',
      dueOn: '2021-03-05',
    }));
    expect(heldBackNote({ ...held, waitingFor: many, feedsWaiting: 12 })).toContain(
      'G82009 gp-events and 2 more.',
    );
  });

  it('tells a provider of its own feeds by name, of the others by number, and everyone the date', () => {
    const own = modelDateSeenBy(held, 'RWF');
    expect(own).toEqual({
      ...held,
      waitingFor: [{ org: 'RWF', dataset: 'ecds', period: '2021-02', dueOn: '2021-03-12' }],
    });
    expect(heldBackNote(own)).toContain(
      ': RWF ecds and 1 of other members. The person-level model stays on 2021-01-31',
    );
    const other = modelDateSeenBy(held, 'RYY');
    expect(other.asOf).toBe('2021-01-31');
    expect(other.waitingFor).toEqual([]);
    expect(heldBackNote(other)).toContain(
      '2 scheduled feeds not yet received and not yet due (the last by 2021-03-12): 2 of other members.',
    );
    expect(heldBackNote(other)).not.toMatch(/G82001|RWF/);
  });

  it('ends a month on its last day, leap years included', () => {
    expect(lastDayOfMonth('2020-02')).toBe('2020-02-29');
    expect(lastDayOfMonth('2021-02')).toBe('2021-02-28');
    expect(lastDayOfMonth('2021-12')).toBe('2021-12-31');
  });
});
