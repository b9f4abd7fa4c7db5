import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openForSuite, testStores } from '../../test/stores.ts';
import { listAudit } from '../audit/audit-log.ts';
import { seedOrganisations } from '../governance/organisations.ts';
import type { Principal } from '../operations/principal.ts';
import { addUser } from '../server/auth/user-accounts.ts';
import type { Store } from '../store/store.ts';
import {
  checkOutput,
  downloadOutput,
  getOutputRequest,
  releasedOutputs,
  requestOutput,
  type OutputRequest,
} from './output-requests.ts';

const KEY = '0123456789abcdef0123456789abcdef';
const TOKEN = 'a'.repeat(64);

function principal(userId: string, role: Principal['role'], org: string | null): Principal {
  return { userId, email: `${userId}@test`, role, org, via: 'session', mustChangePassword: false };
}

describe.each(testStores())('output requests on $engine', (engine) => {
  let store: Store;
  const folder = mkdtempSync(path.join(os.tmpdir(), 'kernel-outputs-'));
  const checkers: Record<string, Principal> = {};
  openForSuite(
    engine,
    (s) => (store = s),
    async (s) => {
      await seedOrganisations(s, 'test');
      for (const [name, org] of [
        ['icb', 'QKS'],
        ['icb2', 'QKS'],
        ['rwf', 'RWF'],
      ] as const) {
        const { user } = await addUser(
          s,
          {
            email: `checker.${name}@outputs.test`,
            role: 'output-checker',
            org,
            password: 'a long test passphrase 1',
          },
          'test',
        );
        checkers[name] = principal(user.id, 'output-checker', org);
      }
    },
  );
  const analyst = principal('u-analyst', 'analyst', null);
  const place = { folder, useCaseKey: KEY };

  const aggregate = (title: string) =>
    requestOutput(
      store,
      analyst,
      {
        useCaseId: 'UC-001',
        title,
        description: 'Emergency admissions by practice and sex',
        format: 'csv',
        aggregate: { rows: 'practice', columns: 'sex', count: 'people' },
      },
      {
        columns: ['practice', 'sex', 'people'],
        rows: [
          ['G1', 'F', 40],
          ['G1', 'M', 3],
          ['G2', 'F', 52],
          ['G2', 'M', 61],
        ],
      },
      place,
      'user:analyst',
    );

  it('controls an aggregate output before anyone sees it: the small count and its partners hidden, totals rounded', async () => {
    const request = await aggregate('Admissions by practice');
    expect(request).toMatchObject({ kind: 'aggregate', state: 'submitted', format: 'csv' });
    const file = readFileSync(path.join(folder, `${request.id}.csv`), 'utf8');
    expect(createHash('sha256').update(file).digest('hex')).toBe(request.sha256);
    const lines = file.trim().split('\r\n');
    expect(lines[0]).toBe('practice,sex,people');
    expect(lines).toContain('G1,M,*');
    // Secondary suppression: G1's other cell (or G1's total) cannot leave the 3 exposed.
    const hidden = lines.filter((l) => l.endsWith(',*'));
    expect(hidden.length).toBeGreaterThanOrEqual(2);
    // Totals are rounded from the true totals (43 → 45); no true small figure appears.
    expect(lines).toContain('G1,Total,45');
    expect(lines.some((l) => /,(3|43)$/.test(l))).toBe(false);
  });

  it('gives a record-level output the use case’s pseudonyms, never a warehouse token', async () => {
    const request = await requestOutput(
      store,
      analyst,
      { useCaseId: 'UC-001', title: 'Cohort', description: 'People in the cohort', format: 'csv' },
      { columns: ['person_token', 'age'], rows: [[TOKEN, 71]] },
      place,
      'user:analyst',
    );
    expect(request.kind).toBe('record-level');
    const file = readFileSync(path.join(folder, `${request.id}.csv`), 'utf8');
    expect(file).not.toContain(TOKEN);
    expect(file).toContain(createHmac('sha256', Buffer.from(KEY, 'hex')).update(TOKEN).digest('hex'));
  });

  it('releases only on two independent approvals; the requester cannot check, nor one organisation twice', async () => {
    const request = await aggregate('Two checks');
    await expect(
      checkOutput(store, { ...analyst, role: 'output-checker' }, request.id, 'approve', '', 'x'),
    ).rejects.toMatchObject({ code: 'forbidden', message: 'You cannot check an output you requested' });
    await expect(checkOutput(store, analyst, request.id, 'approve', '', 'x')).rejects.toMatchObject({
      code: 'forbidden',
    });
    const once: OutputRequest = await checkOutput(
      store,
      checkers.icb as Principal,
      request.id,
      'approve',
      '',
      'x',
    );
    expect(once.state).toBe('submitted');
    await expect(downloadOutput(store, analyst, request.id, folder, 'x')).rejects.toMatchObject({
      code: 'conflict',
    });
    await expect(
      checkOutput(store, checkers.icb as Principal, request.id, 'approve', '', 'x'),
    ).rejects.toMatchObject({ code: 'conflict' });
    await expect(
      checkOutput(store, checkers.icb2 as Principal, request.id, 'approve', '', 'x'),
    ).rejects.toMatchObject({ message: 'The second check must come from another organisation' });
    const twice = await checkOutput(store, checkers.rwf as Principal, request.id, 'approve', 'fine', 'x');
    expect(twice.state).toBe('released');
    await expect(
      downloadOutput(store, checkers.rwf as Principal, request.id, folder, 'x'),
    ).rejects.toMatchObject({ code: 'forbidden' });
    const { bytes } = await downloadOutput(store, analyst, request.id, folder, 'user:analyst');
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(request.sha256);
    expect((await releasedOutputs(store)).map((r) => r.title)).toContain('Two checks');
    const audit = await listAudit(store, { limit: 200 });
    const actions = audit.filter((e) => e.target === `output:${request.id}`).map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining(['output.requested', 'output.approved', 'output.downloaded']),
    );
  });

  it('records a download only once the file is delivered', async () => {
    const request = await aggregate('Delivered');
    await checkOutput(store, checkers.icb as Principal, request.id, 'approve', '', 'x');
    await checkOutput(store, checkers.rwf as Principal, request.id, 'approve', '', 'x');
    const unwritable = Object.assign(new Error('no such folder'), { code: 'ENOENT' });
    await expect(
      downloadOutput(store, analyst, request.id, folder, 'user:analyst', () => {
        throw unwritable;
      }),
    ).rejects.toBe(unwritable);
    expect((await getOutputRequest(store, request.id)).downloadedAt).toBeNull();
    const audit = await listAudit(store, { limit: 500 });
    expect(audit.some((e) => e.target === `output:${request.id}` && e.action === 'output.downloaded')).toBe(
      false,
    );
    let delivered = 0;
    await downloadOutput(store, analyst, request.id, folder, 'user:analyst', (bytes) => {
      delivered = bytes.length;
    });
    expect(delivered).toBe(request.bytes);
    expect((await getOutputRequest(store, request.id)).downloadedAt).not.toBeNull();
  });

  it('gives a token inside a longer value, in any case, a pseudonym, and an aggregate’s token labels too', async () => {
    const pseudonym = createHmac('sha256', Buffer.from(KEY, 'hex')).update(TOKEN).digest('hex');
    const recordLevel = await requestOutput(
      store,
      analyst,
      { useCaseId: 'UC-001', title: 'Shapes', description: 'Tokens in other shapes', format: 'csv' },
      { columns: ['upper', 'suffixed'], rows: [[TOKEN.toUpperCase(), `${TOKEN}x`]] },
      place,
      'user:analyst',
    );
    const file = readFileSync(path.join(folder, `${recordLevel.id}.csv`), 'utf8');
    expect(file.toLowerCase()).not.toContain(TOKEN);
    expect(file).toContain(`${pseudonym},${pseudonym}x`);
    const labelled = await requestOutput(
      store,
      analyst,
      {
        useCaseId: 'UC-001',
        title: 'By person',
        description: 'Ages by person',
        format: 'csv',
        aggregate: { rows: 'who', count: 'n' },
      },
      { columns: ['who', 'n'], rows: [[TOKEN, 40]] },
      place,
      'user:analyst',
    );
    const table = readFileSync(path.join(folder, `${labelled.id}.csv`), 'utf8');
    expect(table).not.toContain(TOKEN);
    expect(table).toContain(`${pseudonym},40`);
  });

  it('refuses a file changed after it was checked, and a return without a reason', async () => {
    const request = await aggregate('Tampered');
    await expect(
      checkOutput(store, checkers.icb as Principal, request.id, 'return', ' ', 'x'),
    ).rejects.toMatchObject({ code: 'usage' });
    await checkOutput(store, checkers.icb as Principal, request.id, 'approve', '', 'x');
    await checkOutput(store, checkers.rwf as Principal, request.id, 'approve', '', 'x');
    writeFileSync(path.join(folder, `${request.id}.csv`), 'practice,sex,people\r\nG1,M,3\r\n');
    await expect(downloadOutput(store, analyst, request.id, folder, 'x')).rejects.toMatchObject({
      code: 'internal',
    });
    const rejected = await checkOutput(
      store,
      checkers.icb as Principal,
      (await aggregate('Rejected')).id,
      'reject',
      'Counts by practice too fine',
      'x',
    );
    expect(rejected.state).toBe('rejected');
  });
});
