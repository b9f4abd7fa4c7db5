import { describe, expect, it } from 'vitest';
import { formatTable } from '../console/console.ts';
import { listedAsTable } from './list-table.ts';

describe('a list operation in the CLI', () => {
  const cli = listedAsTable('members', ['code', 'name'], (m: { code: string; name: string | null }) => [
    m.code,
    m.name,
  ]);
  const output = {
    members: [
      { code: 'RWF', name: 'Maidstone and Tunbridge Wells' },
      { code: 'RVV', name: null },
    ],
  };

  it('prints the list as a table, one row an item', () => {
    expect(cli.print(output)).toBe(
      formatTable(
        ['code', 'name'],
        [
          ['RWF', 'Maidstone and Tunbridge Wells'],
          ['RVV', null],
        ],
      ),
    );
  });

  it('answers --json with the list itself, not the object holding it', () => {
    expect(cli.json(output)).toEqual(output.members);
  });
});
