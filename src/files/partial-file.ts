import { rmSync, statSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import { KernelError } from '../errors.ts';

/**
 * Removes what a failed run wrote to `partial` through `stream`. The stream opens its file
 * asynchronously: a failure on the first line can come before the open, which would then
 * create the file after it was removed. So it waits for the stream to close first.
 */
export async function discardPartialFile(stream: WriteStream, partial: string): Promise<void> {
  if (!stream.closed) {
    await new Promise<void>((resolve) => {
      stream.once('close', () => resolve());
      stream.destroy();
    });
  }
  rmSync(partial, { force: true });
}

const INTERRUPTS = ['SIGINT', 'SIGTERM'] as const;

/**
 * Until the answer is called, an interrupt (Ctrl-C's SIGINT, or SIGTERM) first runs `discard`
 * (synchronous: what a run has half written), then ends the process as the signal would have
 * (unless something else in the process listens for it).
 * By default Node ends the process at once on either signal, so no `finally` runs and a
 * `.partial` file would stay behind.
 */
export function discardOnInterrupt(discard: () => void): () => void {
  const stop = (): void => {
    for (const signal of INTERRUPTS) process.removeListener(signal, interrupted);
  };
  function interrupted(signal: NodeJS.Signals): void {
    stop();
    try {
      discard();
    } finally {
      // With no listener left, the signal's default action ends the process (exit 130 or 143);
      // where another part of the process listens too (a server closing), it decides.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    }
  }
  for (const signal of INTERRUPTS) process.on(signal, interrupted);
  return stop;
}

/**
 * Refuses, before any work, an output path that cannot be written: a folder where a file
 * belongs, or a folder that does not exist. `option` is the flag that named it (`--out`).
 * Exit code 78 (`config`), as every other output-location problem.
 */
export function refuseUnwritableOutput(file: string, option: string): void {
  const folder = path.dirname(path.resolve(file));
  const kind = (p: string): 'file' | 'folder' | 'none' => {
    try {
      return statSync(p).isDirectory() ? 'folder' : 'file';
    } catch {
      return 'none';
    }
  };
  if (kind(file) === 'folder') {
    throw new KernelError('config', `${file} is a folder; ${option} names the file to write`, {
      where: { file },
      hint: `Give a file name in that folder, such as ${path.join(file, 'out.csv')}`,
    });
  }
  const parent = kind(folder);
  if (parent !== 'folder') {
    throw new KernelError(
      'config',
      parent === 'none'
        ? `The folder ${folder} does not exist, so ${file} cannot be written`
        : `${folder} is a file, not a folder, so ${file} cannot be written`,
      { where: { file }, hint: `Create the folder first, or give ${option} in a folder that exists` },
    );
  }
}

/** Waits for `stream` to open its file, turning a failure (no permission, say) into a refusal. */
export async function openedForWriting(stream: WriteStream, file: string): Promise<void> {
  if (stream.pending === false) return;
  try {
    await new Promise<void>((resolve, reject) => {
      stream.once('ready', () => resolve());
      stream.once('error', reject);
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new KernelError('config', `Cannot write ${file} (${code})`, {
      where: { file },
      hint: 'Check the folder exists and that this user may write to it',
    });
  }
}
