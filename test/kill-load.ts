/**
 * Killing a load for real (issue 23, C1): a synthetic APC feed de-identified and signed as a
 * member's agent sends it, and a load of it run in a child process that is sent SIGKILL at a
 * chosen point. Used by test/e2e/feeds-kill.test.ts and bench/kill.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createAgreement } from '../src/governance/agreements.ts';
import { seedOrganisations } from '../src/governance/organisations.ts';
import { catalogueSpecs } from '../src/ingest/catalogue-specs.ts';
import type { ControlTotals } from '../src/privacy/manifest.ts';
import { trustSigningKey } from '../src/ingest/trusted-keys.ts';
import type { Store } from '../src/store/store.ts';
import { ROOT } from './cli.ts';
import { signedFeed } from './signed-feed.ts';

const spec = catalogueSpecs.spec('apc');

/** Writes RWF's APC feed for `period` into `dir` (one signing key per folder); answers its path. */
export async function apcFeed(
  dir: string,
  name: string,
  rows: number,
  period: string,
  seed: number,
  /** the sender's own totals, carried in the signed manifest */
  controlTotals?: ControlTotals,
  /** changes the identifiable extract before the agent reads it (a test's faults) */
  spoil?: (extract: string) => void,
): Promise<string> {
  return signedFeed(dir, name, {
    spec,
    rows,
    period,
    seed,
    ...(controlTotals ? { controlTotals } : {}),
    ...(spoil ? { spoil } : {}),
  });
}

/** What a load of RWF's APC feeds needs: the members, an agreement, RWF's key trusted. */
export async function prepareForApc(store: Store, dir: string): Promise<void> {
  await seedOrganisations(store, 'test');
  await createAgreement(store, { org: 'RWF', datasets: ['apc'], from: '2025-01', to: '2025-12' }, 'test');
  await trustSigningKey(store, 'RWF', readFileSync(path.join(dir, 'rwf.key.pub'), 'utf8'), 'test');
}

export interface KillOutcome {
  /** false when the load finished before the signal landed */
  killed: boolean;
  stdout: string;
}

/**
 * Starts a load of `file` in a child process and sends SIGKILL when it reaches `phase`: at
 * once while the load is held there (`block`), or `delayMs` after it passed it (`continue`).
 */
export function killLoadAt(
  config: { dataDir: string; store: string },
  file: string,
  phase: string,
  options: { mode?: 'block' | 'continue'; delayMs?: number } = {},
): Promise<KillOutcome> {
  const mode = options.mode ?? 'block';
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(ROOT, 'test', 'e2e', 'feeds-kill-child.ts'),
        config.dataDir,
        config.store,
        file,
        phase,
        mode,
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (sent || !stdout.includes(`AT ${phase}`)) return;
      sent = true;
      if (mode === 'block' || !options.delayMs) child.kill('SIGKILL');
      else setTimeout(() => child.kill('SIGKILL'), options.delayMs);
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (signal === 'SIGKILL') resolve({ killed: true, stdout });
      else if (code === 0 && mode === 'continue') resolve({ killed: false, stdout });
      else reject(new Error(`the load was not killed: ${stdout} ${stderr}`));
    });
  });
}
