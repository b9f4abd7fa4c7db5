import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/**
 * A real PostgreSQL server for tests and benchmarks, started from the machine's own
 * binaries on a free loopback port and thrown away afterwards. Where no PostgreSQL is
 * installed and we are root on Debian, it installs the `postgresql` package first.
 */
export interface PostgresServer {
  url: string;
  stop(): void;
}

/** The folder of this machine's PostgreSQL binaries (pg_ctl, psql), if it has them. */
export function findBinDir(): string | undefined {
  const fromPath = spawnSync('sh', ['-c', 'command -v pg_ctl'], { encoding: 'utf8' }).stdout.trim();
  if (fromPath) return path.dirname(fromPath);
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(path.join(root, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? path.join(root, versions[0], 'bin') : undefined;
}

function installPostgres(): void {
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) {
    throw new Error('Tests need PostgreSQL: install it (Debian: apt-get install postgresql) and run again');
  }
  console.error('test setup: installing PostgreSQL with apt-get (first run only)…');
  execFileSync(
    'sh',
    ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql'],
    {
      stdio: 'inherit',
    },
  );
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * Starts a server in a temporary folder, removed when it stops; or, given `keepIn`, in that
 * folder, kept when it stops and started again from it next time (a benchmark's prepared
 * warehouse is then measured again without loading it again).
 */
export async function startPostgres({ keepIn }: { keepIn?: string } = {}): Promise<PostgresServer> {
  let binDir = findBinDir();
  if (!binDir) {
    installPostgres();
    binDir = findBinDir();
    if (!binDir) throw new Error('PostgreSQL was installed but pg_ctl was not found');
  }
  const dir = keepIn ? path.resolve(keepIn) : mkdtempSync(path.join(os.tmpdir(), 'kernel-pg-'));
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const data = path.join(dir, 'data');
  const port = await freePort();
  // initdb refuses to run as root, so as root we run the server as the `postgres` user.
  const asRoot = process.getuid?.() === 0;
  const run = (command: string, args: string[]): void => {
    const full = path.join(binDir, command);
    const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', full, ...args]] : [full, args];
    const result = spawnSync(file, argv, { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr || result.stdout}`);
  };
  if (asRoot) {
    const pgUser = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const pgGroup = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    chownSync(dir, Number(pgUser.stdout.trim()), Number(pgGroup.stdout.trim()));
  }
  if (!existsSync(path.join(data, 'PG_VERSION')))
    run('initdb', ['-D', data, '-U', 'kernel', '--auth=trust', '-E', 'UTF8', '--locale=C', '-N']);
  // Durability settings off: a throwaway test server, not a warehouse.
  const options = [
    `-p ${port}`,
    `-k ${dir}`,
    '-c listen_addresses=127.0.0.1',
    '-c fsync=off',
    '-c synchronous_commit=off',
    '-c full_page_writes=off',
    '-c max_connections=200',
  ].join(' ');
  run('pg_ctl', ['-D', data, '-o', options, '-l', path.join(dir, 'server.log'), '-w', 'start']);
  return {
    url: `postgres://kernel@127.0.0.1:${port}/postgres`,
    stop() {
      try {
        // A kept server shuts down cleanly, so its next start does not replay the WAL.
        run('pg_ctl', ['-D', data, '-m', keepIn ? 'fast' : 'immediate', '-w', 'stop']);
      } finally {
        if (!keepIn) rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
