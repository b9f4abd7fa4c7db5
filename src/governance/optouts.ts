/**
 * The national data opt-out, as person tokens. The organisation's agent turns the NHS
 * numbers NHS England reports as opted out into tokens with the shared link key, so the
 * warehouse never sees the numbers. Each load replaces the whole list: the answer from
 * "Check for National Data Opt-outs" is a snapshot to re-check, not a status to keep
 * against a record (reference §9).
 *
 * The list is applied by the access policy (access-policy.ts) to planning and research
 * reads; `optOutImpact` shows IG leads how many records each use case loses to it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { appendAudit } from '../audit/audit-log.ts';
import { KernelError } from '../errors.ts';
import type { Queryable } from '../store/store.ts';
import { inTransaction, newId, nowIso } from './governance-values.ts';

/**
 * Kernel's HMAC-SHA256 tokens are lower-case hex; OpenPseudonymiser digests upper-case.
 * Either is taken and held in lower case, the case of the person tokens the warehouse
 * compares them with: an upper-case token would match no one.
 */
const TOKEN = /^[0-9a-f]{64}$|^[0-9A-F]{64}$/;

/** The token as the warehouse holds it (lower-case hex). */
function heldToken(token: string): string {
  return token.toLowerCase();
}

/**
 * Reads a token list: one token per line, optional trailing comma (the MESH `.dat`
 * layout), blank lines and `#` comments ignored. Refuses, with the line, anything that is
 * not a token — above all a bare NHS number, which must never reach the warehouse.
 */
export function parseOptOutTokens(text: string, file: string): string[] {
  const tokens = new Set<string>();
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, index) => {
    const value = raw.trim().replace(/,$/, '').trim();
    if (value === '' || value.startsWith('#')) return;
    if (TOKEN.test(value)) {
      tokens.add(heldToken(value));
      return;
    }
    const looksLikeNhsNumber = /^\d{3}\s?\d{3}\s?\d{4}$/.test(value);
    throw new KernelError(
      'invalid-input',
      looksLikeNhsNumber
        ? 'The opt-out file holds an NHS number, not a token'
        : 'The opt-out file holds something that is not a token',
      {
        where: { file, line: index + 1, column: 1 },
        hint: looksLikeNhsNumber
          ? 'Turn the NHS numbers into tokens with the agent (`kernel deid`) first: the warehouse never takes NHS numbers. Nothing was loaded'
          : 'Each line must be one 64-character hexadecimal token. Nothing was loaded',
      },
    );
  });
  return [...tokens];
}

export interface OptOutLoad {
  batchId: string;
  tokens: number;
  replaced: number;
  loadedAt: string;
}

/** Replaces the opt-out list with the tokens in `file`, atomically. */
export async function loadOptOutFile(q: Queryable, file: string, actor: string): Promise<OptOutLoad> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new KernelError('not-found', `Cannot read the opt-out file ${file}`, {
      where: { file },
      hint: 'Check the path',
    });
  }
  const tokens = parseOptOutTokens(text, file);
  if (tokens.length === 0) {
    throw new KernelError('invalid-input', 'The opt-out file holds no tokens', {
      where: { file },
      hint: 'An empty file would clear everyone’s opt-out; if that is really meant, ask the programme team',
    });
  }
  return loadOptOutTokens(q, tokens, path.basename(file), actor);
}

export async function loadOptOutTokens(
  q: Queryable,
  tokens: readonly string[],
  sourceName: string,
  actor: string,
): Promise<OptOutLoad> {
  for (const token of tokens) {
    if (!TOKEN.test(token))
      throw new KernelError('invalid-input', 'An opt-out token is malformed', {
        hint: 'Tokens are 64 hexadecimal characters',
      });
  }
  const unique = [...new Set(tokens.map(heldToken))];
  return inTransaction(q, async (tx) => {
    const [before] = await tx.query<{ n: number }>('SELECT count(*) AS n FROM optouts');
    const batchId = newId();
    const loadedAt = nowIso();
    await tx.run('DELETE FROM optouts');
    await tx.insertRows(
      'optouts',
      ['token', 'batch_id'],
      unique.map((t) => [t, batchId]),
    );
    await tx.run(
      'INSERT INTO optout_batches (batch_id, loaded_at, loaded_by, token_count, source_name) VALUES ($1, $2, $3, $4, $5)',
      [batchId, loadedAt, actor, unique.length, sourceName],
    );
    const replaced = Number(before?.n ?? 0);
    await appendAudit(tx, {
      actor,
      action: 'optouts.loaded',
      target: `optouts:${batchId}`,
      details: { tokens: unique.length, replaced, source: sourceName },
    });
    return { batchId, tokens: unique.length, replaced, loadedAt };
  });
}

export interface OptOutStatus {
  tokens: number;
  lastLoad: { batchId: string; loadedAt: string; loadedBy: string; source: string } | null;
}

export async function optOutStatus(q: Queryable): Promise<OptOutStatus> {
  const [count] = await q.query<{ n: number }>('SELECT count(*) AS n FROM optouts');
  const [last] = await q.query<{
    batch_id: string;
    loaded_at: string;
    loaded_by: string;
    source_name: string;
  }>(
    'SELECT batch_id, loaded_at, loaded_by, source_name FROM optout_batches ORDER BY loaded_at DESC LIMIT 1',
  );
  return {
    tokens: Number(count?.n ?? 0),
    lastLoad: last
      ? {
          batchId: last.batch_id,
          loadedAt: last.loaded_at,
          loadedBy: last.loaded_by,
          source: last.source_name,
        }
      : null,
  };
}
