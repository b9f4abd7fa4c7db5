/**
 * The sealed file a re-identification release travels in: the approved cohort's person
 * tokens, encrypted to one controller's agent and signed by Kernel (docs/reidentification.md).
 *
 * - Encryption: ECIES over X25519 (RFC 7748). A fresh ephemeral key pair per release; the
 *   shared secret goes through HKDF-SHA256 (RFC 5869) to a 256-bit key for AES-256-GCM
 *   (NIST SP 800-38D) with a random 96-bit IV. The header (request, controller, recipient
 *   key, counts) is the GCM additional data, so no header field can be changed unnoticed.
 * - Signature: Ed25519 (RFC 8032) by Kernel's re-identification signing key over the
 *   canonical JSON of every other field, checked by the agent before it decrypts anything.
 *
 * The warehouse seals (`sealRelease`), the agent opens (`openRelease`); the tokens are the
 * only secret payload: no identifier ever travels in either direction.
 */
import {
  createCipheriv,
  createDecipheriv,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { KernelError } from '../errors.ts';
import { encryptionKeyId } from './encryption-key.ts';
import { canonicalJson } from './manifest.ts';
import { signBytes, signingKeyId, verifyBytes } from './signing-key.ts';

export const SEALED_FORMAT = 'kernel-reid-release/1';
export const SEALED_ALGORITHM = 'X25519-HKDF-SHA256-AES-256-GCM';
/** A person token of Kernel's own scheme: HMAC-SHA256, lower-case hex (token-scheme.ts). */
export const PERSON_TOKEN = /^[0-9a-f]{64}$/;

export interface SealedRelease {
  format: typeof SEALED_FORMAT;
  requestId: string;
  controller: string;
  useCaseId: string;
  /** the fields the clinician needs, named as in the controller's own extract */
  fields: string[];
  tokenCount: number;
  tokenScheme: 'hmac-sha256';
  releasedAt: string;
  /** the controller's encryption key the tokens are sealed to */
  recipientKeyId: string;
  /** Kernel's signing key */
  signerKeyId: string;
  encryption: {
    algorithm: typeof SEALED_ALGORITHM;
    /** the ephemeral X25519 public key, SPKI DER in base64 */
    ephemeralPublicKey: string;
    iv: string;
    tag: string;
  };
  ciphertext: string;
  signature: string | null;
}

export interface ReleaseHeader {
  requestId: string;
  controller: string;
  useCaseId: string;
  fields: string[];
  releasedAt: string;
}

const INFO = Buffer.from(SEALED_FORMAT, 'utf8');

function contentKey(shared: Buffer, ephemeralDer: Buffer, recipientDer: Buffer): Buffer {
  // Salt binds the key to both public keys, as ECIES (SEC 1 §5.1) and HPKE (RFC 9180) do.
  return Buffer.from(hkdfSync('sha256', shared, Buffer.concat([ephemeralDer, recipientDer]), INFO, 32));
}

/** The additional data GCM authenticates: every header field, canonically. */
function additionalData(release: SealedRelease): Buffer {
  const { ciphertext: _c, signature: _s, encryption, ...header } = release;
  return Buffer.from(
    canonicalJson({ ...header, algorithm: encryption.algorithm, ephemeral: encryption.ephemeralPublicKey }),
    'utf8',
  );
}

function signedBytes(release: SealedRelease): Buffer {
  const { signature: _signature, ...rest } = release;
  return Buffer.from(canonicalJson(rest), 'utf8');
}

/** Seals `tokens` to `recipient` (an X25519 public key) and signs the file with `signer` (Ed25519). */
export function sealRelease(
  header: ReleaseHeader,
  tokens: readonly string[],
  recipient: KeyObject,
  signer: KeyObject,
): SealedRelease {
  for (const token of tokens) {
    if (!PERSON_TOKEN.test(token)) throw new KernelError('internal', 'A release holds a malformed token');
  }
  const ephemeral = generateKeyPairSync('x25519');
  const ephemeralDer = ephemeral.publicKey.export({ type: 'spki', format: 'der' });
  const recipientDer = recipient.export({ type: 'spki', format: 'der' });
  const key = contentKey(
    diffieHellman({ privateKey: ephemeral.privateKey, publicKey: recipient }),
    ephemeralDer,
    recipientDer,
  );
  const iv = randomBytes(12);
  const release: SealedRelease = {
    format: SEALED_FORMAT,
    ...header,
    fields: [...header.fields],
    tokenCount: tokens.length,
    tokenScheme: 'hmac-sha256',
    recipientKeyId: encryptionKeyId(recipient),
    signerKeyId: signingKeyId(createPublicKey(signer)),
    encryption: {
      algorithm: SEALED_ALGORITHM,
      ephemeralPublicKey: ephemeralDer.toString('base64'),
      iv: iv.toString('base64'),
      tag: '',
    },
    ciphertext: '',
    signature: null,
  };
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(additionalData(release));
  const plaintext = Buffer.from(
    JSON.stringify({ requestId: header.requestId, controller: header.controller, tokens }),
    'utf8',
  );
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  release.encryption.tag = cipher.getAuthTag().toString('base64');
  release.ciphertext = ciphertext.toString('base64');
  release.signature = signBytes(signedBytes(release), signer);
  return release;
}

/** Parses a sealed file's text, refusing anything not in the format. */
export function parseSealedRelease(text: string, file?: string): SealedRelease {
  const where = file ? { where: { file } } : {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new KernelError('invalid-input', 'The re-identification file is not valid JSON', {
      ...where,
      hint: 'Give the sealed file downloaded from Kernel, unchanged',
    });
  }
  const release = parsed as Partial<SealedRelease>;
  if (
    release.format !== SEALED_FORMAT ||
    release.encryption?.algorithm !== SEALED_ALGORITHM ||
    typeof release.ciphertext !== 'string' ||
    typeof release.signature !== 'string' ||
    !Array.isArray(release.fields)
  ) {
    throw new KernelError('invalid-input', `This is not a Kernel re-identification file (${SEALED_FORMAT})`, {
      ...where,
      hint: 'Give the sealed file downloaded from Kernel, unchanged',
    });
  }
  return release as SealedRelease;
}

/**
 * Checks Kernel's signature with `kernelKey` (Ed25519 public), then decrypts with the
 * controller's `privateKey` (X25519). Refuses a file signed by any other key, sealed to any
 * other key, or changed in any byte.
 */
export function openRelease(
  release: SealedRelease,
  kernelKey: KeyObject,
  privateKey: KeyObject,
): { tokens: string[] } {
  if (release.signerKeyId !== signingKeyId(kernelKey)) {
    throw new KernelError('refused', 'The file was not signed by the Kernel key you trust', {
      hint: 'Check --kernel-key is the warehouse’s re-identification key (kernel reidentification kernel-key)',
    });
  }
  if (!release.signature || !verifyBytes(signedBytes(release), release.signature, kernelKey)) {
    throw new KernelError('refused', 'Kernel’s signature on the file does not verify: it was changed', {
      hint: 'Download the file again from Kernel; do not edit it',
    });
  }
  const publicKey = createPublicKey(privateKey);
  if (release.recipientKeyId !== encryptionKeyId(publicKey)) {
    throw new KernelError('refused', 'The file was sealed for another organisation’s key', {
      hint: 'Only the controller named in the request can open it, with the key it registered',
    });
  }
  let plaintext: Buffer;
  try {
    const ephemeralDer = Buffer.from(release.encryption.ephemeralPublicKey, 'base64');
    const ephemeral = createPublicKey({ key: ephemeralDer, format: 'der', type: 'spki' });
    const key = contentKey(
      diffieHellman({ privateKey, publicKey: ephemeral }),
      ephemeralDer,
      publicKey.export({ type: 'spki', format: 'der' }),
    );
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(release.encryption.iv, 'base64'));
    decipher.setAAD(additionalData(release));
    decipher.setAuthTag(Buffer.from(release.encryption.tag, 'base64'));
    plaintext = Buffer.concat([decipher.update(Buffer.from(release.ciphertext, 'base64')), decipher.final()]);
  } catch {
    throw new KernelError('refused', 'The file does not decrypt with this key', {
      hint: 'Give the private key whose .pub the warehouse trusts for this organisation',
    });
  }
  const body = JSON.parse(plaintext.toString('utf8')) as {
    requestId?: unknown;
    controller?: unknown;
    tokens?: unknown;
  };
  const tokens = Array.isArray(body.tokens) ? body.tokens : [];
  if (
    body.requestId !== release.requestId ||
    body.controller !== release.controller ||
    tokens.length !== release.tokenCount ||
    !tokens.every((t) => typeof t === 'string' && PERSON_TOKEN.test(t))
  ) {
    throw new KernelError('refused', 'The file’s contents do not match its header');
  }
  return { tokens: tokens as string[] };
}
