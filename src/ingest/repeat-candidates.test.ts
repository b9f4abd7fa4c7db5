import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KernelError } from '../errors.ts';
import { repeatCandidates } from './repeat-candidates.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-repeats-'));

/** The candidates found in `body` (lines after the header, as written). */
async function candidatesOf(
  body: string[],
  { eol = '\n', parallelAboveBytes = 1e9 } = {},
): Promise<number[]> {
  const file = path.join(dir, `f${Math.random().toString(36).slice(2)}.csv`);
  writeFileSync(file, ['source_line,a,b,c', ...body].join(eol) + eol);
  return (await repeatCandidates(file, { parallelAboveBytes })).lines;
}

describe('repeatCandidates', () => {
  it('finds rows whose values are the same once trimmed and unquoted, whatever the line', async () => {
    expect(
      await candidatesOf([
        '2,x,1,2025-04-01',
        '3,y,1,2025-04-01',
        '4, x ,"1",2025-04-01 ', // padded and quoted: the same as line 2
        '5,"a""b",,',
        '6,"a""b","",', // a quoted quote, a quoted empty value: the same as line 5
        '7,"a"",b",,', // a comma inside quotes: not the same as anything
        '9,y,01,2025-04-01', // a number written otherwise: not the same as line 3
      ]),
    ).toEqual([2, 4, 5, 6]);
  });

  it('says whether a quoted field may hold a line break (a line with an odd number of quotes)', async () => {
    const flagOf = async (body: string[], parallelAboveBytes = 1e9): Promise<boolean> => {
      const file = path.join(dir, `q${Math.random().toString(36).slice(2)}.csv`);
      writeFileSync(file, ['source_line,a,b,c', ...body].join('\n') + '\n');
      return (await repeatCandidates(file, { parallelAboveBytes })).quotedLineBreaks;
    };
    const quoted = ['2,"a""b",",",x', '3," y ",z,w'];
    expect(await flagOf(quoted)).toBe(false);
    expect(await flagOf([...quoted, '4,"two', 'lines",z,w', '5,a,b,c'])).toBe(true);
    expect(await flagOf([...quoted, '4,"two', 'lines",z,w', '5,a,b,c'], 1)).toBe(true);
  });

  it('keeps line numbers too large for four bytes', async () => {
    expect(
      await candidatesOf(['2,x,y,z', '4294967296,a,b,c', '4294967300,a,b,c', '9007199254740991,x,y,z']),
    ).toEqual([2, 4294967296, 4294967300, 9007199254740991]);
  });

  it('finds nothing in a file without repeats', async () => {
    expect(await candidatesOf(['2,a,b,c', '3,a,b,d', '4,b,a,c', '5,ab,,c', '6,a,bc,'])).toEqual([]);
  });

  it('counts a row that only starts like another as different', async () => {
    expect(await candidatesOf(['2,abcdefgh,1,2', '3,abcdefgh,1,23', '4,abcdefgh,1,2 '])).toEqual([2, 4]);
  });

  it('never misses a repeat, however the values are written (property)', async () => {
    const value = fc.stringMatching(/^[a-z0-9 ",]{0,6}$/);
    const writeAs = (v: string, how: number): string => {
      const t = v.trim();
      if (t.includes('"') || t.includes(',') || how === 1) return ` "${v.replaceAll('"', '""')}" `.trim();
      return how === 2 ? ` ${t} ` : t;
    };
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(value, value, value), { minLength: 1, maxLength: 12 }),
        fc.array(fc.tuple(fc.nat(), fc.nat(2), fc.nat(2), fc.nat(2)), { maxLength: 6 }),
        async (rows, copies) => {
          const body = rows.map((r) => r.map((v) => writeAs(v, 0)));
          for (const [pick, h1, h2, h3] of copies) {
            const r = rows[pick % rows.length] as [string, string, string];
            body.push([writeAs(r[0], h1), writeAs(r[1], h2), writeAs(r[2], h3)]);
          }
          const lines = body.map((values, i) => `${i + 2},${values.join(',')}`);
          const found = new Set(await candidatesOf(lines));
          // every row whose trimmed values another row shares must be a candidate
          const norm = (values: string[]): string =>
            JSON.stringify(
              values.map((v) => {
                const t = v.trim();
                return t.startsWith('"') ? t.slice(1, -1).replaceAll('""', '"').trim() : t;
              }),
            );
          const seen = new Map<string, number>();
          for (const values of body) seen.set(norm(values), (seen.get(norm(values)) ?? 0) + 1);
          body.forEach((values, i) => {
            if ((seen.get(norm(values)) ?? 0) > 1) expect(found.has(i + 2)).toBe(true);
          });
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('repeatCandidates, in parts', () => {
  it('finds the same rows when worker threads key the file in parts, CRLF and all', async () => {
    const body: string[] = [];
    for (let i = 0; i < 3000; i++)
      body.push(`${i + 2},${i % 1000 === 7 ? 'v7,x7' : `v${i},x${i % 13}`},2025-04-01`);
    body.push('3002, v7 ,"x7",2025-04-01'); // the same as lines 9, 1009 and 2009 once tidied
    body.push('3003,"multi\nline",b,c'); // a quoted line break: judged by its first line
    body.push('3005,"multi\nline",b,c');
    const whole = await candidatesOf(body, { eol: '\r\n' });
    const parts = await candidatesOf(body, { eol: '\r\n', parallelAboveBytes: 1 });
    expect(parts).toEqual(whole);
    expect(whole).toEqual([9, 1009, 2009, 3002, 3003, 3005]);
  });
});

describe('repeatCandidates, tidy', () => {
  const tidyOf = async (body: string[], parallelAboveBytes = 1e9): Promise<boolean> => {
    const file = path.join(dir, `t${Math.random().toString(36).slice(2)}.csv`);
    writeFileSync(file, ['source_line,a,b,c', ...body].join('\n') + '\n');
    return (await repeatCandidates(file, { parallelAboveBytes })).tidy;
  };

  it('says a file needs no trimming only when no value is padded or quoted', async () => {
    expect(await tidyOf(['2,a,b c,d', '3,,e,'])).toBe(true);
    for (const padded of ['3, x,e,f', '3,x ,e,f', '3,x,e,f ', '3,x, ,f', '3,"x",e,f']) {
      expect(await tidyOf(['2,a,b,c', padded])).toBe(false);
      expect(await tidyOf(['2,a,b,c', padded], 1)).toBe(false);
    }
  });
});

describe('repeatCandidates, a file gone', () => {
  it('is a conflict with one clear message, on this thread or in workers', async () => {
    for (const parallelAboveBytes of [1e9, 1]) {
      const error = await repeatCandidates(path.join(dir, 'gone.csv'), { parallelAboveBytes }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(KernelError);
      expect(error).toMatchObject({ code: 'conflict' });
      expect((error as Error).message).toBe('The file gone.csv could not be read while it was being loaded');
    }
  });
});
