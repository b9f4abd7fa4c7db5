/**
 * Output requests end to end at the command line, on the embedded store (the only one with a
 * workspace sandbox): what leaves in a released file, and what a failed download leaves behind.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { listAudit } from '../../src/audit/audit-log.ts';
import { warehouseTable } from '../../src/governance/datasets.ts';
import type { Principal } from '../../src/operations/principal.ts';
import { checkOutput, getOutputRequest } from '../../src/outputs/output-requests.ts';
import { createApiToken } from '../../src/server/auth/api-tokens.ts';
import { addUser } from '../../src/server/auth/user-accounts.ts';
import { openStore } from '../../src/store/open-store.ts';
import { buildWorkspaceWorld } from '../../src/workspace/workspace-world.ts';
import { runCli, withKernelToken } from '../cli.ts';
import { testStores } from '../stores.ts';

const duckdb = testStores().filter((engine) => engine.engine === 'duckdb');

describe.each(duckdb)('outputs from the CLI on $engine', (engine) => {
  it('lets nothing derived from a token or a record key leave, and records a download only once written', async () => {
    const where = await engine.fresh();
    const store = await openStore(where);
    const world = await buildWorkspaceWorld(store, 'out');
    const { token } = await createApiToken(store, `${world.users.analyst1.id}@example.org`, 'test');
    const checkers: Principal[] = [];
    for (const org of ['RWF', 'RVV']) {
      const { user } = await addUser(
        store,
        {
          email: `checker.${org}@outputs.test`,
          role: 'output-checker',
          org,
          password: 'a long test passphrase 1',
        },
        'test',
      );
      checkers.push({
        userId: user.id,
        email: user.email,
        role: 'output-checker' as const,
        org,
        via: 'session' as const,
        mustChangePassword: false,
      });
    }
    const raw = await store.query<{ person_token: string; UniqPregID: string }>(
      `SELECT person_token, UniqPregID FROM ${warehouseTable('msds-booking')}`,
    );
    await store.close();
    const flags = ['--data', where.dataDir, '--store', where.store];
    const useCase = world.useCases.planning;
    const request = async (sql: string, ...more: string[]) => {
      const made = await withKernelToken(token, () =>
        runCli([
          'outputs',
          'request',
          '--usecase',
          useCase,
          '--sql',
          sql,
          '--title',
          't',
          '--description',
          'd',
          '--json',
          ...more,
          ...flags,
        ]),
      );
      return made;
    };
    const released = async (sql: string, ...more: string[]): Promise<string> => {
      const made = await request(sql, ...more);
      expect(made.stderr).toBe('');
      const { id } = JSON.parse(made.stdout) as { id: string };
      const s = await openStore(where);
      for (const checker of checkers) await checkOutput(s, checker, id, 'approve', '', 'test');
      await s.close();
      return id;
    };
    const download = (id: string, out: string) =>
      withKernelToken(token, () => runCli(['outputs', 'download', id, '--out', out, ...flags]));

    // Record level: tokens and record keys, as they are and changed in shape.
    const recordLevel = await released(
      `SELECT person_token, upper(person_token) AS t_upper, person_token || 'x' AS t_suffix,
              substr(person_token, 1, 40) AS t_part, UniqPregID, lower(UniqPregID) AS k_lower,
              substr(UniqPregID, 2) AS k_part
         FROM msds_booking`,
    );
    const file = path.join(where.dataDir, 'record-level.csv');
    expect((await download(recordLevel, file)).code).toBe(0);
    const text = readFileSync(file, 'utf8').toLowerCase();
    expect(text.split('\r\n').length).toBeGreaterThan(2);
    for (const row of raw) {
      expect(text).not.toContain(row.person_token.slice(0, 40));
      expect(text).not.toContain(row.UniqPregID.slice(1).toLowerCase());
    }

    // Aggregate: a token as the rows' label is a pseudonym too.
    const aggregate = await released(
      'SELECT person_token AS who, count(*) AS n FROM msds_booking GROUP BY 1',
      '--rows',
      'who',
      '--count',
      'n',
    );
    const table = path.join(where.dataDir, 'aggregate.csv');
    expect((await download(aggregate, table)).code).toBe(0);
    const labels = readFileSync(table, 'utf8').toLowerCase();
    for (const row of raw) expect(labels).not.toContain(row.person_token);

    // A group labelled "Total" would read as the file's total: refused, naming the field.
    const total = await request(
      "SELECT CASE WHEN org_code = 'RWF' THEN 'Total' ELSE org_code END AS org, count(*) AS n FROM msds_booking GROUP BY 1",
      '--rows',
      'org',
      '--count',
      'n',
    );
    expect(total.code).toBe(64);
    expect(JSON.parse(total.stderr)).toMatchObject({
      error: {
        code: 'usage',
        message: 'The column "org" has a value "Total", which the file uses for its totals',
        where: { field: 'rows' },
      },
    });

    // A download to a folder that does not exist: refused as the caller's to fix, nothing recorded.
    const again = await released(
      'SELECT org_code, count(*) AS n FROM msds_booking GROUP BY 1',
      '--rows',
      'org_code',
      '--count',
      'n',
    );
    const nowhere = path.join(where.dataDir, 'no-such-folder', 'o.csv');
    const failed = await download(again, nowhere);
    expect(failed.code).toBe(78);
    expect(failed.stderr).toContain(nowhere);
    expect(failed.stderr).not.toContain('internal error');
    const s = await openStore(where);
    expect((await getOutputRequest(s, again)).downloadedAt).toBeNull();
    const audit = await listAudit(s, { limit: 500 });
    expect(audit.filter((e) => e.target === `output:${again}` && e.action === 'output.downloaded')).toEqual(
      [],
    );
    await s.close();
    expect((await download(again, path.join(where.dataDir, 'o.csv'))).code).toBe(0);
  }, 180_000);
});
