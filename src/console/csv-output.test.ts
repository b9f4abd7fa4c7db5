import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { csvAwareIo, formatTable, printTablesAsCsv, type CliIo } from './console.ts';

/** Where each line went: standard output or standard error. */
function captured(): { io: CliIo; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    out: (t) => void out.push(t),
    err: (t) => void err.push(t),
    isTTY: false,
    stdin: new PassThrough(),
  };
  return { io: csvAwareIo(io), out, err };
}

describe('--csv output', () => {
  afterEach(() => printTablesAsCsv(false));

  it('keeps standard output to the tables, and sends the lines around them to standard error', () => {
    printTablesAsCsv(true);
    const { io, out, err } = captured();
    io.out(`Loads of RWF\n${formatTable(['load', 'rows'], [['ld-1', 3]])}\n1 load.`);
    io.out('A hint.');
    expect(out).toEqual(['load,rows\nld-1,3']);
    expect(err).toEqual(['Loads of RWF', '1 load.', 'A hint.']);
  });

  it('takes a one-column table only on lines of its own, not inside a caption', () => {
    printTablesAsCsv(true);
    const { io, out, err } = captured();
    const table = formatTable(['load'], []);
    io.out('2 of 1534 loads.');
    io.out(table);
    expect(out).toEqual(['load']);
    expect(err).toEqual(['2 of 1534 loads.']);
  });

  it('changes nothing without --csv', () => {
    const { io, out, err } = captured();
    io.out(`${formatTable(['load'], [['ld-1']])}\n1 load.`);
    expect(out).toHaveLength(1);
    expect(err).toEqual([]);
  });
});
