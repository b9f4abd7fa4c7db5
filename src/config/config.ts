import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { KernelError } from '../errors.ts';

/**
 * Kernel's effective configuration. Each value comes from the first place that sets it:
 * command-line flag, then environment variable, then the config file, then the default.
 */
export interface KernelConfig {
  /** folder holding the embedded store, logs and server state */
  dataDir: string;
  /** 'duckdb' (the embedded file under dataDir) or a postgres:// URL */
  store: string;
  /** HTTP port for `kernel serve` */
  port: number;
  /** the link key file (key custodian, deid agent) */
  keyPath: string | undefined;
  /** this organisation's Ed25519 signing key (deid agent) */
  signingKeyPath: string | undefined;
  /** ONS-postcode-directory-layout lookup used by deid (postcode → LSOA, IMD decile) */
  postcodeLookupPath: string | undefined;
  /**
   * Whether `kernel load` may pseudonymise an identifiable file in-process. Off by default:
   * only a warehouse receiving identifiable data under a legal basis turns it on.
   */
  allowIdentifiableLoads: boolean;
  /** the largest file the portal and API accept as an upload, in MiB (issue 23, H2) */
  uploadLimitMb: number;
  /**
   * Addresses of the reverse proxies in front of `kernel serve`, whose `X-Forwarded-For`
   * names the real client (for the sign-in limiter). Empty: the TCP peer is the client.
   */
  trustedProxies: string[];
  /**
   * Where Kernel sends email (sign-off reminders, late-feed notices): an smtp:// or smtps://
   * URL, e.g. smtp://mail.example.nhs.uk:25. Unset: no email is sent.
   */
  smtpUrl: string | undefined;
  /** the From address of Kernel's email */
  mailFrom: string;
  /** working days a loaded month may wait for sign-off before its BI leads are reminded */
  reminderWorkingDays: number;
  /** minutes without use after which a portal session ends (issue 19; OWASP: 15–30) */
  sessionIdleMinutes: number;
  /** hours after sign-in after which a portal session ends however busy (issue 19) */
  sessionHours: number;
}

export type ConfigSource = 'flag' | 'env' | 'file' | 'default';

export interface ResolvedConfig {
  config: KernelConfig;
  sources: Record<keyof KernelConfig, ConfigSource>;
  /** the config file read, if any */
  file: string | undefined;
}

export type ConfigFlags = Partial<{
  data: string;
  store: string;
  port: string | number;
  key: string;
  signKey: string;
  postcodes: string;
  config: string;
}>;

interface Setting<K extends keyof KernelConfig> {
  env: string;
  /** none for a warehouse-wide switch, set in the file or the environment only */
  flag?: keyof ConfigFlags;
  parse(raw: string, from: string): KernelConfig[K];
}

const text = (raw: string): string => raw;
const optionalText = (raw: string): string | undefined => raw;

function port(raw: string, from: string): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    throw new KernelError('config', `The port "${raw}" from ${from} is not a port number`, {
      hint: 'Give a whole number from 0 to 65535',
    });
  }
  return value;
}

function mebibytes(raw: string, from: string): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65536) {
    throw new KernelError('config', `"${raw}" from ${from} is not a size in MiB`, {
      hint: 'Give a whole number of MiB from 1 to 65536, e.g. 1024',
    });
  }
  return value;
}

/** A comma-separated list of IP addresses (IPv4 or IPv6), as a proxy's peer address reads. */
function addresses(raw: string, from: string): string[] {
  const list = raw
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  for (const address of list) {
    if (!/^[0-9a-fA-F:.]+$/.test(address)) {
      throw new KernelError('config', `"${address}" from ${from} is not an IP address`, {
        hint: 'List the reverse proxies by address, separated by commas, e.g. 127.0.0.1,10.0.0.5',
      });
    }
  }
  return list;
}

function smtpUrl(raw: string, from: string): string | undefined {
  const value = raw.trim();
  if (value === '') return undefined;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') || !url.hostname) {
    throw new KernelError(
      'config',
      `The mail server "${value}" from ${from} is not an smtp:// or smtps:// URL`,
      {
        hint: 'e.g. smtp://mail.example.nhs.uk:25',
      },
    );
  }
  return value;
}

function emailAddress(raw: string, from: string): string {
  const value = raw.trim();
  if (!/^[^@\s]+@[^@\s]+$/.test(value)) {
    throw new KernelError('config', `"${value}" from ${from} is not an email address`, {
      hint: 'e.g. kernel@example.nhs.uk',
    });
  }
  return value;
}

function workingDays(raw: string, from: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 60) {
    throw new KernelError('config', `"${raw}" from ${from} is not a number of working days from 1 to 60`, {
      hint: 'e.g. 5',
    });
  }
  return n;
}

function wholeNumber(min: number, max: number, unit: string) {
  return (raw: string, from: string): number => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new KernelError(
        'config',
        `"${raw}" from ${from} is not a number of ${unit} from ${min} to ${max}`,
      );
    }
    return n;
  };
}

function yesNo(raw: string, from: string): boolean {
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new KernelError('config', `"${raw}" from ${from} is not true or false`, {
    hint: 'Use true or false',
  });
}

const SETTINGS: { [K in keyof KernelConfig]: Setting<K> } = {
  dataDir: { flag: 'data', env: 'KERNEL_DATA', parse: text },
  store: { flag: 'store', env: 'KERNEL_STORE', parse: text },
  port: { flag: 'port', env: 'KERNEL_PORT', parse: port },
  keyPath: { flag: 'key', env: 'KERNEL_KEY', parse: optionalText },
  signingKeyPath: { flag: 'signKey', env: 'KERNEL_SIGNING_KEY', parse: optionalText },
  postcodeLookupPath: { flag: 'postcodes', env: 'KERNEL_POSTCODES', parse: optionalText },
  // The settings below have no flag: each is warehouse-wide, set in the file or the environment.
  allowIdentifiableLoads: { env: 'KERNEL_ALLOW_IDENTIFIABLE_LOADS', parse: yesNo },
  uploadLimitMb: { env: 'KERNEL_UPLOAD_LIMIT_MB', parse: mebibytes },
  trustedProxies: { env: 'KERNEL_TRUSTED_PROXIES', parse: addresses },
  smtpUrl: { env: 'KERNEL_SMTP_URL', parse: smtpUrl },
  mailFrom: { env: 'KERNEL_MAIL_FROM', parse: emailAddress },
  reminderWorkingDays: { env: 'KERNEL_REMINDER_WORKING_DAYS', parse: workingDays },
  sessionIdleMinutes: { env: 'KERNEL_SESSION_IDLE_MINUTES', parse: wholeNumber(1, 24 * 60, 'minutes') },
  sessionHours: { env: 'KERNEL_SESSION_HOURS', parse: wholeNumber(1, 24, 'hours') },
};

const DEFAULTS: KernelConfig = {
  dataDir: 'kernel-data',
  store: 'duckdb',
  port: 8080,
  keyPath: undefined,
  signingKeyPath: undefined,
  postcodeLookupPath: undefined,
  allowIdentifiableLoads: false,
  uploadLimitMb: 1024,
  trustedProxies: [],
  smtpUrl: undefined,
  mailFrom: 'kernel@localhost',
  reminderWorkingDays: 5,
  sessionIdleMinutes: 30,
  sessionHours: 8,
};

export const CONFIG_FILE_NAME = 'kernel.config.json';

/** Resolves the configuration from flags, the environment and the file. */
export function resolveConfig(
  flags: ConfigFlags,
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): ResolvedConfig {
  const fileName = flags.config ?? env.KERNEL_CONFIG ?? path.join(cwd, CONFIG_FILE_NAME);
  const fileValues = readConfigFile(fileName, flags.config !== undefined || env.KERNEL_CONFIG !== undefined);
  const config = { ...DEFAULTS } as Record<string, unknown>;
  const sources = {} as Record<keyof KernelConfig, ConfigSource>;
  for (const [key, setting] of Object.entries(SETTINGS) as [
    keyof KernelConfig,
    Setting<keyof KernelConfig>,
  ][]) {
    const flagValue = setting.flag === undefined ? undefined : flags[setting.flag];
    const envValue = env[setting.env];
    const fileValue = fileValues?.values[key];
    if (flagValue !== undefined && setting.flag !== undefined) {
      config[key] = setting.parse(String(flagValue), `--${kebab(setting.flag)}`);
      sources[key] = 'flag';
    } else if (envValue !== undefined && envValue !== '') {
      config[key] = setting.parse(envValue, setting.env);
      sources[key] = 'env';
    } else if (fileValue !== undefined) {
      const raw = Array.isArray(fileValue) ? fileValue.join(',') : String(fileValue);
      config[key] = setting.parse(raw, `${fileName} (${key})`);
      sources[key] = 'file';
    } else {
      sources[key] = 'default';
    }
  }
  const resolved = config as unknown as KernelConfig;
  resolved.dataDir = path.resolve(cwd, resolved.dataDir);
  return { config: resolved, sources, file: fileValues ? fileName : undefined };
}

function readConfigFile(
  fileName: string,
  mustExist: boolean,
): { values: Partial<Record<keyof KernelConfig, unknown>> } | undefined {
  if (!existsSync(fileName)) {
    if (mustExist) {
      throw new KernelError('config', `The config file ${fileName} does not exist`, {
        hint: 'Check the path given with --config or KERNEL_CONFIG',
      });
    }
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(fileName, 'utf8'));
  } catch (error) {
    throw new KernelError('config', `The config file is not valid JSON: ${(error as Error).message}`, {
      where: { file: fileName },
      hint: 'Fix the JSON, or remove the file to use the defaults',
    });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new KernelError('config', 'The config file must hold one JSON object', {
      where: { file: fileName },
    });
  }
  const known = new Set(Object.keys(SETTINGS));
  for (const key of Object.keys(parsed)) {
    if (!known.has(key)) {
      throw new KernelError('config', `Unknown setting "${key}" in the config file`, {
        where: { file: fileName, field: key },
        hint: `Known settings: ${[...known].join(', ')}`,
      });
    }
  }
  return { values: parsed as Partial<Record<keyof KernelConfig, unknown>> };
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** The store URL with any password replaced, safe to print or log. */
export function maskSecrets(value: string): string {
  return value.replace(/^(\w+:\/\/[^:/@]+:)[^@]*@/, '$1****@');
}

/** Effective values for `kernel config`, with secrets masked. */
export function describeConfig(
  resolved: ResolvedConfig,
): { key: string; value: string; source: ConfigSource }[] {
  return (Object.keys(SETTINGS) as (keyof KernelConfig)[]).map((key) => {
    const value = resolved.config[key];
    return {
      key,
      value:
        key === 'store'
          ? maskSecrets(String(value))
          : value === undefined
            ? ''
            : Array.isArray(value)
              ? value.join(',')
              : String(value),
      source: resolved.sources[key],
    };
  });
}
