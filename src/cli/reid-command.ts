/**
 * Re-identification for direct care (docs/reidentification.md).
 *
 * At the controller (the agent): `kernel keys new-encryption --out F` makes its encryption key
 * pair; `kernel reid --request FILE --key LINK --decrypt-key F --kernel-key PUB --lookup
 * EXTRACT --out FILE` re-identifies an approved release against its own extract.
 *
 * At the warehouse: `kernel keys trust-encryption --org ODS F.pub`; `kernel reidentification
 * list|show|decide|settings|set|transparency|monthly` (generated from the operations),
 * `request --cohort FILE`, `download <id> --out FILE` and `kernel-key --out FILE`.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { KernelError } from '../errors.ts';
import { newEncryptionKeyPair, writeEncryptionKeyPair } from '../privacy/encryption-key.ts';
import { readLinkKeyFile } from '../privacy/link-key.ts';
import { reidentifyExtract } from '../privacy/reidentify-extract.ts';
import { kernelSigningKey } from '../reid/kernel-signing-key.ts';
import {
  REID_OPERATIONS,
  requestReidOperation,
  trustEncryptionKeyOperation,
} from '../reid/reid-operations.ts';
import { downloadSealedRelease } from '../reid/reid-requests.ts';
import { printJson, type RegisterCommands } from './cli-context.ts';
import { commandFor, listOption, registerOperationCommands } from './operation-commands.ts';

function readText(file: string, hint: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    throw new KernelError('not-found', `Cannot read ${file}`, { hint });
  }
}

function refuseExisting(file: string): void {
  if (existsSync(file)) {
    throw new KernelError('conflict', `${file} exists; Kernel will not overwrite it`, {
      where: { file },
      hint: 'Choose another --out',
    });
  }
}

/**
 * A cohort file: one person token per line, or a CSV whose header names `person_token`
 * (the column of a governed query's result). Blank lines are skipped.
 */
export function readCohortFile(text: string): string[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = (lines[0] ?? '').split(',').map((c) => c.trim().replace(/^"|"$/g, ''));
  const at = header.indexOf('person_token');
  if (at < 0) return lines.map((l) => l.trim());
  return lines.slice(1).map((l) => (l.split(',')[at] ?? '').trim().replace(/^"|"$/g, ''));
}

export const registerReidCommands: RegisterCommands = (program, context) => {
  // Under `kernel keys`, beside new-signing and trust (register this after keys-command.ts).
  const keys = commandFor(program, ['keys']);
  keys
    .command('new-encryption')
    .description(
      "make an X25519 key pair for one organisation's agent, to receive re-identification releases: FILE (private) and FILE.pub",
    )
    .requiredOption('--out <file>', 'where to write the private key; the public key goes to FILE.pub')
    .option('--json', 'print the key id as JSON')
    .action((options: { out: string; json?: boolean }) => {
      const pair = newEncryptionKeyPair();
      const { privateFile, publicFile } = writeEncryptionKeyPair(options.out, pair);
      if (options.json) return printJson(context.io, { keyId: pair.keyId, privateFile, publicFile });
      context.io.out(
        `Encryption key ${pair.keyId}: private key ${privateFile} (readable by you only), public key ${publicFile}.`,
      );
      context.io.out(
        `Send ${publicFile} to the warehouse to register: kernel keys trust-encryption --org ODS ${publicFile}`,
      );
    });
  keys
    .command('trust-encryption')
    .description(
      "register an organisation's agent encryption key, to seal re-identification releases to (audited)",
    )
    .requiredOption('--org <ods>', 'the organisation the key belongs to')
    .argument('<file>', 'the public key file (FILE.pub of kernel keys new-encryption)')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, options: { org: string; json?: boolean }) => {
      const publicKeyPem = readText(file, 'Give the FILE.pub made by `kernel keys new-encryption`');
      const trusted = await context.run(trustEncryptionKeyOperation, { org: options.org, publicKeyPem });
      if (options.json) return printJson(context.io, trusted);
      context.io.out(`Encryption key ${trusted.keyId} is trusted for ${trusted.org}.`);
    });

  // The agent, at the controller: no store, no warehouse.
  program
    .command('reid')
    .description(
      'at the controller: re-identify an approved release against your own extract (NHS number and the fields requested)',
    )
    .requiredOption('--request <file>', 'the sealed file downloaded from Kernel')
    .option('--key <file>', 'the link key (from the key custodian)')
    .requiredOption('--decrypt-key <file>', "this organisation's encryption key (kernel keys new-encryption)")
    .requiredOption(
      '--kernel-key <file>',
      'Kernel’s re-identification public key (kernel reidentification kernel-key)',
    )
    .requiredOption(
      '--lookup <file>',
      "this organisation's own extract: CSV with a header, NHS numbers and the fields",
    )
    .requiredOption(
      '--out <file>',
      'where to write the people found (never overwritten; readable by you only)',
    )
    .option('--nhs-column <name>', 'the extract’s NHS number column (default: found by name)')
    .option('--json', 'print the counts as JSON')
    .action(
      async (options: {
        request: string;
        key?: string;
        decryptKey: string;
        kernelKey: string;
        lookup: string;
        out: string;
        nhsColumn?: string;
        json?: boolean;
      }) => {
        const keyFile = options.key ?? context.config().config.keyPath;
        if (!keyFile) {
          throw new KernelError('usage', 'No link key given', {
            hint: 'Give --key with the link key file from the key custodian',
          });
        }
        const result = await reidentifyExtract({
          requestFile: options.request,
          decryptKeyFile: options.decryptKey,
          kernelKeyFile: options.kernelKey,
          linkKey: readLinkKeyFile(keyFile),
          lookupFile: options.lookup,
          outFile: options.out,
          ...(options.nhsColumn ? { nhsColumn: options.nhsColumn } : {}),
        });
        if (options.json) return printJson(context.io, result);
        context.io.out(
          `${result.requestId}: ${result.matched} of ${result.requested} people found in ${options.lookup}, written to ${result.outFile} (${result.columns.join(', ')}).`,
        );
        if (result.unmatched > 0) {
          context.io.out(
            `${result.unmatched} token(s) matched no one in the extract: they are counted, never guessed.`,
          );
        }
      },
    );

  // The warehouse.
  registerOperationCommands(program, context, REID_OPERATIONS);
  const group = commandFor(program, ['reidentification']).description(
    're-identification for direct care: requests, two approvals, sealed releases',
  );
  group
    .command('request')
    .description('ask for a direct-care cohort to be re-identified by one controller')
    .requiredOption('--usecase <id>', 'the direct-care use case')
    .requiredOption('--controller <ods>', 'the controller whose patients they are')
    .requiredOption('--reason <text>', 'why the clinician needs these people')
    .requiredOption(
      '--field <names>',
      'the fields the clinician needs (repeatable, comma-separated)',
      listOption,
    )
    .requiredOption('--cohort <file>', 'person tokens, one a line, or a CSV with a person_token column')
    .option('--json', 'print JSON')
    .action(
      async (options: {
        usecase: string;
        controller: string;
        reason: string;
        field: string[];
        cohort: string;
        json?: boolean;
      }) => {
        const tokens = readCohortFile(readText(options.cohort, 'Give the file of person tokens'));
        const request = await context.run(requestReidOperation, {
          useCaseId: options.usecase,
          controller: options.controller,
          reason: options.reason,
          fields: options.field,
          tokens,
        });
        if (options.json) return printJson(context.io, request);
        context.io.out(
          `${request.id}: ${request.cohortSize} people of ${request.controller}, awaiting the approval of its IG lead and a second approver.`,
        );
      },
    );
  group
    .command('download <id>')
    .description("write a released request's sealed file (the controller's IG lead)")
    .requiredOption('--out <file>', 'where to write it (never overwritten)')
    .action(async (id: string, options: { out: string }) => {
      refuseExisting(options.out);
      const { request, bytes } = await context.withPrincipal((store, principal, actor) =>
        downloadSealedRelease(store, principal, id, actor),
      );
      writeFileSync(options.out, bytes, { flag: 'wx', mode: 0o600 });
      context.io.out(
        `Wrote the sealed file of ${request.id} to ${options.out}; only ${request.controller}'s agent can open it (kernel reid).`,
      );
    });
  group
    .command('kernel-key')
    .description('write Kernel’s public key that signs releases, for controllers’ agents (--kernel-key)')
    .requiredOption('--out <file>', 'where to write it (never overwritten)')
    .action((options: { out: string }) => {
      refuseExisting(options.out);
      const { keyId, publicKeyPem } = kernelSigningKey(context.config().config.dataDir);
      writeFileSync(options.out, publicKeyPem, { flag: 'wx', mode: 0o644 });
      context.io.out(`Kernel's re-identification key ${keyId} written to ${options.out}.`);
    });
};
