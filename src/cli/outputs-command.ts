/**
 * `kernel outputs list|show|check` (generated from the output operations) and `kernel
 * outputs download <id> --out FILE`: a released output, for its requester, exactly as checked.
 * Run with KERNEL_TOKEN set to act as the requester or a checker; the operator is neither.
 */
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { KernelError } from '../errors.ts';
import { refuseUnwritableOutput } from '../files/partial-file.ts';
import { OUTPUT_OPERATIONS } from '../outputs/output-operations.ts';
import { downloadOutput, outputsFolder } from '../outputs/output-requests.ts';
import type { RegisterCommands } from './cli-context.ts';
import { commandFor, registerOperationCommands } from './operation-commands.ts';

export const registerOutputsCommands: RegisterCommands = (program, context) => {
  registerOperationCommands(program, context, OUTPUT_OPERATIONS);
  commandFor(program, ['outputs'])
    .description('outputs leaving the analyst workspace: requests, checks, downloads')
    .command('download <id>')
    .description('write a released output to FILE (its requester only)')
    .requiredOption('--out <file>', 'where to write it (never overwritten)')
    .action(async (id: string, options: { out: string }) => {
      refuseUnwritableOutput(options.out, '--out');
      if (existsSync(options.out)) {
        throw new KernelError('conflict', `${options.out} exists; Kernel will not overwrite it`, {
          where: { file: options.out },
          hint: 'Choose another --out',
        });
      }
      let written = false;
      try {
        const { request } = await context.withPrincipal((store, principal, actor) =>
          downloadOutput(
            store,
            principal,
            id,
            outputsFolder(context.config().config.dataDir),
            actor,
            (bytes) => {
              writeReleasedFile(options.out, bytes);
              written = true;
            },
          ),
        );
        context.io.out(
          `Wrote ${request.id}.${request.format} to ${options.out} (SHA-256 ${request.sha256}).`,
        );
      } catch (error) {
        // Written but not recorded (the audit failed): the file does not stay without its record.
        if (written) rmSync(options.out, { force: true });
        throw error;
      }
    });
};

/** Writes the file, never over another; a place that cannot be written is the caller's to fix (exit 78). */
function writeReleasedFile(file: string, bytes: Buffer): void {
  try {
    writeFileSync(file, bytes, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code !== 'string') throw error;
    throw code === 'EEXIST'
      ? new KernelError('conflict', `${file} exists; Kernel will not overwrite it`, {
          where: { file },
          hint: 'Choose another --out; the output was not recorded as downloaded',
        })
      : new KernelError('config', `Cannot write ${file} (${code})`, {
          where: { file },
          hint: 'Check the folder exists and that this user may write to it; the output was not recorded as downloaded',
        });
  }
}
