import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReidWorld, principal, RWF_PEOPLE, type ReidWorld } from '../../test/reid-world.ts';
import { testStores } from '../../test/stores.ts';
import { activeUseCase } from '../../test/use-cases.ts';
import { openStore } from '../store/open-store.ts';
import { listAudit } from '../audit/audit-log.ts';
import { auditVisibleTo } from '../audit/audit-scope.ts';
import { parseCsv } from '../files/csv-file-writer.ts';
import { setAgreementState } from '../governance/agreements.ts';
import { loadOptOutTokens } from '../governance/optouts.ts';
import { closeUseCase } from '../governance/use-cases.ts';
import type { Principal } from '../operations/principal.ts';
import { newEncryptionKeyPair } from '../privacy/encryption-key.ts';
import { isValidNhsNumber } from '../privacy/nhs-number.ts';
import { reidentifyExtract } from '../privacy/reidentify-extract.ts';
import { openRelease, parseSealedRelease } from '../privacy/sealed-release.ts';
import type { Store } from '../store/store.ts';
import { addAccounts } from '../workspace/workspace-world.ts';
import { kernelSigningKey, kernelSigningKeyFile } from './kernel-signing-key.ts';
import {
  controllerReidRequests,
  decideReidentification,
  downloadSealedRelease,
  listReidRequests,
  reidMonthlyCounts,
  reidSettings,
  requestReidentification,
  setReidSettings,
  trustEncryptionKey,
  useCaseReidSettings,
} from './reid-requests.ts';

const analyst = principal('u-analyst', 'analyst', null);
const igLeadRwf = principal('u-ig-rwf', 'ig-lead', 'RWF');
const igLeadRwf2 = principal('u-ig-rwf-2', 'ig-lead', 'RWF');
const igLeadRpa = principal('u-ig-rpa', 'ig-lead', 'RPA');
const admin = principal('u-admin', 'admin', null);
const viewer = principal('u-viewer', 'viewer', null);

describe.each(testStores())('re-identification for direct care on $engine', (engine) => {
  let store: Store;
  /** the warehouse's data folder: its store (DuckDB) and Kernel's signing key */
  let dataDir = '';
  const work = mkdtempSync(path.join(os.tmpdir(), 'kernel-reid-agent-'));
  let world: ReidWorld;
  const nhs = (i: number): string => world.nhs(i);
  const tokenOf = (n: string): string => world.tokenOf(n);
  afterAll(() => store.close());
  beforeAll(async () => {
    const place = await engine.fresh();
    dataDir = place.dataDir;
    store = await openStore(place);
    world = await buildReidWorld(store);
    // Second approvers are accounts that exist.
    await addAccounts(
      store,
      [analyst, igLeadRwf, igLeadRwf2, igLeadRpa, admin, viewer].map((p) => ({
        id: p.userId,
        role: p.role,
        org: p.org,
      })),
    );
  });

  it('refuses a second approver who has no account, keeping the approvers it had', async () => {
    await expect(
      setReidSettings(
        store,
        admin,
        { useCaseId: world.useCases.direct, approvers: ['u_nope'] },
        'user:admin',
      ),
    ).rejects.toMatchObject({
      code: 'usage',
      where: { field: 'approvers' },
      message: 'There is no user "u_nope"',
    });
    expect((await reidSettings(store, world.useCases.direct)).approvers).toEqual([]);
  });

  it('finds no settings for a use case that does not exist', async () => {
    await expect(useCaseReidSettings(store, 'UC-999')).rejects.toMatchObject({ code: 'not-found' });
    expect((await useCaseReidSettings(store, world.useCases.direct)).useCaseId).toBe(world.useCases.direct);
  });

  const ask = (tokens: string[], over: Partial<{ useCaseId: string; controller: string }> = {}) =>
    requestReidentification(
      store,
      analyst,
      {
        useCaseId: over.useCaseId ?? world.useCases.direct,
        controller: over.controller ?? 'RWF',
        reason: 'Frailty case finding: the practice will offer a review to each',
        fields: ['given_name', 'family_name', 'phone'],
        tokens,
      },
      'user:analyst',
    );

  it('refuses a planning use case, and audits the attempt', async () => {
    await expect(ask([tokenOf(nhs(0))], { useCaseId: world.useCases.planning })).rejects.toMatchObject({
      code: 'refused',
      message: expect.stringContaining('direct care only') as string,
    });
    const refused = await listAudit(store, { action: 'reid.request-refused' });
    expect(refused.some((e) => e.purpose === world.useCases.planning)).toBe(true);
  });

  it('refuses tokens that are not the controller’s, malformed tokens, and a cohort above the size limit', async () => {
    await expect(ask([tokenOf(nhs(0)), tokenOf(nhs(7))])).rejects.toMatchObject({
      code: 'refused',
      message: expect.stringContaining('1 of the cohort have no RWF record') as string,
    });
    await expect(ask([nhs(0)])).rejects.toMatchObject({ code: 'invalid-input' });
    await setReidSettings(store, admin, { useCaseId: world.useCases.direct, sizeLimit: 2 }, 'user:admin');
    await expect(ask(RWF_PEOPLE.slice(0, 3).map((p) => tokenOf(nhs(p))))).rejects.toMatchObject({
      code: 'refused',
      message: expect.stringContaining('at most 2') as string,
    });
    await setReidSettings(store, admin, { useCaseId: world.useCases.direct, sizeLimit: 500 }, 'user:admin');
  });

  it('refuses people on the opt-out list where the use case honours it, and only then', async () => {
    await loadOptOutTokens(store, [tokenOf(nhs(4))], 'optouts.dat', 'test');
    await setReidSettings(
      store,
      admin,
      { useCaseId: world.useCases.direct, honourOptOut: true },
      'user:admin',
    );
    await expect(ask([tokenOf(nhs(3)), tokenOf(nhs(4))])).rejects.toMatchObject({
      code: 'refused',
      message: expect.stringContaining('on the opt-out list') as string,
    });
    await setReidSettings(
      store,
      admin,
      { useCaseId: world.useCases.direct, honourOptOut: false },
      'user:admin',
    );
    const request = await ask([tokenOf(nhs(3)), tokenOf(nhs(4))]);
    expect(request.state).toBe('awaiting-approval');
  });

  it('needs two approvals by two people, neither the requester; then seals the tokens to the controller only', async () => {
    // The requester is named a second approver: still cannot approve their own request.
    await setReidSettings(
      store,
      admin,
      { useCaseId: world.useCases.direct, approvers: [analyst.userId] },
      'user:admin',
    );
    // The cohort: RWF people 0, 1, 2 and 6 (6 is not in RWF's extract below).
    const cohort = [0, 1, 2, 6].map((p) => tokenOf(nhs(p)));
    const request = await ask(cohort);
    expect(request).toMatchObject({ state: 'awaiting-approval', cohortSize: 4, controller: 'RWF' });
    const decide = (who: Principal, decision: 'approve' | 'refuse' = 'approve', comment = '') =>
      decideReidentification(store, who, request.id, decision, comment, `user:${who.userId}`, dataDir);

    await expect(decide(analyst)).rejects.toMatchObject({
      code: 'forbidden',
      message: 'You cannot approve a request you made',
    });
    // Another controller's IG lead, and a viewer, may not see it: deciding it tells them nothing.
    for (const outsider of [igLeadRpa, viewer]) {
      await expect(decide(outsider)).rejects.toMatchObject({
        code: 'not-found',
        message: `There is no re-identification request ${request.id}`,
      });
    }

    const once = await decide(igLeadRwf);
    expect(once.state).toBe('awaiting-approval');
    expect(once.approvals).toHaveLength(1);
    await expect(downloadSealedRelease(store, igLeadRwf, request.id, 'x')).rejects.toMatchObject({
      code: 'conflict',
    });
    await expect(decide(igLeadRwf)).rejects.toMatchObject({ code: 'conflict' });
    // A second IG lead of the same organisation is not a second approver.
    await expect(decide(igLeadRwf2)).rejects.toMatchObject({ code: 'conflict' });

    const twice = await decide(admin);
    expect(twice.state).toBe('released');
    expect(twice.recipientKeyId).toMatch(/^ek-/);

    // Only the controller's IG lead (or an administrator) downloads it.
    await expect(downloadSealedRelease(store, igLeadRpa, request.id, 'x')).rejects.toMatchObject({
      code: 'not-found',
    });
    await expect(downloadSealedRelease(store, analyst, request.id, 'x')).rejects.toMatchObject({
      code: 'forbidden',
    });
    const { bytes } = await downloadSealedRelease(store, igLeadRwf, request.id, 'user:ig-rwf');
    const sealedFile = path.join(work, `${request.id}.reid.json`);
    writeFileSync(sealedFile, bytes);
    const release = parseSealedRelease(bytes.toString('utf8'));
    const kernelPub = createPublicKey(kernelSigningKey(dataDir).publicKeyPem);

    // Decrypts only with RWF's key; not with RPA's; not once changed; not under another Kernel key.
    expect(openRelease(release, kernelPub, createPrivateKey(world.keys.RWF.privateKeyPem)).tokens).toEqual(
      cohort,
    );
    expect(() => openRelease(release, kernelPub, createPrivateKey(world.keys.RPA.privateKeyPem))).toThrow(
      /sealed for another/,
    );
    const changed = { ...release, fields: [...release.fields, 'date_of_birth'] };
    expect(() => openRelease(changed, kernelPub, createPrivateKey(world.keys.RWF.privateKeyPem))).toThrow(
      /does not verify/,
    );
    const otherKernel = generateKeyPairSync('ed25519').publicKey;
    expect(() => openRelease(release, otherKernel, createPrivateKey(world.keys.RWF.privateKeyPem))).toThrow(
      /not signed by the Kernel key/,
    );

    // RWF's agent: its own extract holds people 0–5 (not 6), one without a valid number.
    const extract = path.join(work, 'rwf-patients.csv');
    const lines = ['NHS_Number,given_name,family_name,phone,date_of_birth'];
    for (const p of [0, 1, 2, 3, 4, 5])
      lines.push(`${nhs(p)},Given${p},Family${p},0700000000${p},1950-01-0${p + 1}`);
    lines.push('9990000000,Nobody,Invalid,070,1950-01-01');
    writeFileSync(extract, `${lines.join('\n')}\n`);
    writeFileSync(path.join(work, 'rwf.enc.key'), world.keys.RWF.privateKeyPem);
    writeFileSync(path.join(work, 'kernel.pub'), kernelSigningKey(dataDir).publicKeyPem);
    const out = path.join(work, 'rwf-reidentified.csv');
    const opening = {
      requestFile: sealedFile,
      decryptKeyFile: path.join(work, 'rwf.enc.key'),
      kernelKeyFile: path.join(work, 'kernel.pub'),
      linkKey: world.linkKey,
      lookupFile: extract,
      outFile: out,
    };
    const result = await reidentifyExtract(opening);
    expect(result).toMatchObject({ requested: 4, matched: 3, unmatched: 1, extractRowsWithoutNhsNumber: 1 });
    const rows = parseCsv(readFileSync(out, 'utf8'));
    expect(rows[0]).toEqual(['NHS_Number', 'given_name', 'family_name', 'phone']);
    expect(rows.slice(1)).toEqual(
      [0, 1, 2].map((p) => [nhs(p), `Given${p}`, `Family${p}`, `0700000000${p}`]),
    );
    for (const row of rows.slice(1)) {
      expect(row[0]).toMatch(/^999\d{7}$/);
      expect(isValidNhsNumber(row[0])).toBe(true);
    }
    // The output is readable by its owner only, and never overwritten.
    expect(statSync(out).mode & 0o077).toBe(0);
    await expect(reidentifyExtract(opening)).rejects.toMatchObject({ code: 'conflict' });

    // Every step audited; the transparency record and the public count see it.
    const actions = (await listAudit(store, { target: `reid:${request.id}` })).map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining(['reid.requested', 'reid.approved', 'reid.released', 'reid.downloaded']),
    );
    // The controller's IG lead sees them in its audit log; another controller's does not.
    const target = `reid:${request.id}`;
    const asRwf = await auditVisibleTo(store, { role: 'ig-lead', org: 'RWF' }, { target, limit: 50 });
    expect(asRwf.map((e) => e.action)).toEqual(expect.arrayContaining(['reid.requested', 'reid.released']));
    expect(await auditVisibleTo(store, { role: 'ig-lead', org: 'RPA' }, { target, limit: 50 })).toEqual([]);
    const rwf = await controllerReidRequests(store, 'RWF');
    expect(rwf.find((r) => r.id === request.id)).toMatchObject({ state: 'released', cohortSize: 4 });
    expect(await controllerReidRequests(store, 'RPA')).toEqual([]);
    expect((await listReidRequests(store, igLeadRpa)).map((r) => r.id)).not.toContain(request.id);
    const month = new Date().toISOString().slice(0, 7);
    expect((await reidMonthlyCounts(store)).find((m) => m.month === month)).toMatchObject({ released: 1 });
  });

  it('a refusal ends a request, and needs a reason', async () => {
    const request = await ask([tokenOf(nhs(5))]);
    await expect(
      decideReidentification(store, igLeadRwf, request.id, 'refuse', '', 'x', dataDir),
    ).rejects.toMatchObject({ code: 'usage' });
    const refused = await decideReidentification(
      store,
      igLeadRwf,
      request.id,
      'refuse',
      'Not a direct-care need for this practice',
      'x',
      dataDir,
    );
    expect(refused.state).toBe('refused');
    await expect(
      decideReidentification(store, admin, request.id, 'approve', '', 'x', dataDir),
    ).rejects.toMatchObject({ code: 'conflict' });
  });

  it('two approvers deciding at the same moment never leave two approvals unreleased', async () => {
    const request = await ask([tokenOf(nhs(1))]);
    await Promise.allSettled(
      [igLeadRwf, admin].map((who) =>
        decideReidentification(store, who, request.id, 'approve', '', `user:${who.userId}`, dataDir),
      ),
    );
    const [after] = (await listReidRequests(store, admin)).filter((r) => r.id === request.id);
    const approvals = after?.approvals.filter((a) => a.decision === 'approve').length ?? 0;
    expect(after?.state).toBe(approvals === 2 ? 'released' : 'awaiting-approval');
    expect(approvals).toBeGreaterThanOrEqual(1);
  });

  it('refuses to approve once the use case is closed, audits the attempt, and still lets an approver refuse', async () => {
    const closing = await activeUseCase(store, {
      title: 'Frailty case finding, closing',
      purpose: 'direct-care',
      datasets: ['msds-booking'],
      controllers: ['RWF'],
      users: ['role:analyst'],
      months: 'loaded',
    });
    const request = await ask([tokenOf(nhs(2))], { useCaseId: closing.id });
    const decide = (who: Principal, decision: 'approve' | 'refuse' = 'approve', comment = '') =>
      decideReidentification(store, who, request.id, decision, comment, `user:${who.userId}`, dataDir);
    expect((await decide(igLeadRwf)).state).toBe('awaiting-approval');
    await closeUseCase(store, closing.id, 'test');
    await expect(decide(admin)).rejects.toMatchObject({
      code: 'refused',
      message: `Request ${request.id} can no longer be approved: ${closing.id} is closed`,
    });
    const after = (await listReidRequests(store, admin)).find((r) => r.id === request.id);
    expect(after).toMatchObject({ state: 'awaiting-approval', sealedSha256: null });
    expect(after?.approvals).toHaveLength(1);
    const attempts = await listAudit(store, {
      action: 'reid.approval-refused',
      target: `reid:${request.id}`,
    });
    expect(attempts).toHaveLength(1);
    expect(JSON.parse(attempts[0]?.details ?? '{}')).toMatchObject({ org: 'RWF' });
    expect((await decide(admin, 'refuse', 'The use case has closed')).state).toBe('refused');
  });

  it('refuses to approve, and so to release, while the controller’s agreement is suspended', async () => {
    const request = await ask([tokenOf(nhs(3))]);
    const decide = (who: Principal) =>
      decideReidentification(store, who, request.id, 'approve', '', `user:${who.userId}`, dataDir);
    expect((await decide(igLeadRwf)).state).toBe('awaiting-approval');
    await setAgreementState(store, 'DSA-RWF-001', 'suspended', 'test');
    try {
      await expect(decide(admin)).rejects.toMatchObject({
        code: 'refused',
        message: expect.stringContaining('may no longer read RWF’s data') as string,
      });
    } finally {
      await setAgreementState(store, 'DSA-RWF-001', 'in-force', 'test');
    }
    expect((await decide(admin)).state).toBe('released');
  });

  it('refuses, and audits, a request to a controller with no encryption key', async () => {
    const keyless = await activeUseCase(store, {
      title: 'Case finding with a controller without a key',
      purpose: 'direct-care',
      datasets: ['msds-booking'],
      controllers: ['RWF', 'RVV'],
      users: ['role:analyst'],
      months: 'loaded',
    });
    await expect(ask([tokenOf(nhs(0))], { useCaseId: keyless.id, controller: 'RVV' })).rejects.toMatchObject({
      code: 'conflict',
      message: 'RVV has no agent encryption key registered, so nothing could be released to it',
    });
    const refused = await listAudit(store, { action: 'reid.request-refused' });
    expect(JSON.parse(refused.find((e) => e.purpose === keyless.id)?.details ?? '{}')).toMatchObject({
      org: 'RVV',
    });
  });

  it('trusts an encryption key only for a registered organisation, and one controller’s key for no other', async () => {
    const before = await store.query('SELECT org_code, key_id FROM reid_encryption_keys ORDER BY org_code');
    await expect(
      trustEncryptionKey(store, 'ZZZ99', newEncryptionKeyPair().publicKeyPem, 'test'),
    ).rejects.toMatchObject({
      code: 'not-found',
      message: 'No organisation ZZZ99 is registered',
      where: { field: 'org' },
    });
    await expect(trustEncryptionKey(store, 'RVV', world.keys.RWF.publicKeyPem, 'test')).rejects.toMatchObject(
      {
        code: 'conflict',
        message: 'This key is already trusted for RWF, not RVV',
        where: { field: 'org' },
      },
    );
    expect(await store.query('SELECT org_code, key_id FROM reid_encryption_keys ORDER BY org_code')).toEqual(
      before,
    );
    // Trusting the same key again for its own organisation is still a no-op.
    expect((await trustEncryptionKey(store, 'RWF', world.keys.RWF.publicKeyPem, 'test')).org).toBe('RWF');
  });

  it('leaves no NHS number anywhere in the warehouse store, its audit log or its data folder', async () => {
    const tables = await store.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`,
    );
    expect(tables.map((t) => t.table_name)).toEqual(
      expect.arrayContaining(['reid_requests', 'audit_events']),
    );
    let text = '';
    for (const { table_name } of tables) {
      const rows = await store.query(`SELECT * FROM "${table_name}"`);
      text += JSON.stringify(rows, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
    }
    for (const file of readdirSync(dataDir, { recursive: true }) as string[]) {
      const full = path.join(dataDir, file);
      if (statSync(full).isFile()) text += readFileSync(full, 'latin1');
    }
    expect(text.length).toBeGreaterThan(1000);
    for (const n of world.people) {
      expect(text).not.toContain(n);
      expect(text).not.toContain(`${n.slice(0, 3)} ${n.slice(3, 6)} ${n.slice(6)}`);
    }
    expect(text).not.toMatch(/(^|[^0-9A-Za-z])999\d{7}([^0-9A-Za-z]|$)/);
    expect(readFileSync(kernelSigningKeyFile(dataDir), 'utf8')).toContain('PRIVATE KEY');
  });
});
