/**
 * The link key: the one 256-bit secret every organisation's agent uses so that the same
 * NHS number gives the same `person_token` everywhere (architecture §5). The key custodian
 * makes it once; agents read it; the warehouse never sees it, only its key id.
 *
 * File format (JSON): `{ "keyId": "lk-…", "key": "<base64 of 32 bytes>", "created": ISO }`.
 * The key id is `lk-` and the first 16 hex digits of SHA-256("kernel link key id" ‖ key)
 * (`symmetricKeyId` in `key-file.ts`): it names the key without revealing it.
 */
import { symmetricKeyFunctions, type SymmetricKey } from './key-file.ts';

export type LinkKey = SymmetricKey;

export const {
  newKey: newLinkKey,
  keyId: linkKeyId,
  write: writeLinkKeyFile,
  read: readLinkKeyFile,
} = symmetricKeyFunctions({
  what: 'link key',
  command: 'kernel keys new',
  flag: '--key',
  idPrefix: 'lk',
  idLabel: 'kernel link key id',
});
