/**
 * The linkage secret: the 256-bit key every member's agent uses to make Bloom-filter
 * encodings and blocking keys of names, dates of birth and addresses for records that
 * arrive without an NHS number (docs/linkage.md). A second key kind beside the link key,
 * so that a leak of one does not open the other. Agents hold it; the warehouse never does,
 * and sees only its key id.
 *
 * File format (JSON): `{ "kind": "linkage-secret", "keyId": "ls-…", "key": "<base64>", "created": ISO }`.
 * The key id is `ls-` and 16 hex digits of SHA-256("kernel linkage secret id" ‖ key).
 */
import { symmetricKeyFunctions, type SymmetricKey } from './key-file.ts';

export type LinkageSecret = SymmetricKey;

export const {
  newKey: newLinkageSecret,
  keyId: linkageSecretId,
  write: writeLinkageSecretFile,
  read: readLinkageSecretFile,
} = symmetricKeyFunctions({
  what: 'linkage secret',
  command: 'kernel keys new-linkage',
  flag: '--linkage-secret',
  kind: 'linkage-secret',
  idPrefix: 'ls',
  idLabel: 'kernel linkage secret id',
});
