/**
 * The agents' public keys the warehouse trusts (`kernel keys trust --org ODS FILE.pub`).
 * A manifest is accepted only with a signature from a key trusted for its organisation.
 */
import { appendAudit } from '../audit/audit-log.ts';
import { KernelError } from '../errors.ts';
import { getOrganisation } from '../governance/organisations.ts';
import type { Queryable, Store } from '../store/store.ts';
import { parsePublicKey } from '../privacy/signing-key.ts';

export interface TrustedKey {
  org: string;
  keyId: string;
  publicKeyPem: string;
  trustedAt: string;
  trustedBy: string;
}

const ODS_CODE = /^[A-Z0-9]{3,9}$/;

/**
 * Registers `publicKeyPem` for `org` (audited `keys.trusted`); trusting the same key again is a
 * no-op. Only for a registered organisation: a code no member has is a typing mistake.
 */
export async function trustSigningKey(
  store: Store,
  org: string,
  publicKeyPem: string,
  actor: string,
): Promise<TrustedKey> {
  const code = org.trim().toUpperCase();
  if (!ODS_CODE.test(code)) {
    throw new KernelError('usage', `"${org}" is not an organisation code`, {
      hint: 'Give the ODS code, e.g. RWF',
    });
  }
  const { keyId, publicKeyPem: pem } = parsePublicKey(publicKeyPem);
  return store.transaction(async (tx) => {
    await getOrganisation(tx, code);
    await refuseKeyOfAnother(tx, 'trusted_keys', code, keyId, 'kernel keys new-signing');
    const existing = await trustedKeys(tx, code);
    const same = existing.find((k) => k.keyId === keyId);
    if (same) return same;
    const trustedAt = new Date().toISOString();
    await tx.run(
      'INSERT INTO trusted_keys (org_code, key_id, public_key_pem, trusted_at, trusted_by) VALUES ($1, $2, $3, $4, $5)',
      [code, keyId, pem, trustedAt, actor],
    );
    await appendAudit(tx, { actor, action: 'keys.trusted', target: `org:${code}`, details: { keyId } });
    return { org: code, keyId, publicKeyPem: pem, trustedAt, trustedBy: actor };
  });
}

/**
 * Refuses a key already trusted for another organisation: an agent's key speaks for one
 * organisation only, and the same key under a second code is most often a mistyped --org.
 */
export async function refuseKeyOfAnother(
  q: Queryable,
  table: 'trusted_keys' | 'reid_encryption_keys',
  org: string,
  keyId: string,
  maker: string,
): Promise<void> {
  const [other] = await q.query<{ org_code: string }>(
    `SELECT org_code FROM ${table} WHERE key_id = $1 AND org_code <> $2 ORDER BY org_code LIMIT 1`,
    [keyId, org],
  );
  if (other) {
    throw new KernelError('conflict', `This key is already trusted for ${other.org_code}, not ${org}`, {
      where: { field: 'org' },
      hint: `Check --org; each organisation's agent makes its own key (${maker})`,
    });
  }
}

export async function trustedKeys(q: Queryable, org: string): Promise<TrustedKey[]> {
  const rows = await q.query<{
    org_code: string;
    key_id: string;
    public_key_pem: string;
    trusted_at: string;
    trusted_by: string;
  }>(
    'SELECT org_code, key_id, public_key_pem, trusted_at, trusted_by FROM trusted_keys WHERE org_code = $1 ORDER BY trusted_at',
    [org],
  );
  return rows.map((r) => ({
    org: r.org_code,
    keyId: r.key_id,
    publicKeyPem: r.public_key_pem,
    trustedAt: r.trusted_at,
    trustedBy: r.trusted_by,
  }));
}
