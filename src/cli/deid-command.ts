import type { RegisterCommands } from './cli-context.ts';

// Filled in by its issue; registers no command until then.
export const registerDeidCommands: RegisterCommands = () => {};
