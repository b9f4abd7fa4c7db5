import { createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../files/csv-file-writer.ts';
import { newLinkKey, writeLinkKeyFile } from '../privacy/link-key.ts';
import { testRangeNhsNumber } from '../privacy/nhs-number.ts';
import { sealRelease } from '../privacy/sealed-release.ts';
import { hmacTokeniser } from '../privacy/token-scheme.ts';
import { kernelSigningKey } from '../reid/kernel-signing-key.ts';
import type { CliContext } from './cli-context.ts';
import { readCohortFile, registerReidCommands } from './reid-command.ts';

function cli(dataDir: string) {
  let out = '';
  const context = {
    io: { out: (t: string) => void (out += `${t}\n`), err: () => undefined, isTTY: false },
    config: () => ({ config: { dataDir, keyPath: undefined } }),
    withStore: () => Promise.reject(new Error('the agent needs no store')),
    withPrincipal: () => Promise.reject(new Error('the agent needs no store')),
    run: () => Promise.reject(new Error('the agent needs no store')),
    actor: 'cli:test',
  } as unknown as CliContext;
  const program = new Command().exitOverride();
  program.command('keys');
  registerReidCommands(program, context);
  return {
    run: async (...argv: string[]) => {
      out = '';
      await program.parseAsync(['node', 'kernel', ...argv]);
      return out;
    },
  };
}

describe('kernel keys new-encryption, kernel reidentification kernel-key and kernel reid (the agent)', () => {
  it('makes the keys, and re-identifies a sealed release against the controller’s own extract', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-reid-cli-'));
    const dataDir = path.join(dir, 'data');
    const k = cli(dataDir);
    expect(await k.run('keys', 'new-encryption', '--out', path.join(dir, 'rwf.enc.key'))).toMatch(
      /Encryption key ek-[0-9a-f]{16}/,
    );
    expect(statSync(path.join(dir, 'rwf.enc.key')).mode & 0o077).toBe(0);
    expect(await k.run('reidentification', 'kernel-key', '--out', path.join(dir, 'kernel.pub'))).toMatch(
      /key sk-[0-9a-f]{16} written/,
    );

    const linkKey = newLinkKey();
    writeLinkKeyFile(path.join(dir, 'link.key'), linkKey);
    const people = [1, 2, 3, 4].map((s) => testRangeNhsNumber(s + 20)).filter((n): n is string => !!n);
    const tokens = people.slice(0, 3).map((n) => hmacTokeniser(linkKey).token(n));
    const recipient = createPublicKey(createPrivateKey(readFileSync(path.join(dir, 'rwf.enc.key'), 'utf8')));
    const release = sealRelease(
      {
        requestId: 'REID-BCDFGHJKLM',
        controller: 'RWF',
        useCaseId: 'UC-001',
        fields: ['Surname'],
        releasedAt: '2026-01-01T00:00:00Z',
      },
      tokens,
      recipient,
      kernelSigningKey(dataDir).privateKey,
    );
    writeFileSync(path.join(dir, 'request.json'), JSON.stringify(release));
    writeFileSync(
      path.join(dir, 'extract.csv'),
      [
        'NHS Number,Surname,Town',
        `${people[0]},Ash,Kent`,
        `${people[1]},Birch,Kent`,
        `${people[3]},Cedar,Kent`,
      ].join('\r\n'),
    );
    const printed = await k.run(
      'reid',
      '--request',
      path.join(dir, 'request.json'),
      '--key',
      path.join(dir, 'link.key'),
      '--decrypt-key',
      path.join(dir, 'rwf.enc.key'),
      '--kernel-key',
      path.join(dir, 'kernel.pub'),
      '--lookup',
      path.join(dir, 'extract.csv'),
      '--out',
      path.join(dir, 'list.csv'),
    );
    expect(printed).toContain('2 of 3 people found');
    expect(printed).toContain('1 token(s) matched no one');
    expect(parseCsv(readFileSync(path.join(dir, 'list.csv'), 'utf8'))).toEqual([
      ['NHS Number', 'Surname'],
      [people[0], 'Ash'],
      [people[1], 'Birch'],
    ]);
  });

  it('reads a cohort as one token a line, or from a CSV’s person_token column', () => {
    const t = 'a'.repeat(64);
    expect(readCohortFile(`${t}\n\n${t.replace(/a/g, 'b')}\n`)).toEqual([t, 'b'.repeat(64)]);
    expect(readCohortFile(`age,person_token\n71,${t}\r\n`)).toEqual([t]);
  });
});
