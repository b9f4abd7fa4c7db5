/**
 * `kernel workspace show --usecase UC`, `kernel query --usecase UC --sql "…"` and `kernel
 * outputs request …`: the analyst workspace at the command line, generated from its
 * operations. They act as the user whose API token is in KERNEL_TOKEN: the operator holds no
 * workspace (an administrator sees aggregates only).
 */
import { WORKSPACE_OPERATIONS } from '../workspace/workspace-operations.ts';
import type { RegisterCommands } from './cli-context.ts';
import { registerOperationCommands } from './operation-commands.ts';

export const registerWorkspaceCommands: RegisterCommands = (program, context) => {
  registerOperationCommands(program, context, WORKSPACE_OPERATIONS);
};
