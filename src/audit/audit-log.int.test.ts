import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testStores } from '../../test/stores.ts';
import type { Store } from '../store/store.ts';
import {
  appendAudit,
  auditedTransaction,
  canonicalJson,
  countAudit,
  listAudit,
  verifyAudit,
} from './audit-log.ts';

describe.each(testStores())('audit log on $engine', (engine) => {
  let store: Store;
  beforeEach(async () => {
    store = await engine.open();
    await store.transaction((tx) =>
      appendAudit(
        tx,
        Array.from({ length: 5 }, (_, i) => ({
          actor: 'cli:test',
          action: 'test.event',
          target: `thing:${i + 1}`,
          details: { index: i + 1 },
        })),
      ),
    );
  });
  afterEach(async () => store.close());

  it('verifies an intact chain with its count', async () => {
    const verdict = await verifyAudit(store);
    expect(verdict).toMatchObject({ ok: true, count: 5 });
  });

  it('catches an edited event', async () => {
    await store.run(`UPDATE audit_events SET details = '{"index":99}' WHERE seq = 3`);
    expect(await verifyAudit(store)).toMatchObject({
      ok: false,
      brokenAt: 3,
      reason: 'event 3 has been altered',
    });
  });

  it('catches a deleted event', async () => {
    await store.run('DELETE FROM audit_events WHERE seq = 2');
    expect(await verifyAudit(store)).toMatchObject({ ok: false, brokenAt: 2, reason: 'event 2 is missing' });
  });

  it('catches the last event deleted and a new one chained after the gap', async () => {
    await store.run('DELETE FROM audit_events WHERE seq = 5');
    await store.transaction((tx) =>
      appendAudit(tx, { actor: 'cli:test', action: 'test.after', target: 'x' }),
    );
    // The new event follows event 4 honestly; the deletion of 5 cannot be proved from the
    // chain alone, but the chain stays valid and numbered without a gap.
    expect(await verifyAudit(store)).toMatchObject({ ok: true, count: 5 });
  });

  it('catches two events swapped', async () => {
    const rows = await store.query<{
      seq: number;
      actor: string;
      action: string;
      target: string;
      details: string;
    }>('SELECT seq, actor, action, target, details FROM audit_events WHERE seq IN (2, 4) ORDER BY seq');
    const [two, four] = rows;
    if (!two || !four) throw new Error('fixture missing');
    await store.run('UPDATE audit_events SET target = $1, details = $2 WHERE seq = 2', [
      four.target,
      four.details,
    ]);
    await store.run('UPDATE audit_events SET target = $1, details = $2 WHERE seq = 4', [
      two.target,
      two.details,
    ]);
    expect(await verifyAudit(store)).toMatchObject({ ok: false, brokenAt: 2 });
  });

  it('catches whole rows swapped, hashes and all', async () => {
    await store.run('UPDATE audit_events SET seq = 100 WHERE seq = 2');
    await store.run('UPDATE audit_events SET seq = 2 WHERE seq = 4');
    await store.run('UPDATE audit_events SET seq = 4 WHERE seq = 100');
    expect(await verifyAudit(store)).toMatchObject({
      ok: false,
      brokenAt: 2,
      reason: 'event 2 does not follow event 1',
    });
  });

  it('leaves no event for an action that rolled back', async () => {
    await store.exec('CREATE TABLE widgets (id INTEGER PRIMARY KEY)');
    await expect(
      auditedTransaction(
        store,
        { actor: 'cli:test', action: 'widget.added', target: 'widget:1' },
        async (tx) => {
          await tx.run('INSERT INTO widgets VALUES (1)');
          await tx.run('INSERT INTO widgets VALUES (1)'); // fails: duplicate key
        },
      ),
    ).rejects.toMatchObject({ code: 'conflict' });
    expect(await countAudit(store)).toBe(5);
    const [widgets] = await store.query<{ n: number }>('SELECT count(*) AS n FROM widgets');
    expect(widgets?.n).toBe(0);
    expect(await verifyAudit(store)).toMatchObject({ ok: true, count: 5 });
  });

  it('writes the event with the action when it commits', async () => {
    await store.exec('CREATE TABLE widgets (id INTEGER PRIMARY KEY)');
    await auditedTransaction(store, { actor: 'cli:test', action: 'widget.added', target: 'widget:7' }, (tx) =>
      tx.run('INSERT INTO widgets VALUES (7)'),
    );
    const [latest] = await listAudit(store, { limit: 1 });
    expect(latest).toMatchObject({ seq: 6, action: 'widget.added', target: 'widget:7' });
  });

  it('refuses details shaped like identifiers or secrets', async () => {
    await expect(
      store.transaction((tx) =>
        appendAudit(tx, { actor: 'a', action: 'b', target: 'c', details: { note: 'patient 999 000 0018' } }),
      ),
    ).rejects.toThrow(/shaped like an identifier/);
    await expect(
      store.transaction((tx) =>
        appendAudit(tx, { actor: 'a', action: 'b', target: 'c', details: { key: 'abc' } }),
      ),
    ).rejects.toThrow(/may not carry "key"/);
    await expect(
      store.transaction((tx) =>
        appendAudit(tx, { actor: 'a', action: 'b', target: 'c', details: { where: 'ME16 9QQ' } }),
      ),
    ).rejects.toThrow(/shaped like an identifier/);
    expect(await countAudit(store)).toBe(5);
  });

  it('filters the listing', async () => {
    const events = await listAudit(store, { target: 'thing:2' });
    expect(events.map((e) => e.seq)).toEqual([2]);
    expect((await listAudit(store, { limit: 3 })).map((e) => e.seq)).toEqual([5, 4, 3]);
  });
});

describe('canonical JSON', () => {
  it('sorts keys at every level', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[1,{"y":2,"z":1}]},"b":1}',
    );
  });
});
