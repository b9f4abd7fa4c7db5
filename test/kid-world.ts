/**
 * A small synthetic world for the Kent Integrated Dataset's tests: generated once per test
 * file, its feeds de-identified once by each organisation's "agent", loaded into a store with
 * the demo governance, and its truth read back keyed by person token (the test holds the
 * link key, as only a test may).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import {
  listWorldFeeds,
  sendWorldFeeds,
  trustWorldSigningKeys,
  worldGpPractices,
  type WorldFeed,
} from '../src/demo/send-world-feeds.ts';
import { getDataset } from '../src/catalogue/catalogue.ts';
import { csvLine } from '../src/files/csv-file-writer.ts';
import { seedDemoGovernance } from '../src/governance/demo-governance.ts';
import { loadFeed } from '../src/ingest/load-feed.ts';
import type { LoadReport } from '../src/ingest/load-history.ts';
import { deidentifyFile, type DeidentifyResult } from '../src/privacy/deidentify-file.ts';
import { newLinkKey, type LinkKey } from '../src/privacy/link-key.ts';
import { readPostcodeLookup } from '../src/privacy/postcode-lookup.ts';
import { readSigningPrivateKey } from '../src/privacy/signing-key.ts';
import type { SourceMapping } from '../src/privacy/source-mapping.ts';
import { hmacTokeniser } from '../src/privacy/token-scheme.ts';
import { openStore } from '../src/store/open-store.ts';
import type { Store } from '../src/store/store.ts';
import { buildSpine } from '../src/kid/person-spine.ts';
import { quarantinedRows, type QuarantinedRow } from './quarantined-rows.ts';
import type { TestStore } from './stores.ts';
import { NO_DEFECTS, type DefectRates } from '../src/synth/defects.ts';
import { generateWorld } from '../src/synth/generate-world.ts';

export interface TruthPerson {
  token: string;
  sex: string;
  birthDate: string;
  deathDate: string | null;
  ethnicCategory: string;
  household: string;
  /** the synthetic world's condition names held at the window's start */
  conditionsAtStart: string[];
  incident: string | null;
  incidentDate: string | null;
}
export interface TruthAddress {
  household: string;
  from: string;
  to: string | null;
  lsoa: string;
  practice: string;
  /** the household token the agent makes of this address's UPRN */
  uprnToken: string;
}

/** One row of a feed as the truth knows it: who it is about and whether it had an NHS number. */
export interface TruthRecord {
  org: string;
  dataset: string;
  period: string;
  line: number;
  person: number | null;
  nhsRecorded: boolean;
}

export interface KidWorld {
  dir: string;
  from: string;
  to: string;
  /** indexed by the truth's person_id */
  people: TruthPerson[];
  addresses: TruthAddress[];
  records: TruthRecord[];
  /** IMD decile of each LSOA, from the world's reference data */
  imdDecile: Map<string, number>;
  /** loads every de-identified feed of the given datasets (and organisations, and months) into the store */
  load(
    store: Store,
    datasets?: readonly string[],
    orgs?: (org: string) => boolean,
    periods?: (period: string) => boolean,
  ): Promise<number>;
}

function readTruthCsv(file: string): Record<string, string>[] {
  const [header, ...lines] = readFileSync(file, 'utf8').trim().split('\n');
  const columns = (header ?? '').split(',');
  // Truth files hold no quoted commas in the columns read here (ids, codes, dates).
  return lines.map((line) => {
    const cells = line.split(',');
    return Object.fromEntries(columns.map((c, i) => [c, cells[i] ?? '']));
  });
}

export interface KidWorldOptions {
  people: number;
  from: string;
  to: string;
  datasets: readonly string[];
  defects: 'none' | 'default' | Partial<DefectRates>;
  /** the link key the world's feeds are tokenised with; a new one by default */
  linkKey?: LinkKey;
}

export async function makeKidWorld(options: KidWorldOptions): Promise<KidWorld> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-kid-'));
  const world = path.join(dir, 'world');
  const outbox = path.join(dir, 'outbox');
  const defectRates =
    options.defects === 'none' ? NO_DEFECTS : options.defects === 'default' ? undefined : options.defects;
  generateWorld({
    out: world,
    people: options.people,
    seed: 13,
    from: options.from,
    to: options.to,
    defectRates,
  });
  const postcodes = await readPostcodeLookup(path.join(world, 'reference', 'postcodes.csv'));
  const linkKey = options.linkKey ?? newLinkKey();
  const tokeniser = hmacTokeniser(linkKey);
  const keysDir = path.join(dir, 'keys');
  const feeds: WorldFeed[] = listWorldFeeds(world, options.datasets);
  const people = readTruthCsv(path.join(world, 'truth', 'people.csv')).map((r) => ({
    token: tokeniser.token(r.nhs_number ?? ''),
    sex: r.sex ?? '',
    birthDate: r.birth_date ?? '',
    deathDate: r.death_date || null,
    ethnicCategory: r.ethnic_category ?? '',
    household: r.household_id ?? '',
    conditionsAtStart: (r.conditions_at_start ?? '').split(';').filter(Boolean),
    incident: r.incident_condition || null,
    incidentDate: r.incident_date || null,
  }));
  const addresses = readTruthCsv(path.join(world, 'truth', 'addresses.csv')).map((r) => ({
    household: r.household_id ?? '',
    from: r.from_date ?? '',
    to: r.to_date || null,
    lsoa: r.lsoa ?? '',
    practice: r.practice ?? '',
    uprnToken: tokeniser.token(`uprn:${String(Number(r.uprn))}`),
  }));
  const records = readTruthCsv(path.join(world, 'truth', 'records.csv')).map((r) => {
    const [, org, dataset, period] = /^feeds\/([^/]+)\/([^/]+)\/(\d{4}-\d{2})\.csv$/.exec(r.file ?? '') ?? [];
    return {
      org: org ?? '',
      dataset: dataset ?? '',
      period: period ?? '',
      line: Number(r.line),
      person: r.subject_type === 'person' ? Number(r.subject_id) : null,
      nhsRecorded: r.nhs_number_recorded === 'Y',
    };
  });
  const imdDecile = new Map(
    readTruthCsv(path.join(world, 'reference', 'lsoa.csv')).map((r) => [
      r.lsoa_code ?? '',
      Number(r.imd_decile),
    ]),
  );
  return {
    dir,
    records,
    imdDecile,
    from: options.from,
    to: options.to,
    people,
    addresses,
    async load(store, datasets = options.datasets, orgs = () => true, periods = () => true) {
      await seedDemoGovernance(store, 'test', { extraOrganisations: worldGpPractices(world) });
      const chosen = feeds.filter((f) => datasets.includes(f.dataset) && orgs(f.org) && periods(f.period));
      await trustWorldSigningKeys(store, keysDir, [...new Set(chosen.map((f) => f.org))], 'test');
      // The agent's files are made once and reused by every store that loads them.
      const refusals: string[] = [];
      const sent = await sendWorldFeeds(store, {
        onRefused: (feed, error) =>
          refusals.push(`${feed.org}/${feed.dataset}/${feed.period}: ${error.message}`),
        feeds: chosen,
        keysDir,
        outbox,
        tokeniser,
        postcodes,
        actor: 'test',
      });
      if (sent.refused > 0)
        throw new Error(`${sent.refused} feeds of the test world were refused: ${refusals.join('; ')}`);
      return sent.rowsLoaded;
    },
  };
}

/** The truth address a person lived at on `day`: their household's address then. */
export function truthAddressOn(world: KidWorld, person: TruthPerson, day: string): TruthAddress | undefined {
  return world.addresses.find(
    (a) => a.household === person.household && a.from <= day && (a.to === null || a.to >= day),
  );
}

/**
 * For a test file (or one suite): the world `makeKidWorld(options)` makes before its tests,
 * its folder removed after them. The object answered is filled when the tests start, so read
 * it in tests and hooks, never at the file's top level; a later `beforeAll` may work from it.
 */
export function kidWorldForFile(options: KidWorldOptions & { timeout: number }): KidWorld {
  // Filled by the hook below: every field is there before any test reads one.
  const world = {} as KidWorld;
  beforeAll(async () => void Object.assign(world, await makeKidWorld(options)), options.timeout);
  afterAll(() => {
    if (world.dir) rmSync(world.dir, { recursive: true, force: true });
  });
  return world;
}

/** Where a suite's store is, as a CLI process is pointed at it (`--data`, `--store`). */
export type StoreTarget = Awaited<ReturnType<TestStore['fresh']>>;

export interface WorldSuite {
  /** Where the suite's store is: known once the suite has started. */
  target(): StoreTarget;
  /**
   * Runs `run` with the suite's store closed, for a CLI process that opens the store itself
   * (a DuckDB file has one writer), given the flags that reach it; then opens it again and
   * hands the suite the new connection.
   */
  whileClosed<T>(run: (flags: string[]) => Promise<T>): Promise<T>;
}

/**
 * For a suite: a fresh store of `engine` with the world's feeds loaded (and with `buildKid`,
 * the KID built on them), closed after the suite. `use` receives the store, and again
 * whenever it is opened anew; the suite's own `beforeAll`, after this, may work on it. `world`
 * is asked for when the suite starts, after the file's own `beforeAll` has made it; loading
 * one outlasts the default hook timeout, so `timeout` (5 minutes unless given) covers it.
 */
export function openWorldForSuite(
  engine: TestStore,
  use: (store: Store) => void,
  options: {
    world: () => KidWorld;
    buildKid?: boolean;
    timeout?: number;
  },
): WorldSuite {
  let target: StoreTarget;
  let opened: Store | undefined;
  beforeAll(async () => {
    target = await engine.fresh();
    opened = await openStore(target);
    await options.world().load(opened);
    if (options.buildKid) await buildSpine(opened);
    use(opened);
  }, options.timeout ?? 300_000);
  afterAll(async () => {
    await opened?.close();
  });
  return {
    target: () => target,
    async whileClosed(run) {
      await opened?.close();
      opened = undefined;
      try {
        return await run(['--data', target.dataDir, '--store', target.store]);
      } finally {
        opened = await openStore(target);
        use(opened);
      }
    },
  };
}

/**
 * Sends hand-made rows of `dataset` (`rows`, the header first) as `org`'s agent in the world
 * would, with its signing key and the world's postcodes (and a new link key: no token need
 * match), and loads the feed into `store`. The extract and the feed are written in the
 * world's folder as `NAME.extract.csv` and `NAME.csv`; `mapping` reads the extract's columns.
 */
export async function sendHandMadeRows(
  world: KidWorld,
  store: Store,
  options: { org: string; dataset: string; name: string; rows: string[][]; mapping?: SourceMapping },
): Promise<{ deidentified: DeidentifyResult; report: LoadReport; quarantined: QuarantinedRow[] }> {
  const { org, dataset } = options;
  const input = path.join(world.dir, `${options.name}.extract.csv`);
  writeFileSync(input, options.rows.map(csvLine).join(''));
  const output = path.join(world.dir, `${options.name}.csv`);
  const deidentified = await deidentifyFile({
    spec: getDataset(dataset),
    org,
    input,
    output,
    tokeniser: hmacTokeniser(newLinkKey()),
    postcodes: await readPostcodeLookup(path.join(world.dir, 'world', 'reference', 'postcodes.csv')),
    signing: readSigningPrivateKey(path.join(world.dir, 'keys', `${org}.key`)),
    ...(options.mapping ? { mapping: options.mapping } : {}),
  });
  const report = await loadFeed(store, { org, dataset, file: output, actor: 'test' });
  const quarantined = report.loadId === null ? [] : await quarantinedRows(store, report.loadId);
  return { deidentified, report, quarantined };
}

/** Alive on `day` by the truth: born by then and not died before. */
export const aliveOn = (person: TruthPerson, day: string): boolean =>
  person.birthDate <= day && (person.deathDate === null || person.deathDate >= day);

/** The synthetic world's condition names and the KID code list each falls in (frailty is the eFI's, not a long-term condition). */
export const CODE_LIST_OF: Readonly<Record<string, string>> = {
  diabetes: 'diabetes',
  hypertension: 'hypertension',
  copd: 'copd',
  asthma: 'asthma',
  chd: 'chd',
  dementia: 'dementia',
};

/** The KID code lists a person falls in by the truth on `day`: their conditions at the start, and one that began by then. */
export function truthConditionsOn(person: TruthPerson, day: string): Set<string> {
  const names = [
    ...person.conditionsAtStart,
    ...(person.incident && person.incidentDate && person.incidentDate <= day ? [person.incident] : []),
  ];
  return new Set(names.map((n) => CODE_LIST_OF[n]).filter((n): n is string => n !== undefined));
}

/** Age in whole months on `day`, counted from the birth month as the warehouse counts it (it holds no day of birth). */
export const ageInMonthsOn = (person: TruthPerson, day: string): number =>
  Number(day.slice(0, 4)) * 12 +
  Number(day.slice(5, 7)) -
  Number(person.birthDate.slice(0, 4)) * 12 -
  Number(person.birthDate.slice(5, 7));
