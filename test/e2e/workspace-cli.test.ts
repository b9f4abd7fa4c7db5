/**
 * Issue 15 at the command line. On the embedded store, an analyst with their API token in
 * KERNEL_TOKEN queries their workspace and requests an output; the operator (an
 * administrator, who sees aggregates only) holds no workspace. On PostgreSQL, the operator
 * makes the analysts' own logins, each new password printed once and never again.
 */
import { describe, expect, it } from 'vitest';
import { createApiToken } from '../../src/server/auth/api-tokens.ts';
import { openStore } from '../../src/store/open-store.ts';
import { buildWorkspaceWorld } from '../../src/workspace/workspace-world.ts';
import { runCli, withKernelToken } from '../cli.ts';
import { testStores } from '../stores.ts';

describe.each(testStores())('the workspace from the CLI on $engine', (engine) => {
  it('serves the analyst with a token, and refuses what it must', async () => {
    const where = await engine.fresh();
    const store = await openStore(where);
    const world = await buildWorkspaceWorld(store, 'cli');
    const { token } = await createApiToken(store, `${world.users.analyst1.id}@example.org`, 'test');
    await store.close();
    const flags = ['--data', where.dataDir, '--store', where.store];
    const useCase = world.useCases.planning;

    if (engine.engine === 'duckdb') {
      const result = await withKernelToken(token, () =>
        runCli([
          'query',
          '--usecase',
          useCase,
          '--sql',
          'SELECT org_code, count(*) AS n FROM msds_booking GROUP BY 1 ORDER BY 1',
          '--json',
          ...flags,
        ]),
      );
      expect(result.stderr).toBe('');
      // The table names what the use case covers but the workspace cannot offer, as --json does.
      const show = (...more: string[]) =>
        withKernelToken(token, () => runCli(['workspace', 'show', '--usecase', useCase, ...more, ...flags]));
      const { unavailable } = JSON.parse((await show('--json')).stdout) as {
        unavailable: { datasetId: string; reason: string }[];
      };
      expect(unavailable.length).toBeGreaterThan(0);
      const table = (await show()).stdout;
      for (const u of unavailable) expect(table).toContain(`unavailable: ${u.datasetId}: ${u.reason}`);
      const answer = JSON.parse(result.stdout) as { columns: { name: string }[]; total: number };
      expect(answer.columns.map((c) => c.name)).toEqual(['org_code', 'n']);
      expect(answer.total).toBeGreaterThan(0);

      const escape = await withKernelToken(token, () =>
        runCli(['query', '--usecase', useCase, '--sql', "SELECT * FROM read_csv('/etc/passwd')", ...flags]),
      );
      expect(escape.code).not.toBe(0);
      expect(escape.stderr).toMatch(/^kernel: /);

      const operator = await withKernelToken(undefined, () =>
        runCli(['query', '--usecase', useCase, '--sql', 'SELECT 1', ...flags]),
      );
      expect(operator.code).toBe(77);
      expect(operator.stderr).toContain(
        'Your role (admin) may not run one SELECT in your workspace on a use case. At the command line',
      );
      // The operator is told how to act as someone who may, not to ask an administrator.
      expect(operator.stderr).toContain('set KERNEL_TOKEN to their API token (kernel tokens new)');
      expect(operator.stderr).not.toContain('Ask an administrator');

      const requested = await withKernelToken(token, () =>
        runCli([
          'outputs',
          'request',
          '--usecase',
          useCase,
          '--sql',
          'SELECT org_code, count(*) AS n FROM msds_booking GROUP BY 1',
          '--title',
          'Bookings',
          '--description',
          'By trust',
          '--rows',
          'org_code',
          '--count',
          'n',
          '--json',
          ...flags,
        ]),
      );
      expect(requested.stderr).toBe('');
      expect(JSON.parse(requested.stdout)).toMatchObject({ kind: 'aggregate', state: 'submitted' });

      // Bad input: a rows column without a count column, and a format Kernel does not make.
      const half = await withKernelToken(token, () =>
        runCli([
          'outputs',
          'request',
          '--usecase',
          useCase,
          '--sql',
          'SELECT 1 AS n',
          '--title',
          't',
          '--description',
          'd',
          '--rows',
          'org_code',
          ...flags,
        ]),
      );
      expect(half.code).toBe(64);
      expect(half.stderr).toContain('An aggregate output names both its rows and its count column');
      const format = await withKernelToken(token, () =>
        runCli([
          'outputs',
          'request',
          '--usecase',
          useCase,
          '--sql',
          'SELECT 1',
          '--title',
          't',
          '--description',
          'd',
          '--format',
          'pdf',
          ...flags,
        ]),
      );
      expect(format.code).toBe(64);
      expect(format.stderr).toContain("'pdf'");
      const listed = await withKernelToken(token, () => runCli(['outputs', 'list', '--json', ...flags]));
      expect((JSON.parse(listed.stdout) as unknown[]).length).toBe(1);
    } else {
      const first = await withKernelToken(undefined, () =>
        runCli(['workspace', 'logins', '--json', ...flags]),
      );
      expect(first.stderr).toBe('');
      const made = JSON.parse(first.stdout) as { logins: { userId: string; password: string | null }[] };
      const analyst = made.logins.find((l) => l.userId === world.users.analyst1.id);
      expect(analyst?.password).toMatch(/.{20,}/);
      const again = await withKernelToken(undefined, () =>
        runCli(['workspace', 'logins', '--json', ...flags]),
      );
      const kept = JSON.parse(again.stdout) as { logins: { userId: string; password: string | null }[] };
      expect(kept.logins.every((l) => l.password === null)).toBe(true);
      const refused = await withKernelToken(token, () => runCli(['workspace', 'logins', ...flags]));
      expect(refused.code).toBe(77);
    }
  }, 120_000);
});
