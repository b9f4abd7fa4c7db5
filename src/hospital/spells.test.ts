/**
 * Provider spells and continuous inpatient spells (NHS Digital CIPS methodology, 2014) on
 * episodes worked by hand.
 */
import { describe, expect, it } from 'vitest';
import { continuousSpells, daysBetween, providerSpells, type ApcEpisode } from './spells.ts';

function episode(over: Partial<ApcEpisode>): ApcEpisode {
  return {
    provider: 'RWF',
    person: 'p1',
    spellNumber: 'S1',
    episodeNumber: 1,
    admissionDate: '2024-03-01',
    episodeStart: '2024-03-01',
    episodeEnd: '2024-03-01',
    dischargeDate: null,
    admissionMethod: '21',
    admissionSource: '19',
    dischargeMethod: '8',
    dischargeDestination: '98',
    diagnoses: [],
    ...over,
  };
}

describe('provider spells', () => {
  it('joins the episodes of one spell, in episode order, with the length of stay of the last', () => {
    const spells = providerSpells([
      episode({
        episodeNumber: 3,
        episodeStart: '2024-03-04',
        episodeEnd: '2024-03-09',
        dischargeDate: '2024-03-09',
        dischargeMethod: '1',
        dischargeDestination: '19',
        diagnoses: ['N390', 'F03X'],
      }),
      episode({ episodeNumber: 1, episodeEnd: '2024-03-02', diagnoses: ['J189', 'I10X'] }),
      episode({
        episodeNumber: 2,
        episodeStart: '2024-03-02',
        episodeEnd: '2024-03-04',
        diagnoses: ['J189', 'N390'],
      }),
      // another person's spell with the same number at another provider stays apart
      episode({ provider: 'RVV', person: 'p2', admissionDate: '2024-03-05', episodeStart: '2024-03-05' }),
    ]);
    expect(spells).toHaveLength(2);
    expect(spells[0]).toMatchObject({
      provider: 'RWF',
      admissionDate: '2024-03-01',
      dischargeDate: '2024-03-09',
      lengthOfStay: 8,
      episodes: 3,
      dischargeMethod: '1',
      diagnoses: ['J189', 'I10X', 'N390', 'F03X'],
    });
    // still in hospital: no discharge date, no length of stay
    expect(spells[1]).toMatchObject({
      provider: 'RVV',
      dischargeDate: null,
      lengthOfStay: null,
      episodes: 1,
    });
  });

  it('counts days across months and a leap day', () => {
    expect(daysBetween('2024-02-28', '2024-03-01')).toBe(2);
    expect(daysBetween('2024-03-31', '2024-03-31')).toBe(0);
  });
});

describe('continuous inpatient spells', () => {
  const first = episode({
    dischargeDate: '2024-03-05',
    episodeEnd: '2024-03-05',
    dischargeMethod: '1',
    dischargeDestination: '51',
    diagnoses: ['S7200'],
  });
  const next = (over: Partial<ApcEpisode>): ApcEpisode =>
    episode({
      provider: 'RVV',
      spellNumber: 'S9',
      admissionDate: '2024-03-06',
      episodeStart: '2024-03-06',
      episodeEnd: '2024-03-20',
      dischargeDate: '2024-03-20',
      admissionMethod: '81',
      admissionSource: '51',
      dischargeMethod: '1',
      dischargeDestination: '19',
      diagnoses: ['Z501'],
      ...over,
    });

  it('joins a transfer to another provider within two days into one spell, with its whole length of stay', () => {
    const cips = continuousSpells(providerSpells([first, next({})]));
    expect(cips).toHaveLength(1);
    expect(cips[0]).toMatchObject({
      admissionDate: '2024-03-01',
      dischargeDate: '2024-03-20',
      lengthOfStay: 19,
      diagnoses: ['S7200', 'Z501'],
    });
    expect(cips[0]?.spells.map((s) => s.provider)).toEqual(['RWF', 'RVV']);
  });

  it('joins on any one transfer marker: the destination, the source or the method', () => {
    const plain = { admissionMethod: '21', admissionSource: '19' };
    expect(continuousSpells(providerSpells([first, next(plain)]))).toHaveLength(1); // destination 51
    const home = { ...first, dischargeDestination: '19' };
    expect(continuousSpells(providerSpells([home, next(plain)]))).toHaveLength(2);
    expect(continuousSpells(providerSpells([home, next({ admissionMethod: '21' })]))).toHaveLength(1); // source 51
    expect(continuousSpells(providerSpells([home, next({ admissionSource: '19' })]))).toHaveLength(1); // method 81
  });

  it('keeps apart a gap of three days, a death, and another person', () => {
    expect(
      continuousSpells(
        providerSpells([first, next({ admissionDate: '2024-03-08', episodeStart: '2024-03-08' })]),
      ),
    ).toHaveLength(2);
    expect(
      continuousSpells(
        providerSpells([first, next({ admissionDate: '2024-03-07', episodeStart: '2024-03-07' })]),
      ),
    ).toHaveLength(1);
    expect(continuousSpells(providerSpells([{ ...first, dischargeMethod: '4' }, next({})]))).toHaveLength(2);
    expect(continuousSpells(providerSpells([first, next({ person: 'p2' })]))).toHaveLength(2);
  });
});
