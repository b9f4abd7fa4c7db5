import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeConfig, maskSecrets, resolveConfig } from './config.ts';

function folderWith(config?: object): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-config-'));
  if (config) writeFileSync(path.join(dir, 'kernel.config.json'), JSON.stringify(config));
  return dir;
}

describe('configuration', () => {
  it('takes flags over environment over file over defaults', () => {
    const dir = folderWith({ port: 9001, store: 'postgres://file@h/db', dataDir: 'from-file' });
    const env = { KERNEL_PORT: '9002', KERNEL_DATA: 'from-env' };
    const resolved = resolveConfig({ data: 'from-flag' }, env, dir);
    expect(resolved.config).toMatchObject({
      dataDir: path.join(dir, 'from-flag'),
      port: 9002,
      store: 'postgres://file@h/db',
      allowIdentifiableLoads: false,
    });
    expect(resolved.sources).toMatchObject({
      dataDir: 'flag',
      port: 'env',
      store: 'file',
      keyPath: 'default',
    });
  });

  it('reads the mail settings, and refuses ones that are not (issue 16)', () => {
    const env = {
      KERNEL_SMTP_URL: 'smtp://mail.example.nhs.uk:25',
      KERNEL_MAIL_FROM: 'kernel@example.nhs.uk',
      KERNEL_REMINDER_WORKING_DAYS: '3',
    };
    expect(resolveConfig({}, env, folderWith()).config).toMatchObject({
      smtpUrl: 'smtp://mail.example.nhs.uk:25',
      mailFrom: 'kernel@example.nhs.uk',
      reminderWorkingDays: 3,
    });
    expect(resolveConfig({}, {}, folderWith()).config).toMatchObject({
      smtpUrl: undefined,
      reminderWorkingDays: 5,
    });
    for (const [name, value, message] of [
      ['KERNEL_SMTP_URL', 'http://mail.example.nhs.uk', /not an smtp:\/\/ or smtps:\/\/ URL/],
      ['KERNEL_MAIL_FROM', 'kernel', /not an email address/],
      ['KERNEL_REMINDER_WORKING_DAYS', '0', /not a number of working days from 1 to 60/],
    ] as const) {
      expect(() => resolveConfig({}, { [name]: value }, folderWith())).toThrow(message);
    }
  });

  it('reads the upload limit and the trusted proxies, from the environment or the file (issue 23)', () => {
    const dir = folderWith({ trustedProxies: ['10.0.0.5', '::1'], uploadLimitMb: 64 });
    expect(resolveConfig({}, {}, dir).config).toMatchObject({
      uploadLimitMb: 64,
      trustedProxies: ['10.0.0.5', '::1'],
    });
    const env = { KERNEL_UPLOAD_LIMIT_MB: '2048', KERNEL_TRUSTED_PROXIES: '127.0.0.1, 10.1.2.3' };
    expect(resolveConfig({}, env, folderWith()).config).toMatchObject({
      uploadLimitMb: 2048,
      trustedProxies: ['127.0.0.1', '10.1.2.3'],
    });
    expect(resolveConfig({}, {}, folderWith()).config).toMatchObject({
      uploadLimitMb: 1024,
      trustedProxies: [],
    });
    expect(() => resolveConfig({}, { KERNEL_UPLOAD_LIMIT_MB: 'lots' }, folderWith())).toThrow(
      /not a size in MiB/,
    );
    expect(() => resolveConfig({}, { KERNEL_TRUSTED_PROXIES: 'proxy.example' }, folderWith())).toThrow(
      /not an IP address/,
    );
  });

  it('uses the defaults with nothing set', () => {
    const dir = folderWith();
    const { config, file } = resolveConfig({}, {}, dir);
    expect(config).toMatchObject({ dataDir: path.join(dir, 'kernel-data'), store: 'duckdb', port: 8080 });
    expect(file).toBeUndefined();
  });

  it('masks the password in a store URL', () => {
    expect(maskSecrets('postgres://kernel:s3cret@db.example:5432/kernel')).toBe(
      'postgres://kernel:****@db.example:5432/kernel',
    );
    const rows = describeConfig(resolveConfig({ store: 'postgres://u:pw@h/d' }, {}, folderWith()));
    expect(rows.find((r) => r.key === 'store')?.value).toBe('postgres://u:****@h/d');
    expect(JSON.stringify(rows)).not.toContain('pw@');
  });

  it('refuses a bad port with the place it came from', () => {
    expect(() => resolveConfig({}, { KERNEL_PORT: 'eighty' }, folderWith())).toThrow(
      /"eighty" from KERNEL_PORT/,
    );
  });

  it('refuses unknown settings and broken JSON in the file', () => {
    expect(() => resolveConfig({}, {}, folderWith({ prot: 80 }))).toThrow(/Unknown setting "prot"/);
    const dir = folderWith();
    writeFileSync(path.join(dir, 'kernel.config.json'), '{ nope');
    expect(() => resolveConfig({}, {}, dir)).toThrow(/not valid JSON/);
  });

  it('refuses a named config file that does not exist', () => {
    expect(() => resolveConfig({ config: '/nowhere/kernel.json' }, {}, folderWith())).toThrow(
      /does not exist/,
    );
  });
});
