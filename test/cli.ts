import { spawn } from 'node:child_process';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { CliIo } from '../src/cli/cli-context.ts';
import { main } from '../src/cli/main.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const KERNEL_BIN = path.join(ROOT, 'bin', 'kernel.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in this process, capturing what it prints: fast, for most tests. */
export async function runCli(argv: string[], stdin = ''): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const input = new PassThrough();
  input.end(stdin);
  const io: CliIo = {
    out: (text) => void (stdout += text.endsWith('\n') ? text : `${text}\n`),
    err: (text) => void (stderr += text.endsWith('\n') ? text : `${text}\n`),
    isTTY: false,
    stdin: input,
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

/**
 * Runs `work` with KERNEL_TOKEN set to `token` (unset when none), as a user who exported
 * their API token would run the CLI, and puts the variable back as it was after.
 */
export async function withKernelToken<T>(token: string | undefined, work: () => Promise<T>): Promise<T> {
  const before = process.env.KERNEL_TOKEN;
  if (token) process.env.KERNEL_TOKEN = token;
  else delete process.env.KERNEL_TOKEN;
  try {
    return await work();
  } finally {
    if (before === undefined) delete process.env.KERNEL_TOKEN;
    else process.env.KERNEL_TOKEN = before;
  }
}

/** Runs `node bin/kernel.js` as a real process: exit codes, signals, no leaked stack traces. */
export function spawnCli(
  argv: string[],
  options: { env?: NodeJS.ProcessEnv; stdin?: string; cwd?: string } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [KERNEL_BIN, ...argv], {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}

/** `kernel demo` on a world small enough for a test: 300 people over two months, not served. */
export const SMALL_DEMO = ['demo', '--no-serve', '--people', '300', '--from', '2021-01', '--to', '2021-02'];
