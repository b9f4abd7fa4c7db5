/**
 * `kernel cohorts count|save|list|show …`: the cohort builder at the command line, generated
 * from its operations (src/cohorts/cohort-operations.ts), acting as the user whose API token
 * is in KERNEL_TOKEN.
 */
import { COHORT_OPERATIONS } from '../cohorts/cohort-operations.ts';
import type { RegisterCommands } from './cli-context.ts';
import { commandFor, registerOperationCommands } from './operation-commands.ts';

export const registerCohortsCommands: RegisterCommands = (program, context) => {
  registerOperationCommands(program, context, COHORT_OPERATIONS);
  commandFor(program, ['cohorts']).description(
    'cohorts without SQL: count, save and reuse a definition, or ask for its re-identification for direct care',
  );
};
