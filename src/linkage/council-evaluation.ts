/**
 * How well council records link to the patient master index on encodings alone, against
 * the synthetic world's truth (`truth/records.csv`: which person each feed line is). Every
 * `pmi` feed and every feed of the council datasets (`asc` unless told: also `council-housing`,
 * `council-benefits`) of a world goes through the agent (`deidentifyFile` with the linkage
 * secret), the engine links each council record to its best master-index record (many to
 * one, probability ≥ 0.5), and the truth scores it. The master index is either the `pmi`
 * feeds as sent or the whole population (see `index`). Used by bench/linkage and its test.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { getDataset } from '../catalogue/catalogue.ts';
import { listWorldFeeds } from '../synth/world-feeds.ts';
import { fieldText, readCsv } from '../files/csv-reader.ts';
import { deidentifyFile } from '../privacy/deidentify-file.ts';
import { newLinkKey } from '../privacy/link-key.ts';
import type { LinkageSecret } from '../privacy/linkage-secret.ts';
import { hmacTokeniser } from '../privacy/token-scheme.ts';
import { BloomEncoder } from '../privacy/bloom-encoding.ts';
import { PERSON_ENCODING_SCHEME } from '../privacy/person-encoding.ts';
import { RecordColumns } from './record-columns.ts';
import { blockPairs } from './blocking.ts';
import { bindModel, trainModel } from './fellegi-sunter.ts';
import { bestForEachRight, linkQuality, type LinkQuality } from './link-decisions.ts';
import { readEncodedFile } from './linkage-files.ts';
import { personLinkageSetup } from './person-linkage.ts';

export interface CouncilLinkageFigures {
  masterIndexRecords: number;
  councilRecords: number;
  /** council records whose person is somewhere in the master index */
  linkable: number;
  /** council records the extract sent without an NHS number */
  withoutNhsNumber: number;
  all: LinkQuality;
  /** the same, for the records without an NHS number: the ones this linkage is for */
  noNhsNumber: LinkQuality;
  /**
   * by the identity error truth records on the council record (`truth/defects.csv`; `none`
   * for a clean record, and other kinds — a missing mandatory value… — under their names):
   * how many council records carry it, and the links' quality among them
   */
  byError: Record<string, { records: number; quality: LinkQuality }>;
}

/** Every person of the world as a complete master index would hold them: id, name, date of birth, sex, current postcode. */
async function wholePopulation(
  world: string,
  secret: LinkageSecret,
): Promise<{ ids: string[]; side: RecordColumns }> {
  const postcodeOf = new Map<string, string>();
  let at: number[] = [];
  await readCsv(path.join(world, 'truth', 'addresses.csv'), {
    onHeader: (columns) => void (at = ['household_id', 'to_date', 'postcode'].map((c) => columns.indexOf(c))),
    onRecord(record) {
      const [household, to, postcode] = at.map((i) => fieldText(record, i));
      if (to === '') postcodeOf.set(household!, postcode!);
    },
  });
  const rows: { id: string; values: Record<string, string | null> }[] = [];
  await readCsv(path.join(world, 'truth', 'people.csv'), {
    onHeader: (columns) =>
      void (at = ['person_id', 'given_name', 'family_name', 'birth_date', 'sex', 'household_id'].map((c) =>
        columns.indexOf(c),
      )),
    onRecord(record) {
      const [id, given, family, birth, sex, household] = at.map((i) => fieldText(record, i));
      rows.push({
        id: id!,
        values: {
          given_name: given!,
          family_name: family!,
          date_of_birth: birth!,
          sex: sex!,
          postcode: postcodeOf.get(household!) ?? null,
        },
      });
    },
  });
  const encoder = new BloomEncoder(secret, PERSON_ENCODING_SCHEME);
  const side = new RecordColumns(rows.length);
  rows.forEach((row, i) => side.setEncoded(i, encoder.encode(row.values)));
  return { ids: rows.map((r) => r.id), side };
}

export async function evaluateCouncilLinkage(options: {
  world: string;
  work: string;
  secret: LinkageSecret;
  threshold?: number;
  /**
   * the master index: the world's `pmi` feeds as sent (each a month's changes, so many
   * council people are absent), or every person of the world, as a complete index would be
   */
  index?: 'pmi-feeds' | 'whole-population';
  /** the council datasets whose records are linked (default asc); all are scored together */
  datasets?: readonly string[];
}): Promise<CouncilLinkageFigures> {
  const tokeniser = hmacTokeniser(newLinkKey());
  const council = options.datasets ?? ['asc'];
  const files: { pmi: string[]; council: string[] } = { pmi: [], council: [] };
  /** linkage file → the feed's path as the truth names it */
  const feedOf = new Map<string, string>();
  for (const dataset of ['pmi', ...council]) {
    for (const feed of listWorldFeeds(options.world, [dataset])) {
      const output = path.join(options.work, feed.org, dataset, `${feed.period}.csv`);
      mkdirSync(path.dirname(output), { recursive: true });
      let result;
      try {
        result = await deidentifyFile({
          spec: getDataset(dataset),
          org: feed.org,
          input: feed.file,
          output,
          tokeniser,
          signing: null,
          period: feed.period,
          linkageSecret: options.secret,
        });
      } catch {
        continue; // a header-only (nil) return: nothing to link
      }
      files[dataset === 'pmi' ? 'pmi' : 'council'].push(result.linkage!.file);
      feedOf.set(result.linkage!.file, path.relative(options.world, feed.file));
    }
  }
  const truth = new Map<string, { person: string; nhsNumber: boolean }>();
  let at: number[] = [];
  await readCsv(path.join(options.world, 'truth', 'records.csv'), {
    onHeader: (columns) =>
      void (at = ['file', 'line', 'subject_id', 'nhs_number_recorded'].map((c) => columns.indexOf(c))),
    onRecord(record) {
      const [file, line, person, recorded] = at.map((i) => fieldText(record, i));
      truth.set(`${file}:${line}`, { person: person!, nhsNumber: recorded === 'Y' });
    },
  });
  /** `file:line` → the defect truth records on that line of a council feed */
  const defectOf = new Map<string, string>();
  await readCsv(path.join(options.world, 'truth', 'defects.csv'), {
    onHeader: (columns) => void (at = ['file', 'line', 'kind'].map((c) => columns.indexOf(c))),
    onRecord(record) {
      const [file, line, kind] = at.map((i) => fieldText(record, i));
      if (council.some((d) => file!.includes(`/${d}/`))) defectOf.set(`${file}:${line}`, kind!);
    },
  });
  const defectOfRecord = (id: string): string => {
    const split = id.lastIndexOf(':');
    return defectOf.get(`${feedOf.get(id.slice(0, split))}:${id.slice(split + 1)}`) ?? 'none';
  };
  const truthOf = (id: string) => {
    const split = id.lastIndexOf(':');
    return truth.get(`${feedOf.get(id.slice(0, split))}:${id.slice(split + 1)}`);
  };
  const whole = options.index === 'whole-population';
  const left = whole
    ? await wholePopulation(options.world, options.secret)
    : await readEncodedFile(files.pmi);
  const personOf = (id: string) => (whole ? id : truthOf(id)?.person);
  const right = await readEncodedFile(files.council);
  const setup = personLinkageSetup();
  const { model } = trainModel(left.side, right.side, {
    comparisons: setup.comparisons,
    ...setup.training,
    randomPairs: 200_000,
  });
  const { pairs } = blockPairs(left.side, right.side, setup.blocking);
  const weights = bindModel(model, setup.comparisons, left.side, right.side).weights(pairs);
  const best = bestForEachRight(pairs, weights, options.threshold ?? 0.5, right.ids.length);
  const inIndex = new Set(left.ids.map(personOf));
  const tally = { all: [0, 0, 0], none: [0, 0, 0] }; // correct, linked, linkable
  const byError = new Map<string, number[]>(); // correct, linked, linkable, records
  let withoutNhsNumber = 0;
  right.ids.forEach((id, j) => {
    const council = truthOf(id);
    const kind = defectOfRecord(id);
    if (!byError.has(kind)) byError.set(kind, [0, 0, 0, 0]);
    const errorTally = byError.get(kind)!;
    errorTally[3]!++;
    const counts = [tally.all, errorTally, ...(council?.nhsNumber === false ? [tally.none] : [])];
    if (council?.nhsNumber === false) withoutNhsNumber++;
    const p = best[j]!;
    for (const c of counts) {
      if (council && inIndex.has(council.person)) c[2]!++;
      if (p < 0) continue;
      c[1]!++;
      if (council && personOf(left.ids[pairs.left[p]!]!) === council.person) c[0]!++;
    }
  });
  return {
    masterIndexRecords: left.ids.length,
    councilRecords: right.ids.length,
    linkable: tally.all[2]!,
    withoutNhsNumber,
    all: linkQuality(tally.all[0]!, tally.all[1]!, tally.all[2]!),
    noNhsNumber: linkQuality(tally.none[0]!, tally.none[1]!, tally.none[2]!),
    byError: Object.fromEntries(
      [...byError]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([kind, t]) => [kind, { records: t[3]!, quality: linkQuality(t[0]!, t[1]!, t[2]!) }]),
    ),
  };
}
