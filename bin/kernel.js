#!/usr/bin/env node
// The `kernel` command. The source is TypeScript and a checkout needs no build step:
// `npx kernel …` works straight after `npm ci`. It runs a compiled copy that it keeps up to
// date itself (compiled-cli.js), or the source through tsx if that copy cannot be made.
import { compiledCli } from './compiled-cli.js';

// A reader that stops early (`kernel loads | head`) closes the pipe: the output is no
// longer wanted, which is not an error, so stop quietly rather than with a stack trace.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  process.stderr.write(`kernel: cannot write the output (${error.code ?? error.message})\n`);
  process.exit(74);
});

const compiled = await compiledCli();
let main;
if (compiled) {
  ({ main } = await import(compiled));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
