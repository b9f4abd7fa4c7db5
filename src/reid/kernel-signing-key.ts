/**
 * Kernel's own Ed25519 key for signing re-identification releases, kept in the data folder
 * (`<data>/keys/reid-signing.key`, mode 0600; never in the store, its logs or the audit log).
 * Made on first use. Controllers' agents check releases against its public half, which the
 * operator hands them (`kernel reidentification kernel-key --out kernel-reid.pub`).
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { KernelError } from '../errors.ts';
import { newSigningKeyPair, readSigningPrivateKey, writeSigningKeyPair } from '../privacy/signing-key.ts';

export function kernelSigningKeyFile(dataDir: string): string {
  return path.join(dataDir, 'keys', 'reid-signing.key');
}

/** The public half, or undefined while the data folder has no key yet (nothing released). */
export function kernelSigningPublicKey(dataDir: string): { keyId: string; publicKeyPem: string } | undefined {
  if (!existsSync(kernelSigningKeyFile(dataDir))) return undefined;
  const { keyId, publicKeyPem } = kernelSigningKey(dataDir);
  return { keyId, publicKeyPem };
}

/** The key, made (with its `.pub`) if the data folder has none yet. */
export function kernelSigningKey(dataDir: string): {
  keyId: string;
  privateKey: KeyObject;
  publicKeyPem: string;
} {
  const file = kernelSigningKeyFile(dataDir);
  if (!existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    try {
      writeSigningKeyPair(file, newSigningKeyPair());
    } catch (error) {
      // Another release made it a moment ago (the file is created O_EXCL): use that one.
      if (!(error instanceof KernelError && error.code === 'conflict')) throw error;
    }
  }
  const { keyId, privateKey } = readSigningPrivateKey(file);
  const publicKeyPem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
  return { keyId, privateKey, publicKeyPem };
}
