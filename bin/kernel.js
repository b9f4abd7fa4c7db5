#!/usr/bin/env node
// The `kernel` command. The source is TypeScript, run through tsx so that a checkout
// needs no build step: `npx kernel …` works straight after `npm ci`.
import { register } from 'tsx/esm/api';

// A reader that stops early (`kernel loads | head`) closes the pipe: the output is no
// longer wanted, which is not an error, so stop quietly rather than with a stack trace.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  process.stderr.write(`kernel: cannot write the output (${error.code ?? error.message})\n`);
  process.exit(74);
});

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
