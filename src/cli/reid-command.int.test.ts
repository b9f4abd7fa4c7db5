import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReidWorld, principal, type ReidWorld } from '../../test/reid-world.ts';
import { testStores } from '../../test/stores.ts';
import { runOperation } from '../operations/operation.ts';
import { actorOf, operatorPrincipal, type Principal } from '../operations/principal.ts';
import { openStore } from '../store/open-store.ts';
import type { Store } from '../store/store.ts';
import { addAccounts } from '../workspace/workspace-world.ts';
import type { CliContext } from './cli-context.ts';
import { registerReidCommands } from './reid-command.ts';

/**
 * `kernel reidentification …` on a real store, as the CLI's principal (the operator, or a
 * user as with KERNEL_TOKEN): the generated commands' flags, the hand-written request,
 * decide and download, on both engines.
 */
describe.each(testStores())('kernel reidentification commands on $engine', (engine) => {
  let store: Store;
  let dataDir = '';
  let world: ReidWorld;
  let as: Principal = operatorPrincipal('test');
  let out = '';
  const program = new Command().exitOverride();

  beforeAll(async () => {
    const place = await engine.fresh();
    dataDir = place.dataDir;
    store = await openStore(place);
    world = await buildReidWorld(store);
    // The second approvers named below are accounts that exist, and so is the requester, whose
    // reading is checked again at each approval.
    await addAccounts(store, [
      { id: 'u-analyst', role: 'analyst', org: null },
      { id: 'u-2nd', role: 'viewer', org: null },
      { id: 'u-3rd', role: 'viewer', org: null },
    ]);
    const context = {
      io: { out: (t: string) => void (out += `${t}\n`), err: () => undefined, isTTY: false },
      actor: 'cli:test',
      config: () => ({ config: { dataDir, keyPath: undefined } }),
      withStore: <T>(work: (s: Store) => Promise<T>) => work(store),
      withPrincipal: <T>(work: (s: Store, p: Principal, actor: string) => Promise<T>) =>
        work(store, as, actorOf(as)),
      run: (operation: never, input: Record<string, unknown>, nameOf?: (f: string) => string) =>
        runOperation(operation, { store, config: { dataDir } as never, principal: as }, input, nameOf),
    } as unknown as CliContext;
    program.command('keys');
    registerReidCommands(program, context);
  });
  afterAll(() => store.close());

  const k = async (who: Principal, ...argv: string[]) => {
    as = who;
    out = '';
    await program.parseAsync(['node', 'kernel', ...argv]);
    return out;
  };

  it('sets the rules, asks with a cohort file, decides twice and downloads the sealed file', async () => {
    const operator = operatorPrincipal('test');
    const analyst = principal('u-analyst', 'analyst', null);
    const uc = world.useCases.direct;
    expect(
      await k(operator, 'reidentification', 'set', uc, '--size-limit', '50', '--approver', 'u-2nd,u-3rd'),
    ).toContain('at most 50 people');
    expect(await k(analyst, 'reidentification', 'settings', uc)).toContain('administrators, u-2nd, u-3rd');

    const cohort = path.join(dataDir, 'cohort.csv');
    writeFileSync(
      cohort,
      `person_token,risk\n${[0, 1].map((p) => `${world.tokenOf(world.nhs(p))},0.9`).join('\n')}\n`,
    );
    const asked = await k(
      analyst,
      'reidentification',
      'request',
      '--usecase',
      uc,
      '--controller',
      'rwf',
      '--reason',
      'Frailty case finding: a review for each',
      '--field',
      'given_name,phone',
      '--cohort',
      cohort,
    );
    const id = /^(REID-[A-Z]+):/.exec(asked)?.[1] ?? '';
    expect(asked).toContain('2 people of RWF, awaiting');

    await expect(k(analyst, 'reidentification', 'decide', id, '--decision', 'approve')).rejects.toMatchObject(
      {
        code: 'forbidden',
      },
    );
    expect(
      await k(principal('u-ig', 'ig-lead', 'RWF'), 'reidentification', 'decide', id, '--decision', 'approve'),
    ).toContain('needs the other approval');
    expect(
      await k(principal('u-2nd', 'viewer', null), 'reidentification', 'decide', id, '--decision', 'approve'),
    ).toContain('is released to RWF');
    const list = JSON.parse(
      await k(operator, 'reidentification', 'list', '--state', 'released', '--json'),
    ) as {
      id: string;
    }[];
    expect(list.map((r) => r.id)).toContain(id);
    const sealed = path.join(dataDir, 'sealed.json');
    expect(
      await k(principal('u-ig', 'ig-lead', 'RWF'), 'reidentification', 'download', id, '--out', sealed),
    ).toContain(`only RWF's agent can open it`);
    const transparency = JSON.parse(
      await k(
        principal('u-ig', 'ig-lead', 'RWF'),
        'reidentification',
        'transparency',
        '--org',
        'RPA',
        '--json',
      ),
    ) as { id: string }[];
    // An IG lead gets their own organisation's record, whatever they name.
    expect(transparency.map((r) => r.id)).toContain(id);
    expect(await k(operator, 'reidentification', 'monthly')).toMatch(/\d{4}-\d{2}\s+1\s+1\s+0/);
  });
});
