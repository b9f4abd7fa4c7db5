import { describe, expect, it } from 'vitest';
import { openForSuite, testStores } from '../../../test/stores.ts';
import { listAudit } from '../../audit/audit-log.ts';
import type { Store } from '../../store/store.ts';
import {
  browserLabel,
  createSession,
  endAllSessions,
  endSessionByHandle,
  listSessions,
  readSession,
  sessionHandle,
  sessionLimitsFrom,
} from './sessions.ts';
import { addUser } from './user-accounts.ts';

const at = (iso: string) => new Date(iso);

describe.each(testStores())('session lifetimes and the list of sessions on $engine (issue 19)', (engine) => {
  let store: Store;
  openForSuite(engine, (s) => (store = s));

  async function newUser(email: string): Promise<string> {
    const { user } = await addUser(
      store,
      { email, role: 'viewer', password: 'a long test passphrase' },
      'test',
    );
    return user.id;
  }

  it('ends a session idle for longer than the idle timeout, and refreshes it while it is used', async () => {
    const userId = await newUser('idle@sessions.test');
    const limits = { idleMinutes: 30, absoluteHours: 8 };
    const { sessionId } = await createSession(store, userId, at('2026-12-05T09:00:00Z'), { limits });
    // Used every 20 minutes for two hours: it stays open.
    for (let minutes = 20; minutes <= 120; minutes += 20) {
      const now = new Date(Date.parse('2026-12-05T09:00:00Z') + minutes * 60_000);
      expect(await readSession(store, sessionId, now, limits), `${minutes} min`).toBeDefined();
    }
    // Then 31 minutes without use: ended, and deleted.
    expect(await readSession(store, sessionId, at('2026-12-05T11:31:00Z'), limits)).toBeUndefined();
    expect(await readSession(store, sessionId, at('2026-12-05T11:00:30Z'), limits)).toBeUndefined();
  });

  it('ends a session at its absolute timeout however busy it is', async () => {
    const userId = await newUser('busy@sessions.test');
    const limits = { idleMinutes: 30, absoluteHours: 2 };
    const { sessionId } = await createSession(store, userId, at('2026-12-05T09:00:00Z'), { limits });
    for (let minutes = 10; minutes < 120; minutes += 10) {
      const now = new Date(Date.parse('2026-12-05T09:00:00Z') + minutes * 60_000);
      expect(await readSession(store, sessionId, now, limits), `${minutes} min`).toBeDefined();
    }
    expect(await readSession(store, sessionId, at('2026-12-05T11:00:00Z'), limits)).toBeUndefined();
  });

  it('lists the account’s sessions, ends one by its handle, and signs out everywhere (audited)', async () => {
    const userId = await newUser('many@sessions.test');
    const otherUser = await newUser('other@sessions.test');
    const now = new Date();
    const first = await createSession(store, userId, now, {
      label: 'Firefox on Windows',
      secondFactor: 'totp',
    });
    const second = await createSession(store, userId, now, { label: 'Chrome on Linux' });
    const theirs = await createSession(store, otherUser, now);
    const list = await listSessions(store, userId, now);
    expect(list.map((s) => s.label).sort()).toEqual(['Chrome on Linux', 'Firefox on Windows']);
    expect(list.find((s) => s.label === 'Firefox on Windows')?.secondFactor).toBe('totp');
    // The handle names a session without opening it: it is not the cookie's value.
    expect(list.map((s) => s.handle)).toContain(sessionHandle(first.sessionId));
    expect(list.map((s) => s.handle)).not.toContain(first.sessionId);
    // Nobody ends another account's session by its handle.
    await expect(
      endSessionByHandle(store, userId, sessionHandle(theirs.sessionId), 'user:many@sessions.test'),
    ).rejects.toThrow('That session has ended already');
    await endSessionByHandle(store, userId, sessionHandle(second.sessionId), 'user:many@sessions.test');
    expect(await readSession(store, second.sessionId)).toBeUndefined();
    expect(await readSession(store, first.sessionId)).toBeDefined();
    await createSession(store, userId, now);
    expect(await endAllSessions(store, userId, 'user:many@sessions.test')).toBe(2);
    expect(await listSessions(store, userId)).toEqual([]);
    expect(await readSession(store, theirs.sessionId)).toBeDefined();
    const [event] = await listAudit(store, { action: 'auth.signed-out-everywhere', limit: 1 });
    expect(JSON.parse(event?.details ?? '{}')).toEqual({ sessionsEnded: 2 });
  });

  it('takes its limits from the configuration, with defaults', () => {
    expect(sessionLimitsFrom({})).toEqual({ idleMinutes: 30, absoluteHours: 8 });
    expect(sessionLimitsFrom({ sessionIdleMinutes: 15, sessionHours: 4 })).toEqual({
      idleMinutes: 15,
      absoluteHours: 4,
    });
    expect(browserLabel('Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/133.0')).toBe(
      'Firefox on Windows',
    );
    expect(browserLabel(undefined)).toBe('A browser on an unknown system');
  });
});
