/**
 * The agent's third way in (issue 16): `kernel deid … --send URL` pushes the signed file and
 * its manifest to the warehouse's `POST /api/v1/feeds` with the organisation's API token, so
 * a regular feed needs no one to carry files. Over HTTPS (plain HTTP only to this machine);
 * retried when the network or the server fails, never when the warehouse refuses the feed,
 * whose reasons come back as they are: a refused load is thrown with its report's reason. The file streams from disk: it is never read whole.
 */
import { openAsBlob } from 'node:fs';
import path from 'node:path';
import { KernelError, type ErrorCode, type ErrorLocation } from '../errors.ts';
import { manifestPathFor } from './manifest.ts';

export interface SendOptions {
  /** tries in all, the first included */
  attempts?: number;
  /** the wait before the second try; doubled before each after it */
  firstWaitMs?: number;
}

export interface SentFeed {
  /** the warehouse's load report */
  report: { status: string; loadId: string | null; rowsLoaded: number; rowsRead: number } & Record<
    string,
    unknown
  >;
  attempts: number;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

function feedsUrl(base: string): URL {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new KernelError('usage', `"${base}" is not a web address`, {
      where: { field: 'send' },
      hint: 'Give the warehouse’s address, e.g. https://kernel.example.nhs.uk',
    });
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
    throw new KernelError('usage', 'Feeds are sent over HTTPS only (plain HTTP only to this machine)', {
      where: { field: 'send' },
      hint: `Use https://${url.host}`,
    });
  }
  url.pathname = `${url.pathname.replace(/\/$/, '')}/api/v1/feeds`;
  return url;
}

/**
 * A load the warehouse refused, as the error its reasons make: their code (so the exit code a
 * refusal maps to), what, where and what to do. The load id names its record at the warehouse.
 */
function refusedFeed(
  loadId: unknown,
  reason: { code?: string; message?: string; where?: ErrorLocation; hint?: string } | undefined,
): KernelError {
  const as = typeof loadId === 'string' ? ` as ${loadId}` : '';
  return new KernelError(
    (reason?.code as ErrorCode | undefined) ?? 'refused',
    `The warehouse refused the feed${as}: ${reason?.message ?? 'its report gives no reason'}`,
    {
      ...(reason?.where ? { where: reason.where } : {}),
      hint:
        reason?.hint ??
        `Read its report with kernel loads show ${typeof loadId === 'string' ? loadId : 'LOADID'} at the warehouse, or on its portal`,
    },
  );
}

/** Sends `file` and its manifest; answers the load report, or throws what the warehouse said (a refusal with its reasons). */
export async function sendFeed(
  base: string,
  token: string,
  file: string,
  options: SendOptions = {},
): Promise<SentFeed> {
  const url = feedsUrl(base);
  const attempts = options.attempts ?? 3;
  let wait = options.firstWaitMs ?? 1000;
  let lastProblem = '';
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    const form = new FormData();
    form.set('file', await openAsBlob(file), path.basename(file));
    form.set('manifest', await openAsBlob(manifestPathFor(file)), path.basename(manifestPathFor(file)));
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}` },
        body: form,
      });
    } catch (error) {
      lastProblem = `the warehouse could not be reached (${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message})`;
      if (attempt < attempts) await new Promise((resolve) => setTimeout(resolve, (wait *= 2) / 2));
      continue;
    }
    const body = (await response.json().catch(() => ({}))) as {
      error?: { code?: string; message?: string; where?: ErrorLocation; hint?: string };
    } & Record<string, unknown>;
    if (response.ok) return { report: body as SentFeed['report'], attempts: attempt };
    if (response.status === 422 && typeof body.status === 'string') {
      // Refused by the load: its report says why (the file's problems, for the sender to fix).
      throw refusedFeed(body.loadId, body.error);
    }
    if (response.status < 500 || attempt === attempts) {
      throw new KernelError(
        (body.error?.code as ErrorCode | undefined) ?? 'refused',
        `The warehouse answered ${response.status}: ${body.error?.message ?? 'no reason given'}`,
        body.error?.hint ? { hint: body.error.hint } : {},
      );
    }
    lastProblem = `the warehouse answered ${response.status}`;
    await new Promise((resolve) => setTimeout(resolve, (wait *= 2) / 2));
  }
  throw new KernelError('busy', `The feed was not sent: ${lastProblem}, ${attempts} times`, {
    hint: 'Send it again later; the file and its manifest are kept where they were written',
  });
}
