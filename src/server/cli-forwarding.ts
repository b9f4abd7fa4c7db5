import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { CliIo } from '../console/console.ts';
import { resolveConfig } from '../config/config.ts';

/**
 * DuckDB lets one process write a database file. While `kernel serve` holds the warehouse,
 * the CLI hands its command to the server instead of opening the file: the server runs the
 * same `main(argv)` in its own process, on its open store, and streams the output back.
 *
 * The server advertises itself in `<data>/server.json` (pid, port, a random secret; mode
 * 0600, so only the operating-system user who runs it can read it). The CLI trusts the file
 * only when that user wrote it and no one else could have (issue 23, M5: a planted file once
 * captured an admin's password), and the secret itself never crosses the socket: the server
 * first proves it knows it (an HMAC of the CLI's fresh nonce) before the CLI sends anything,
 * and the CLI proves it in turn with an HMAC over the nonce and its request. The endpoint
 * answers only loopback peers.
 */
export const SERVER_FILE_NAME = 'server.json';
export const FORWARD_PATH = '/internal/cli';
export const HELLO_PATH = '/internal/cli/hello';
export const NONCE_HEADER = 'X-Kernel-Cli-Nonce';
export const PROOF_HEADER = 'X-Kernel-Cli-Proof';

/** The server's answer to a CLI's nonce: it holds the secret in server.json. */
export function serverProof(secret: string, nonce: string): string {
  return createHmac('sha256', secret).update(`server|${nonce}`).digest('base64url');
}

/** The CLI's proof for one request: it read the secret, and this body is the one it sent. */
export function cliProof(secret: string, nonce: string, body: string): string {
  return createHmac('sha256', secret).update(`cli|${nonce}|`).update(body).digest('base64url');
}

export interface ServerFile {
  pid: number;
  port: number;
  secret: string;
}

/** Commands that never open the warehouse, or must not run inside the server. */
const LOCAL_COMMANDS = new Set(['serve', 'demo', 'deid', 'mappings', 'keys', 'synth', 'config', 'help']);

/**
 * Of those, the ones that register something in the warehouse (a public key read from a file)
 * and so run in the server like any other: the rest of `keys` makes secret keys, which stay
 * with the process that asked for them.
 */
const FORWARDED_SUBCOMMANDS: Record<string, ReadonlySet<string>> = {
  keys: new Set(['trust', 'trust-encryption']),
};

// Options whose value names a file or folder to write (it may not exist yet).
const PATH_OPTIONS = new Set([
  '--out',
  '--output',
  '--report',
  '--to',
  '--file',
  '--dir',
  '--manifest',
  '--key',
  // documents a command writes (kernel report monthly, kernel plan chart, kernel invoices show)
  '--html',
  '--pdf',
  '--svg',
]);

/**
 * Why `server.json` cannot be trusted, or undefined when it can: it must be a plain file
 * (not a link) owned by the user running the CLI, readable and writable by that user alone,
 * in a folder only that user can write to (where POSIX owners exist).
 */
export function untrustedServerFile(dataDir: string): string | undefined {
  const file = path.join(dataDir, SERVER_FILE_NAME);
  const uid = process.getuid?.();
  const stat = lstatSync(file);
  if (!stat.isFile()) return 'it is not a plain file';
  if (uid === undefined) return undefined; // Windows: no owners or modes to check
  if (stat.uid !== uid) return 'another user owns it';
  if ((stat.mode & 0o077) !== 0) return 'other users can read or write it';
  const folder = statSync(dataDir);
  if (folder.uid !== uid || (folder.mode & 0o022) !== 0) {
    return 'its folder is not yours alone to write to';
  }
  return undefined;
}

/**
 * The running server for this data folder, or undefined when there is none (or it died).
 * A file that cannot be trusted is ignored, with why told to `warn`.
 */
export function readServerFile(dataDir: string, warn?: (message: string) => void): ServerFile | undefined {
  const file = path.join(dataDir, SERVER_FILE_NAME);
  try {
    lstatSync(file);
  } catch {
    return undefined;
  }
  try {
    const distrust = untrustedServerFile(dataDir);
    if (distrust) {
      warn?.(`kernel: ignoring ${file}: ${distrust}. Remove it; a running kernel serve writes a new one.`);
      return undefined;
    }
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<ServerFile>;
    if (
      typeof parsed.pid !== 'number' ||
      typeof parsed.port !== 'number' ||
      typeof parsed.secret !== 'string'
    ) {
      return undefined;
    }
    if (parsed.pid === process.pid) return undefined;
    process.kill(parsed.pid, 0); // throws when no such process: a stale file from a crash
    return parsed as ServerFile;
  } catch {
    return undefined;
  }
}

/** Whether a command line should go to a running server rather than open the store here. */
export function shouldForward(argv: readonly string[]): boolean {
  if (argv.some((a) => a === '--help' || a === '-h' || a === '--version' || a === '-V')) return false;
  const [command, subcommand] = commandWords(argv);
  if (command === undefined) return false;
  if (!LOCAL_COMMANDS.has(command)) return true;
  return subcommand !== undefined && (FORWARDED_SUBCOMMANDS[command]?.has(subcommand) ?? false);
}

/** The command and its subcommand: the first two words that are not options or global values. */
function commandWords(argv: readonly string[]): string[] {
  const words: string[] = [];
  for (let i = 0; i < argv.length && words.length < 2; i++) {
    const arg = argv[i] as string;
    if (['--data', '--store', '--config'].includes(arg)) {
      i++;
      continue;
    }
    if (arg.startsWith('-')) continue;
    words.push(arg);
  }
  return words;
}

/**
 * Paths on the command line are relative to the CLI's folder, not the server's: existing
 * files and folders, and the values of options that name an output, become absolute.
 */
export function absolutePaths(argv: readonly string[], cwd: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const eq = /^(--[a-z-]+)=(.*)$/.exec(arg);
    if (eq && PATH_OPTIONS.has(eq[1] as string)) {
      out.push(`${eq[1]}=${path.resolve(cwd, eq[2] as string)}`);
      continue;
    }
    if (PATH_OPTIONS.has(arg) && i + 1 < argv.length) {
      out.push(arg, path.resolve(cwd, argv[i + 1] as string));
      i++;
      continue;
    }
    if (!arg.startsWith('-') && arg !== '' && !path.isAbsolute(arg) && existsSync(path.resolve(cwd, arg))) {
      out.push(path.resolve(cwd, arg));
      continue;
    }
    out.push(arg);
  }
  return out;
}

/**
 * The data folder a command line points at (its --data/--config, the environment, the
 * file); undefined when the configuration cannot be read (the command reports that itself).
 */
export function dataDirFor(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): string | undefined {
  const flags: { data?: string; store?: string; config?: string } = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    for (const name of ['data', 'store', 'config'] as const) {
      if (arg === `--${name}` && i + 1 < argv.length) flags[name] = argv[i + 1] as string;
      else if (arg.startsWith(`--${name}=`)) flags[name] = arg.slice(name.length + 3);
    }
  }
  try {
    return resolveConfig(flags, env, cwd).config.dataDir;
  } catch {
    return undefined;
  }
}

async function readAllStdin(io: CliIo): Promise<string> {
  let data = '';
  for await (const chunk of io.stdin)
    data += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
  return data;
}

/**
 * When a live `kernel serve` holds the store of `dataDir`, runs `argv` there and answers
 * its exit code, having written its output to `io`; answers undefined when there is no
 * such server (the caller then opens the store itself).
 */
export async function forwardToServer(
  dataDir: string | undefined,
  argv: readonly string[],
  io: CliIo,
  cwd: string = process.cwd(),
): Promise<number | undefined> {
  if (dataDir === undefined || !shouldForward(argv)) return undefined;
  const server = readServerFile(dataDir, io.err);
  if (!server) return undefined;
  const base = `http://127.0.0.1:${server.port}`;
  // The listener proves it holds the secret before it is sent anything (a password on
  // standard input above all): another process on the port cannot answer.
  const nonce = randomBytes(24).toString('base64url');
  let hello: Response;
  try {
    hello = await fetch(`${base}${HELLO_PATH}`, { headers: { [NONCE_HEADER]: nonce } });
  } catch {
    return undefined; // the server is going down; the store will be free in a moment
  }
  const answer = (await hello.json().catch(() => ({}))) as { proof?: unknown };
  if (!hello.ok || answer.proof !== serverProof(server.secret, nonce)) {
    io.err(
      `kernel: the process on port ${server.port} named in ${path.join(dataDir, SERVER_FILE_NAME)} did not prove it is this warehouse's server, so the command was not sent. If no kernel serve is running, remove that file.`,
    );
    return 69;
  }
  // Standard input is read only where the command says it takes it, so an idle inherited
  // pipe never blocks the CLI.
  const stdin = argv.includes('--password-stdin') || argv.includes('-') ? await readAllStdin(io) : '';
  // The CLI's API token goes with the command, so it runs as that user in the server too.
  const token = process.env.KERNEL_TOKEN;
  const body = JSON.stringify({ argv: absolutePaths(argv, cwd), stdin, ...(token ? { token } : {}) });
  let response: Response;
  try {
    response = await fetch(`${base}${FORWARD_PATH}`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        [NONCE_HEADER]: nonce,
        [PROOF_HEADER]: cliProof(server.secret, nonce, body),
      },
      body,
    });
  } catch {
    return undefined; // the server is going down; the store will be free in a moment
  }
  if (!response.ok || !response.body) {
    io.err(`kernel: the running server refused the command (HTTP ${response.status})`);
    return 70;
  }
  let exit = 70;
  let buffer = '';
  const decoder = new TextDecoder();
  const handle = (line: string): void => {
    if (!line) return;
    const message = JSON.parse(line) as { out?: string; err?: string; exit?: number };
    if (message.out !== undefined) io.out(message.out);
    if (message.err !== undefined) io.err(message.err);
    if (message.exit !== undefined) exit = message.exit;
  };
  for await (const chunk of response.body) {
    buffer += decoder.decode(chunk as Uint8Array, { stream: true });
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      handle(buffer.slice(0, newline));
      buffer = buffer.slice(newline + 1);
    }
  }
  handle(buffer.trim());
  return exit;
}
