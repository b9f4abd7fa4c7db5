/**
 * Writing secret files: created readable by their owner only (mode 0600) and never over
 * an existing file, so a key custodian cannot lose a key by a slip of the keyboard.
 */
import { closeSync, existsSync, openSync, readFileSync, writeSync, constants } from 'node:fs';
import { KernelError } from '../errors.ts';

export function writeSecretFile(file: string, content: string, what: string): void {
  if (existsSync(file)) {
    throw new KernelError('conflict', `${file} already exists; Kernel will not overwrite a ${what}`, {
      hint: 'Choose another --out, or move the old file away first if you really mean to replace it',
    });
  }
  let fd: number;
  try {
    // O_EXCL: fail rather than follow a file created between the check and the open.
    fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (error) {
    throw new KernelError('config', `Cannot create ${file}: ${(error as Error).message}`, {
      hint: 'Check the folder exists and you may write to it',
    });
  }
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
}

export function writePublicFile(file: string, content: string, what: string): void {
  if (existsSync(file)) {
    throw new KernelError('conflict', `${file} already exists; Kernel will not overwrite a ${what}`, {
      hint: 'Choose another --out',
    });
  }
  const fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
}

export function readKeyText(file: string, what: string, flag: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    throw new KernelError('config', `Cannot read the ${what} ${file}`, {
      hint: `Check the path given with ${flag}`,
    });
  }
}
