import { describe, expect, it } from 'vitest';
import { shapeGlobs } from './row-rules.ts';

describe('shapeGlobs', () => {
  it('spells a simple shape as globs of one class a character, with their lengths', () => {
    expect(shapeGlobs('[A-Z][0-9]{2}[0-9]?')).toEqual([
      { glob: '[A-Z][0-9][0-9]', length: 3 },
      { glob: '[A-Z][0-9][0-9][0-9]', length: 4 },
    ]);
    expect(shapeGlobs('[A-Z]{2}[0-9]{2}[A-Z]')).toEqual([{ glob: '[A-Z][A-Z][0-9][0-9][A-Z]', length: 5 }]);
    expect(shapeGlobs('X[0-9A-F]{0,1}')).toEqual([
      { glob: 'X', length: 1 },
      { glob: 'X[0-9A-F]', length: 2 },
    ]);
    expect(shapeGlobs('[A-Z][0-9]{2}[0-9A-Z]{0,3}')?.map((g) => g.length)).toEqual([3, 4, 5, 6]);
  });

  it('leaves any other shape to the regular expression', () => {
    for (const shape of [
      '[0-9]+',
      '[0-9]*',
      '[0-9]{2,}',
      'A|B',
      '(AB)?',
      '[^0-9]',
      '\\d{3}',
      '[A-Z]{1,2} [0-9]',
      '.{3}',
      '[Z-A]',
      '[0-9]{3,2}',
      '[A-Z-]',
      '[0-9]{1,3}[A-Z]{0,3}', // twelve globs, more than it is worth
    ])
      expect(shapeGlobs(shape), shape).toBeUndefined();
  });
});
