/**
 * `kernel outputs list|show|check` (generated from the output operations) and `kernel
 * outputs download <id> --out FILE`: a released output, for its requester, exactly as checked.
 * Run with KERNEL_TOKEN set to act as the requester or a checker; the operator is neither.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { KernelError } from '../errors.ts';
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
      if (existsSync(options.out)) {
        throw new KernelError('conflict', `${options.out} exists; Kernel will not overwrite it`, {
          where: { file: options.out },
          hint: 'Choose another --out',
        });
      }
      const { request, bytes } = await context.withPrincipal((store, principal, actor) =>
        downloadOutput(store, principal, id, outputsFolder(context.config().config.dataDir), actor),
      );
      writeFileSync(options.out, bytes, { flag: 'wx', mode: 0o600 });
      context.io.out(`Wrote ${request.id}.${request.format} to ${options.out} (SHA-256 ${request.sha256}).`);
    });
};
