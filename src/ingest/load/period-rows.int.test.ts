/**
 * A file labelled with a month none of its rows falls in (period-rows.ts). `kernel deid
 * --period` warns of it; the load takes it as a month's first load (a first feed may carry
 * only history, or episodes that end after their month), but refuses it on both engines when
 * it would replace the month's current load: that load stays current and no row of the file
 * is stored. A label some rows fall outside (a resend spanning months) is still taken.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeExtract } from '../../../bench/ingest/extract-writer.ts';
import { KernelError } from '../../errors.ts';
import { createAgreement } from '../../governance/agreements.ts';
import { deidentifyFile } from '../../privacy/deidentify-file.ts';
import { newLinkKey } from '../../privacy/link-key.ts';
import { hmacTokeniser } from '../../privacy/token-scheme.ts';
import { catalogueSpecs } from '../catalogue-specs.ts';
import type { Store } from '../../store/store.ts';
import { apcFeed, prepareForApc } from '../../../test/kill-load.ts';
import { signAgain, signedFeed } from '../../../test/signed-feed.ts';
import { testStores } from '../../../test/stores.ts';
import { loadFeed } from '../load-feed.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-period-rows-'));

/** The error `work` fails with, or undefined when it succeeds. */
const failure = (work: Promise<unknown>): Promise<unknown> =>
  work.then(
    () => undefined,
    (e: unknown) => e,
  );

/** Relabels a de-identified feed as `period`, signed again, as a sender's edit would. */
const relabel = (file: string, period: string): void => signAgain(file, { period });

const ecds = (name: string, period: string, seed: number): Promise<string> =>
  signedFeed(dir, name, { spec: catalogueSpecs.spec('ecds'), rows: 30, period, seed });

/** Sends the extract's last row twice, as a sender's extract sometimes does: the load drops the copy. */
const repeatLastRow = (extract: string): void => {
  const text = readFileSync(extract, 'utf8');
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const lines = text.split(eol).filter((line) => line !== '');
  writeFileSync(extract, `${[...lines, lines[lines.length - 1]].join(eol)}${eol}`);
};

const feeds = (async () => ({
  june: await apcFeed(dir, 'apc-june', 30, '2025-06', 1),
  mayLabelledJune: await apcFeed(dir, 'apc-may', 25, '2025-05', 2, undefined, repeatLastRow),
  ecdsJune: await ecds('ecds-june', '2025-06', 5),
  ecdsMay: await ecds('ecds-may', '2025-05', 6),
}))();

describe('kernel deid --period', () => {
  const extract = path.join(dir, 'may.extract.csv');
  const deid = (period: string, output: string) =>
    deidentifyFile({
      spec: catalogueSpecs.spec('apc'),
      org: 'RWF',
      input: extract,
      output: path.join(dir, output),
      tokeniser: hmacTokeniser(newLinkKey()),
      period,
    });
  beforeAll(async () => {
    await writeExtract({
      spec: catalogueSpecs.spec('apc'),
      codeList: catalogueSpecs.codeList,
      file: extract,
      rows: 20,
      period: '2025-05',
    });
  });

  it('warns of a month none of the rows falls in, naming the months they do', async () => {
    const result = await deid('2025-07', 'may-as-july.csv');
    expect(result.manifest.period).toBe('2025-07');
    expect(result.periodNotInRows).toBe(
      'None of the 20 dated rows falls in 2025-07, the period given: by Episode_End_Date they fall in 2025-05',
    );
    expect(existsSync(path.join(dir, 'may-as-july.csv'))).toBe(true);
  });

  it('says nothing of the month the rows fall in', async () => {
    const result = await deid('2025-05', 'may.csv');
    expect(result.manifest.period).toBe('2025-05');
    expect(result.periodNotInRows).toBeUndefined();
  });
});

describe.each(testStores())('a file labelled with another month, loaded on $engine', (engine) => {
  let store: Store;
  beforeAll(async () => {
    store = await engine.open();
    await feeds;
    await prepareForApc(store, dir);
    await createAgreement(store, { org: 'RWF', datasets: ['ecds'], from: '2025-01', to: '2025-12' }, 'test');
  }, 120_000);
  afterAll(async () => {
    await store.close();
  });

  /**
   * Loads `june` as June's real load, then `may` relabelled as June, which would replace it:
   * answers the real load's report and the error the second load fails with, a KernelError.
   */
  async function replaceJuneWith(dataset: string, june: string, may: string) {
    const real = await loadFeed(store, { org: 'RWF', dataset, file: june, actor: 'test' });
    expect(real.status).toBe('loaded');
    relabel(may, '2025-06');
    const error = await failure(loadFeed(store, { org: 'RWF', dataset, file: may, actor: 'test' }));
    expect(error).toBeInstanceOf(KernelError);
    return { real, refusal: error as KernelError };
  }

  it('is taken as the first load of the month it names: nothing is replaced', async () => {
    // A first feed may carry only history, or episodes ending after their month.
    const file = await apcFeed(dir, `apc-may-first-${engine.engine}`, 10, '2025-05', 7);
    signAgain(file, { period: '2025-08' });
    const report = await loadFeed(store, { org: 'RWF', dataset: 'apc', file, actor: 'test' });
    expect(report).toMatchObject({ status: 'loaded', period: '2025-08' });
  });

  it('is refused whole when it would replace the month it names, which keeps its real load', async () => {
    const { june, mayLabelledJune } = await feeds;
    const { real, refusal } = await replaceJuneWith('apc', june, mayLabelledJune);
    expect(refusal.code).toBe('refused');
    // Every row read is counted, the repeat the load dropped too (25 rows and one copy).
    expect(refusal.message).toBe(
      'None of the 26 rows read falls in 2025-06, the month whose load the file would replace: by Episode_End_Date they fall in 2025-05',
    );
    expect(refusal.where).toMatchObject({ file: 'apc-may.csv', field: 'Episode_End_Date' });

    const loads = await store.query<{ load_id: string; status: string }>(
      "SELECT load_id, status FROM loads WHERE dataset_id = 'apc' AND period = '2025-06' ORDER BY started_at",
    );
    expect(loads.map((l) => l.status)).toEqual(['loaded', 'refused']);
    expect(loads[0]?.load_id).toBe(real.loadId);
    const stored = await store.query<{ load_id: string; n: number | string }>(
      "SELECT load_id, count(*) AS n FROM ds_apc WHERE load_id IN (SELECT load_id FROM loads WHERE period = '2025-06') GROUP BY load_id",
    );
    expect(stored.map((r) => [r.load_id, Number(r.n)])).toEqual([[real.loadId, real.rowsLoaded]]);
  });

  it('reads a period field of date and time the same way, counting the rows set aside (these all fail a check)', async () => {
    const { ecdsJune, ecdsMay } = await feeds;
    const { refusal } = await replaceJuneWith('ecds', ecdsJune, ecdsMay);
    expect(refusal.message).toMatch(
      /^None of the \d+ rows read falls in 2025-06, the month whose load the file would replace: by EC_Arrival_Date_Time they fall in 2025-05$/,
    );
    relabel(ecdsMay, '2025-05');
  });

  it('takes a file whose rows fall partly outside the month it is loaded as', async () => {
    // June's rows, with one moved into May: a resend spanning months is the sender's to make.
    const file = await apcFeed(dir, `apc-june-again-${engine.engine}`, 30, '2025-06', 4);
    const text = readFileSync(file, 'utf8').replace(/2025-06-(\d\d)/, '2025-05-$1');
    writeFileSync(file, text);
    signAgain(file);
    const report = await loadFeed(store, { org: 'RWF', dataset: 'apc', file, actor: 'test' });
    expect(report.status).toBe('loaded');
  });
});
