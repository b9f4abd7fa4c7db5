import { readFileSync } from 'node:fs';
import { KernelError } from '../errors.ts';
import type { SymmetricKey } from '../privacy/key-file.ts';
import { newLinkKey, writeLinkKeyFile } from '../privacy/link-key.ts';
import { newLinkageSecret, writeLinkageSecretFile } from '../privacy/linkage-secret.ts';
import { newSigningKeyPair, writeSigningKeyPair } from '../privacy/signing-key.ts';
import { trustSigningKey } from '../ingest/trusted-keys.ts';
import { printJson, type RegisterCommands } from './cli-context.ts';

/** `kernel keys`: the key custodian's link key, each agent's signing key, and trusting it. */
export const registerKeyCommands: RegisterCommands = (program, context) => {
  const keys = program
    .command('keys')
    .description('link keys, linkage secrets, and agents’ signing and encryption keys');

  /** A command that makes a key, writes it to --out, and says where it went (or prints JSON). */
  const maker = (
    name: string,
    description: string,
    out: string,
    make: (file: string) => { json: Record<string, string>; lines: string[] },
  ): void => {
    keys
      .command(name)
      .description(description)
      .requiredOption('--out <file>', out)
      .option('--json', 'print the key id as JSON')
      .action((options: { out: string; json?: boolean }) => {
        const made = make(options.out);
        if (options.json) printJson(context.io, made.json);
        else for (const line of made.lines) context.io.out(line);
      });
  };

  /** A maker of a 256-bit key that agents hold and the warehouse never does (see key-file.ts). */
  const symmetricKeyMaker = (
    name: string,
    description: string,
    out: string,
    key: {
      label: string;
      newKey: () => SymmetricKey;
      write: (file: string, key: SymmetricKey) => void;
      handOver: string;
    },
  ): void =>
    maker(name, description, out, (file) => {
      const made = key.newKey();
      key.write(file, made);
      return {
        json: { keyId: made.keyId, file },
        lines: [`${key.label} ${made.keyId} written to ${file} (readable by you only).`, key.handOver],
      };
    });

  symmetricKeyMaker(
    'new',
    'make a new 256-bit link key (readable by its owner only; never overwrites)',
    'where to write the key',
    {
      label: 'Link key',
      newKey: newLinkKey,
      write: writeLinkKeyFile,
      handOver:
        'Give a copy to each organisation\u2019s agent by a secure route; the warehouse never needs it.',
    },
  );

  symmetricKeyMaker(
    'new-linkage',
    'make a new 256-bit linkage secret for Bloom-filter encodings (agents only; never overwrites)',
    'where to write the secret',
    {
      label: 'Linkage secret',
      newKey: newLinkageSecret,
      write: writeLinkageSecretFile,
      handOver:
        'Give a copy to each member\u2019s agent by a secure route; the warehouse must never hold it.',
    },
  );

  maker(
    'new-signing',
    "make an Ed25519 key pair for one organisation's agent: FILE (private) and FILE.pub",
    'where to write the private key; the public key goes to FILE.pub',
    (file) => {
      const pair = newSigningKeyPair();
      const { privateFile, publicFile } = writeSigningKeyPair(file, pair);
      return {
        json: { keyId: pair.keyId, privateFile, publicFile },
        lines: [
          `Signing key ${pair.keyId}: private key ${privateFile} (readable by you only), public key ${publicFile}.`,
          `Send ${publicFile} to the warehouse to register: kernel keys trust --org ODS ${publicFile}`,
        ],
      };
    },
  );

  keys
    .command('trust')
    .description("register an agent's public key for an organisation (audited)")
    .requiredOption('--org <ods>', 'the organisation the key signs for')
    .argument('<file>', 'the public key file (FILE.pub)')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, options: { org: string; json?: boolean }) => {
      let pem: string;
      try {
        pem = readFileSync(file, 'utf8');
      } catch {
        throw new KernelError('not-found', `Cannot read ${file}`, {
          hint: 'Give the FILE.pub made by `kernel keys new-signing`',
        });
      }
      const trusted = await context.withStore((store) =>
        trustSigningKey(store, options.org, pem, context.actor),
      );
      if (options.json)
        printJson(context.io, { org: trusted.org, keyId: trusted.keyId, trustedAt: trusted.trustedAt });
      else context.io.out(`Key ${trusted.keyId} is trusted for ${trusted.org}.`);
    });
};
