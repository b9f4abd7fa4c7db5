/**
 * Writing secret files: created readable by their owner only (mode 0600) and never over
 * an existing file, so a key custodian cannot lose a key by a slip of the keyboard.
 */
import { createHash, randomBytes } from 'node:crypto';
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

/** A 256-bit secret kept as JSON `{ [kind,] keyId, key (base64), created }`. */
export interface SymmetricKeyKind {
  /** in messages: 'link key', 'linkage secret' */
  what: string;
  /** the command that makes one, for hints */
  command: string;
  /** the flag that names the file, for hints */
  flag: string;
  /** written into the file and checked on reading, so one kind cannot stand for another */
  kind?: string;
  /** the key id's prefix: `lk` for the link key */
  idPrefix: string;
  /** hashed before the key to make its id, so ids of different kinds never coincide */
  idLabel: string;
}

export interface SymmetricKey {
  /** a public name for the key: safe to print, log and record in manifests */
  keyId: string;
  key: Buffer;
}

const KEY_BYTES = 32;

/**
 * The prefix and the first 16 hex digits of SHA-256(label ‖ NUL ‖ key). A one-way
 * fingerprint: it names the key without revealing it, and can be checked against the key.
 */
export function symmetricKeyId(kind: SymmetricKeyKind, key: Buffer): string {
  const digest = createHash('sha256').update(`${kind.idLabel}\0`).update(key).digest('hex');
  return `${kind.idPrefix}-${digest.slice(0, 16)}`;
}

/** A fresh random key of the kind, with its id. */
export function newSymmetricKey(kind: SymmetricKeyKind): SymmetricKey {
  const key = randomBytes(KEY_BYTES);
  return { keyId: symmetricKeyId(kind, key), key };
}

export function writeSymmetricKeyFile(file: string, kind: SymmetricKeyKind, secret: SymmetricKey): void {
  const body = {
    ...(kind.kind ? { kind: kind.kind } : {}),
    keyId: secret.keyId,
    key: secret.key.toString('base64'),
    created: new Date().toISOString(),
  };
  writeSecretFile(file, `${JSON.stringify(body, null, 2)}\n`, kind.what);
}

export function readSymmetricKeyFile(file: string, kind: SymmetricKeyKind): SymmetricKey {
  const text = readKeyText(file, kind.what, kind.flag);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new KernelError('config', `The ${kind.what} file is not valid JSON`, {
      where: { file },
      hint: `Give the file made by \`${kind.command}\``,
    });
  }
  const body = parsed as { kind?: unknown; keyId?: unknown; key?: unknown };
  if (kind.kind !== undefined && body.kind !== kind.kind) {
    throw new KernelError('config', `This file is not a ${kind.what} (a key of another kind)`, {
      where: { file },
      hint: `Give the file made by \`${kind.command}\``,
    });
  }
  const key = typeof body.key === 'string' ? Buffer.from(body.key, 'base64') : Buffer.alloc(0);
  if (
    typeof body.keyId !== 'string' ||
    key.length !== KEY_BYTES ||
    symmetricKeyId(kind, key) !== body.keyId
  ) {
    throw new KernelError('config', `The ${kind.what} file is damaged (its key and key id do not match)`, {
      where: { file },
      hint: `Ask the key custodian for a fresh copy of the file made by \`${kind.command}\``,
    });
  }
  return { keyId: body.keyId, key };
}

/** The functions of one kind of symmetric key, for its module to export under its own names. */
export function symmetricKeyFunctions(kind: SymmetricKeyKind) {
  return {
    newKey: (): SymmetricKey => newSymmetricKey(kind),
    keyId: (key: Buffer): string => symmetricKeyId(kind, key),
    write: (file: string, secret: SymmetricKey): void => writeSymmetricKeyFile(file, kind, secret),
    read: (file: string): SymmetricKey => readSymmetricKeyFile(file, kind),
  };
}
