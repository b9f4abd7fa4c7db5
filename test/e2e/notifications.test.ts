/**
 * Issue 16: reminders for months waiting for sign-off and notices of late feeds go by email,
 * received here by a real SMTP server on loopback (smtp-server), each once, audited.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../src/audit/audit-log.ts';
import { loadFeed } from '../../src/ingest/load-feed.ts';
import { resolveConfig } from '../../src/config/config.ts';
import { seedOrganisations } from '../../src/governance/organisations.ts';
import { addUser } from '../../src/server/auth/user-accounts.ts';
import { startServer } from '../../src/server/start-server.ts';
import { setFeedSchedule } from '../../src/signoff/feed-schedules.ts';
import { addWorkingDays, dueNotices } from '../../src/signoff/notifications.ts';
import { openStore } from '../../src/store/open-store.ts';
import { spawnCli } from '../cli.ts';
import { apcFeed, prepareForApc } from '../kill-load.ts';
import { testStores } from '../stores.ts';
import { accountsForEveryRole } from './portal-helpers.ts';

interface Received {
  from: string;
  to: string[];
  data: string;
}

describe('working days', () => {
  it('skips weekends', () => {
    expect(addWorkingDays('2025-06-06', 1)).toBe('2025-06-09'); // a Friday, then Monday
    expect(addWorkingDays('2025-06-02', 5)).toBe('2025-06-09');
  });
});

describe.each(testStores())('email notices on $engine', (engine) => {
  const received: Received[] = [];
  let smtp: SMTPServer;
  let port = 0;
  beforeAll(async () => {
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onData(stream, session, callback) {
        let data = '';
        stream.on('data', (chunk: Buffer) => (data += chunk.toString('utf8')));
        stream.on('end', () => {
          received.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            data,
          });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', () => resolve()));
    port = (smtp.server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => smtp.close(() => resolve())));

  it('reminds the BI leads of a month unsigned too long and of a late feed, once each', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-notify-'));
    const file = await apcFeed(dir, 'apc-2025-03', 50, '2025-03', 3);
    const target = await engine.fresh();
    let store = await openStore(target);
    await prepareForApc(store, dir);
    const loaded = await loadFeed(store, { org: 'RWF', dataset: 'apc', file, actor: 'test' });
    // loaded on 1 April 2025: long enough ago to be reminded of
    await store.run("UPDATE loads SET finished_at = '2025-04-01T09:00:00.000Z' WHERE load_id = $1", [
      loaded.loadId,
    ]);
    await setFeedSchedule(
      store,
      { org: 'RWF', dataset: 'ecds', dueWorkingDay: 5, from: '2025-03', until: '2025-03' },
      'test',
    );
    const accounts = await accountsForEveryRole(store, 'RWF');
    const due = await dueNotices(store, new Date('2025-04-07T12:00:00Z'), 5);
    expect(due).toEqual([]); // 1 April + 5 working days is 8 April: not yet
    const later = await dueNotices(store, new Date('2025-04-14T12:00:00Z'), 5);
    expect(later.map((n) => [n.kind, n.org, n.dataset, n.period])).toEqual([
      ['signoff-reminder', 'RWF', 'apc', '2025-03'],
      ['late-feed', 'RWF', 'ecds', '2025-03'],
    ]);
    await store.close();

    const env = {
      KERNEL_SMTP_URL: `smtp://127.0.0.1:${port}`,
      KERNEL_MAIL_FROM: 'kernel@kernel.test',
      KERNEL_REMINDER_WORKING_DAYS: '5',
    };
    const k = (...args: string[]) =>
      spawnCli(['--data', target.dataDir, '--store', target.store, ...args], { env });
    const first = await k('feeds', 'notify');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toBe('2 emails sent.\n');
    const mine = received.filter((m) => m.to.includes(accounts.provider.email));
    expect(mine).toHaveLength(2);
    expect(mine.every((m) => m.from === 'kernel@kernel.test')).toBe(true);
    const texts = mine.map((m) => m.data.replace(/\r?\n/g, ' '));
    expect(
      texts.some((t) => t.includes('Subject: Kernel: apc from RWF for 2025-03 is waiting for your sign-off')),
    ).toBe(true);
    expect(texts.some((t) => t.includes('Subject: Kernel: ecds from RWF for 2025-03 is late'))).toBe(true);
    // only RWF's BI leads: no other role is written to
    expect(received.flatMap((m) => m.to)).toEqual([accounts.provider.email, accounts.provider.email]);

    // again: nothing new to send
    expect((await k('feeds', 'notify')).stdout).toBe('0 emails sent.\n');
    expect(received).toHaveLength(2);

    store = await openStore(target);
    try {
      const sent = await listAudit(store, { action: 'notification.sent', limit: 10 });
      expect(sent).toHaveLength(2);
      for (const event of sent) expect(event.details).not.toContain('@'); // no address in the audit log
    } finally {
      await store.close();
    }
    received.length = 0;
  }, 120_000);

  it('is sent by a running server on its own, when a mail server is configured', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-notify-serve-'));
    const target = await engine.fresh();
    const store = await openStore(target);
    await seedOrganisations(store, 'test');
    await setFeedSchedule(
      store,
      { org: 'RVV', dataset: 'op', dueWorkingDay: 3, from: '2025-01', until: '2025-01' },
      'test',
    );
    await addUser(
      store,
      { email: 'bi@rvv.test', role: 'provider', org: 'RVV', password: 'a long enough password 1' },
      'test',
    );
    const server = await startServer({
      store,
      config: {
        ...resolveConfig({ data: dir }).config,
        dataDir: dir,
        smtpUrl: `smtp://127.0.0.1:${port}`,
        mailFrom: 'kernel@kernel.test',
      },
      port: 0,
      notifyEveryMs: 100,
    });
    try {
      for (let waited = 0; received.length === 0 && waited < 10_000; waited += 100) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(received.map((m) => m.to)).toEqual([['bi@rvv.test']]);
      expect(received[0]?.data).toContain('Subject: Kernel: op from RVV for 2025-01 is late');
    } finally {
      await server.close();
      await store.close();
      received.length = 0;
    }
  });

  it('refuses to notify without a mail server, and says how to set one', async () => {
    const target = await engine.fresh();
    const result = await spawnCli(['--data', target.dataDir, '--store', target.store, 'feeds', 'notify'], {
      env: { KERNEL_SMTP_URL: '' },
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/No mail server is configured/);
    expect(result.stderr).toMatch(/KERNEL_SMTP_URL/);
  });
});
