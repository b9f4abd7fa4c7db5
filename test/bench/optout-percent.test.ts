/** The KID benches' `--optout-percent` (bench/kid/optouts.ts): a share from 0 to 100, anything else refused with a line to print. */
import { expect, it } from 'vitest';
import { optOutPercentOf } from '../../bench/kid/optouts.ts';

it('takes a share of people from 0 to 100 and refuses anything else, saying what to give', () => {
  expect(optOutPercentOf('5', 'bench/kid')).toBe(5);
  expect(optOutPercentOf('0', 'bench/kid')).toBe(0);
  expect(optOutPercentOf('100', 'bench/kid')).toBe(100);
  for (const bad of ['five', '', '-1', '101', undefined])
    expect(optOutPercentOf(bad, 'bench/kid')).toEqual({
      refused: `bench/kid: --optout-percent ${String(bad)} is not a share of people; give a number from 0 to 100 (5 is England's)`,
    });
});
