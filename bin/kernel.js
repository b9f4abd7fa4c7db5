#!/usr/bin/env node
// The `kernel` command. The source is TypeScript, run through tsx so that a checkout
// needs no build step: `npx kernel …` works straight after `npm ci`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
