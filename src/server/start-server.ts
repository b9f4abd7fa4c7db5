import {
  refreshPostgresWorkspaces,
  stopOverrunningWorkspaceQueries,
} from '../workspace/postgres-workspaces.ts';
import { DEFAULT_POSTGRES_LOGIN_LIMITS } from '../workspace/workspace-limits.ts';
import { closeWorkspaces } from '../workspace/workspace-operations.ts';
import { serve, type ServerType } from '@hono/node-server';
import http from 'node:http';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { Hono } from 'hono';
import type { CliIo } from '../console/console.ts';
import type { KernelConfig } from '../config/config.ts';
import { prepareLandingFolder, sweepLandingFolder, type LandingMemory } from '../ingest/landing-folder.ts';
import { sendNotices } from '../signoff/notifications.ts';
import { smtpMailer } from '../signoff/smtp-mailer.ts';
import type { Store } from '../store/store.ts';
import { createApp, type AppEnv } from './app.ts';
import { randomSecret, sameSecret } from './auth/secrets.ts';
import {
  cliProof,
  FORWARD_PATH,
  HELLO_PATH,
  NONCE_HEADER,
  PROOF_HEADER,
  SERVER_FILE_NAME,
  serverProof,
} from './cli-forwarding.ts';
import { isLoopback, peerAddress } from './client-address.ts';
import { answerClientErrors } from './client-errors.ts';
import { FORM_LIMIT_BYTES, readTextBody } from './request-body.ts';
import { buildRouteTable } from './route-table.ts';
import type { ServerDeps } from './routes.ts';

export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface StartServerOptions {
  store: Store;
  config: KernelConfig;
  /** 0 picks a free port; defaults to config.port */
  port?: number;
  /** the address to listen on; loopback unless told otherwise */
  host?: string;
  log?: (line: string) => void;
  /** a landing folder to watch for feeds (`kernel serve --landing DIR`; docs/feeds.md) */
  landing?: string;
  /** how often the landing folder is swept; a pair must be unchanged for one sweep */
  landingEveryMs?: number;
  /** how often due notices are emailed, when `smtpUrl` is set (default hourly) */
  notifyEveryMs?: number;
  /**
   * Runs a CLI command in this process, on the CLI's behalf (cli-forwarding.ts): the CLI
   * passes its own `main`, so the server never imports the CLI. Without it, commands are
   * not handed over and no server.json is written.
   */
  runCommand?: CommandRunner;
}

/** The store, lent to a forwarded CLI command: it may use it but must not close it. */
function borrowed(store: Store): Store {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'close') return async () => undefined;
      const value = Reflect.get(target, property, receiver) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** Runs one CLI command against the server's store, writing to `io`; answers the exit code. */
/** `token`: the API token the CLI acts with (KERNEL_TOKEN), so a forwarded command keeps its principal. */
export type CommandRunner = (argv: string[], io: CliIo, store: Store, token?: string) => Promise<number>;

/** Mounts the endpoint that runs a CLI command on the CLI's behalf (see cli-forwarding.ts). */
function mountCliForwarding(
  app: Hono<AppEnv>,
  store: Store,
  secret: string,
  runCommand: CommandRunner,
): void {
  // One command at a time, in arrival order, as if typed one after another.
  let queue: Promise<unknown> = Promise.resolve();
  // The CLI's challenge: answering it proves this process holds server.json's secret.
  app.get(HELLO_PATH, (c) => {
    const nonce = c.req.header(NONCE_HEADER) ?? '';
    if (!isLoopback(peerAddress(c)) || nonce.length < 16 || nonce.length > 128)
      return c.json({ error: 'forbidden' }, 403);
    return c.json({ proof: serverProof(secret, nonce) });
  });
  app.post(FORWARD_PATH, async (c) => {
    if (!isLoopback(peerAddress(c))) return c.json({ error: 'forbidden' }, 403);
    const nonce = c.req.header(NONCE_HEADER) ?? '';
    // Bounded like every body (issue 23, H2): a command line and a password, never more.
    let text: string;
    try {
      text = await readTextBody(c.req.raw, FORM_LIMIT_BYTES);
    } catch {
      return c.json({ error: 'too-large' }, 413);
    }
    if (nonce.length < 16 || !sameSecret(c.req.header(PROOF_HEADER) ?? '', cliProof(secret, nonce, text)))
      return c.json({ error: 'forbidden' }, 403);
    let body: { argv?: unknown; stdin?: unknown; token?: unknown } | undefined;
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      body = undefined;
    }
    const argv = body?.argv;
    if (!Array.isArray(argv) || !argv.every((a) => typeof a === 'string'))
      return c.json({ error: 'usage' }, 400);
    const stdin = new PassThrough();
    stdin.end(typeof body?.stdin === 'string' ? body.stdin : '');
    const encoder = new TextEncoder();
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        const send = (message: object) => controller.enqueue(encoder.encode(`${JSON.stringify(message)}\n`));
        const io: CliIo = { out: (out) => send({ out }), err: (err) => send({ err }), isTTY: false, stdin };
        const token = typeof body?.token === 'string' ? body.token : undefined;
        const run = queue.then(() => runCommand(argv as string[], io, borrowed(store), token));
        queue = run.catch(() => undefined);
        run.then(
          (exit) => {
            send({ exit });
            controller.close();
          },
          () => {
            send({ err: 'kernel: the server could not run the command', exit: 70 });
            controller.close();
          },
        );
      },
    });
    return c.body(stream, 200, { 'Content-Type': 'application/x-ndjson' });
  });
}

/**
 * Runs `work` every `everyMs`, one run at a time; a failed run is logged and the next one
 * tries again. Answers a function that stops it.
 */
function every(
  everyMs: number,
  work: () => Promise<void>,
  label: string,
  log: ((line: string) => void) | undefined,
): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    work()
      .catch((error: unknown) =>
        log?.(`${label}: the run failed (${error instanceof Error ? error.message : 'unknown'})`),
      )
      .finally(() => (running = false));
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** Sweeps the landing folder every `everyMs`, logging what it loaded. */
function watchLandingFolder(
  store: Store,
  dir: string,
  everyMs: number,
  log: ((line: string) => void) | undefined,
): () => void {
  const memory: LandingMemory = new Map();
  return every(
    everyMs,
    async () => {
      for (const o of await sweepLandingFolder(store, dir, memory))
        log?.(
          `landing: ${o.file} ${o.status}${o.loadId ? ` as ${o.loadId}` : ''}, moved to ${o.movedTo}/${o.keptAs}`,
        );
    },
    'landing',
    log,
  );
}

/** Emails what is due (notifications.ts) every `everyMs`, when a mail server is configured. */
function sendNoticesRegularly(
  store: Store,
  config: KernelConfig,
  everyMs: number,
  log: ((line: string) => void) | undefined,
): () => void {
  const { smtpUrl } = config;
  if (!smtpUrl) return () => undefined;
  const mailer = smtpMailer(smtpUrl, config.mailFrom);
  return every(
    everyMs,
    async () => {
      const result = await sendNotices(store, mailer, {
        reminderWorkingDays: config.reminderWorkingDays,
        actor: 'kernel:notify',
      });
      if (result.sent > 0) log?.(`notify: ${result.sent} email(s) sent`);
    },
    'notify',
    log,
  );
}

/** Due notices go out hourly: reminders count working days, so an hour late is no matter. */
const NOTIFY_EVERY_MS = 60 * 60 * 1000;

/**
 * Serves the portal and API on `port` (`kernel serve`, `kernel demo`). With the embedded
 * store it writes `<data>/server.json` (mode 0600) so the CLI can hand commands over, and
 * removes it on close.
 */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  // Before anything listens: a landing folder that cannot be watched stops the start.
  if (options.landing) prepareLandingFolder(options.landing);
  const deps: ServerDeps = { store: options.store, config: options.config, log: options.log };
  const secret = randomSecret();
  const app = createApp(deps, {
    routes: buildRouteTable(deps),
    extend: (hono) => {
      if (options.runCommand) mountCliForwarding(hono, options.store, secret, options.runCommand);
    },
  });
  const host = options.host ?? '127.0.0.1';
  const server: ServerType = await new Promise((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: options.port ?? options.config.port, hostname: host }, () =>
      resolve(s),
    );
    s.once('error', reject);
  });
  if (server instanceof http.Server) answerClientErrors(server);
  const port = (server.address() as AddressInfo).port;
  const serverFile = path.join(options.config.dataDir, SERVER_FILE_NAME);
  const advertise = options.store.dialect.name === 'duckdb' && options.runCommand !== undefined;
  if (advertise) {
    writeFileSync(serverFile, JSON.stringify({ pid: process.pid, port, secret }), { mode: 0o600 });
    chmodSync(serverFile, 0o600);
  }
  const removeFile = () => {
    if (advertise) rmSync(serverFile, { force: true });
  };
  process.once('exit', removeFile);
  const stopLanding = options.landing
    ? watchLandingFolder(options.store, options.landing, options.landingEveryMs ?? 2000, options.log)
    : () => undefined;
  const stopNotices = sendNoticesRegularly(
    options.store,
    options.config,
    options.notifyEveryMs ?? NOTIFY_EVERY_MS,
    options.log,
  );
  const stopWatchdog = watchWorkspaceQueries(options.store, options.log);
  const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  return {
    url: `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}`,
    port,
    close: async () => {
      await new Promise<void>((resolve) => {
        stopLanding();
        stopNotices();
        stopWatchdog();
        removeFile();
        process.removeListener('exit', removeFile);
        server.close(() => resolve());
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
      // The workspaces' snapshots hold governed rows: none outlives the server.
      await closeWorkspaces(options.store);
    },
  };
}

/**
 * On PostgreSQL, analysts' own logins can SET their statement timeout away, so the server
 * cancels any workspace query past the limit every few seconds (postgres-workspaces.ts).
 */
function watchWorkspaceQueries(store: Store, log?: (line: string) => void): () => void {
  if (store.dialect.name !== 'postgres') return () => undefined;
  const timer = setInterval(() => {
    stopOverrunningWorkspaceQueries(store, DEFAULT_POSTGRES_LOGIN_LIMITS.seconds).then(
      (cancelled) => {
        if (cancelled > 0)
          log?.(`workspace: cancelled ${cancelled} queries past ${DEFAULT_POSTGRES_LOGIN_LIMITS.seconds} s`);
      },
      () => log?.('workspace: the query watchdog could not run this time'),
    );
  }, 5_000);
  // Analysts' PostgreSQL schemas read snapshots made when they were provisioned: once a
  // minute, when a load, sign-off, opt-out list, KID build or the policy has changed since,
  // they are provisioned again, so an opted-out person leaves them within the minute.
  let refreshing = false;
  const refresher = setInterval(() => {
    if (refreshing) return;
    refreshing = true;
    refreshPostgresWorkspaces(store, { actor: 'kernel:workspace-refresh' })
      .then(
        (result) => {
          if (result) log?.(`workspace: snapshots refreshed for ${result.logins.length} logins`);
        },
        () => log?.('workspace: the snapshots could not be refreshed this time'),
      )
      .finally(() => {
        refreshing = false;
      });
  }, 60_000);
  timer.unref();
  refresher.unref();
  return () => {
    clearInterval(timer);
    clearInterval(refresher);
  };
}
