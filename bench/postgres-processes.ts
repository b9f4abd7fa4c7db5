import { readFileSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import pg from 'pg';

/**
 * A benchmark's PostgreSQL server, seen from /proc (Linux, proc(5)): the server does its work
 * in processes of its own, so neither their CPU time nor their memory is in the benchmark's.
 */
export interface ServerProcesses {
  /**
   * CPU seconds (user and system) the server has used since it started: the postmaster, its
   * children alive now (backends, parallel workers, the WAL writer, the checkpointer…) and
   * those that have exited (its cutime and cstime, counted once reaped). A step's figure is
   * the difference across it; on a busy machine CPU seconds compare where wall seconds do not.
   */
  cpuSeconds(): number;
  /**
   * The server's memory now: the sum of its processes' proportional set sizes (Pss in
   * smaps_rollup), which share out the pages they hold in common (shared_buffers) rather than
   * counting them in every process, as summing their resident sets would.
   */
  memoryBytes(): number;
}

/** Finds the server behind `serverUrl` (by its data folder's postmaster.pid) and reads its processes. */
export async function serverProcesses(serverUrl: string): Promise<ServerProcesses> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  const { rows } = await client.query<{ data_directory: string }>('SHOW data_directory');
  await client.end();
  const postmaster = Number(
    readFileSync(path.join(rows[0]!.data_directory, 'postmaster.pid'), 'utf8').split('\n')[0],
  );
  const ticks = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

  /** The fields of /proc/<pid>/stat after the command name (which may hold spaces): [0] is the state. */
  const stat = (pid: number): string[] | undefined => {
    try {
      const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return text.slice(text.lastIndexOf(') ') + 2).split(' ');
    } catch {
      return undefined; // exited since the folder was listed
    }
  };
  const children = (): number[] =>
    readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .map(Number)
      .filter((pid) => Number(stat(pid)?.[1]) === postmaster);

  /** The postmaster's own CPU ticks and its reaped children's: utime, stime, cutime, cstime (fields 14 to 17). */
  const postmasterTimes = (): { own: number; reaped: number } => {
    const fields = stat(postmaster);
    if (!fields) throw new Error(`The PostgreSQL server (process ${postmaster}) is no longer running`);
    return {
      own: Number(fields[11]) + Number(fields[12]),
      reaped: Number(fields[13]) + Number(fields[14]),
    };
  };

  return {
    cpuSeconds() {
      // A child reaped while its siblings are read would be counted twice or not at all, so
      // the read is taken again until the postmaster's count of its reaped children holds still.
      for (;;) {
        const before = postmasterTimes();
        const live = children().reduce((sum, pid) => {
          const fields = stat(pid);
          return sum + (fields ? Number(fields[11]) + Number(fields[12]) : 0);
        }, 0);
        const after = postmasterTimes();
        if (after.reaped === before.reaped) return (live + after.own + after.reaped) / ticks;
      }
    },
    memoryBytes() {
      let kib = 0;
      for (const pid of [postmaster, ...children()]) {
        try {
          const pss = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
          kib += Number(pss?.[1] ?? 0);
        } catch {
          // exited since the folder was listed
        }
      }
      return kib * 1024;
    },
  };
}
