/**
 * Routes generated rows into feed files (`feeds/<ORG>/<dataset>/<YYYY-MM>.csv`), injects
 * defects, and keeps the truth: which subject each line is about (`truth/records.csv`) and
 * every defect (`truth/defects.csv`).
 */
import path from 'node:path';
import { CsvFileWriter } from '../files/csv-file-writer.ts';
import { injectDefect, type DefectRates, type DefectShape, type RowDraft } from './defects.ts';
import { Random } from './random.ts';
import { builderKey, type Values } from './feed-rows.ts';
import type { LocalWriter } from './local-layouts.ts';
import type { Month } from './synth-dates.ts';
import type { World } from './world.ts';

export interface DatasetPlan {
  id: string;
  /** the inbound columns, in order: the header of every file */
  columns: readonly string[];
  shape: DefectShape;
  /** the dataset's rows are about patients, staff or households */
  subject: 'patient' | 'staff' | 'household';
}

export interface RowSubject {
  type: 'person' | 'staff' | 'household';
  id: number;
  /** the address the row should carry (truth/addresses.csv), or -1 */
  address: number;
  /** false where the source system holds no NHS number for this subject (not a defect) */
  nhsRecorded: boolean;
}

/**
 * How a generator hands the router a row: who sends it, of which dataset, its values, whom it
 * is about, and for a corrected resend the row as first sent. Every feed writer takes one.
 */
export type EmitRow = (
  org: string,
  dataset: string,
  values: Values,
  subject: RowSubject,
  old?: () => Values | undefined,
) => void;
/** The subject of a person's row on a day; `nhsRecorded` false where the sender holds no NHS number. */
export type SubjectOf = (person: number, day: number, nhsRecorded?: boolean) => RowSubject;
/** Writes one month's rows of a feed (`monthIndex` 0 is the window's first month). */
export type MonthlyFeedWriter = (
  world: World,
  month: Month,
  monthIndex: number,
  emit: EmitRow,
  subject: SubjectOf,
) => void;

export const RECORD_COLUMNS = [
  'file',
  'line',
  'subject_type',
  'subject_id',
  'address_id',
  'nhs_number_recorded',
] as const;
export const DEFECT_COLUMNS = [
  'file',
  'line',
  'field',
  'kind',
  'original_class',
  'original',
  'written',
] as const;

interface OpenFeed {
  writer: CsvFileWriter;
  relative: string;
  plan: DatasetPlan;
  random: Random;
  /** the last row written without a defect, to drop a natural exact repeat */
  last: string;
  /** the organisation's own layout, where it has one: rows are drafted nationally, written locally */
  local?: LocalWriter;
}

/** For each dataset's columns, the builder key each column reads (exact name first, then alias). */
const resolved = new WeakMap<readonly string[], Map<string, string>>();

function pick(columns: readonly string[], values: Record<string, string>): Record<string, string> {
  let keys = resolved.get(columns);
  if (!keys) {
    keys = new Map();
    resolved.set(columns, keys);
  }
  const picked: Record<string, string> = {};
  for (const column of columns) {
    let value = values[column];
    if (value === undefined) {
      let key = keys.get(column);
      if (key === undefined) {
        key = builderKey(column);
        if (key !== undefined) keys.set(column, key);
      }
      value = key === undefined ? undefined : values[key];
    }
    picked[column] = value ?? '';
  }
  return picked;
}

export class FeedRouter {
  readonly rowsByDataset: Record<string, number> = {};
  readonly defectsByKind: Record<string, number> = {};
  files = 0;
  rows = 0;
  private readonly open = new Map<string, OpenFeed>();
  private month = '';

  constructor(
    private readonly out: string,
    private readonly seed: number,
    private readonly rates: DefectRates,
    private readonly plans: ReadonlyMap<string, DatasetPlan>,
    private readonly records: CsvFileWriter,
    private readonly defects: CsvFileWriter,
    /** local layouts by `ORG/dataset` (truth/defects.csv records their values in the national form) */
    private readonly layouts: ReadonlyMap<string, LocalWriter> = new Map(),
    /** rates of their own for some datasets' feeds (councils': COUNCIL_DEFECT_RATES) */
    private readonly datasetRates: ReadonlyMap<string, DefectRates> = new Map(),
  ) {}

  /** Opens every supplied feed of a month, so a month with no rows still has its (header-only) file. */
  startMonth(month: string, supplied: readonly (readonly [org: string, dataset: string])[]): void {
    this.month = month;
    for (const [org, dataset] of supplied) this.feed(org, dataset);
  }

  endMonth(): void {
    for (const feed of this.open.values()) feed.writer.close();
    this.open.clear();
  }

  has(dataset: string): boolean {
    return this.plans.has(dataset);
  }

  private feed(org: string, dataset: string): OpenFeed | undefined {
    const key = `${org}/${dataset}`;
    let feed = this.open.get(key);
    if (feed) return feed;
    let plan = this.plans.get(dataset);
    if (!plan) return undefined;
    const relative = `feeds/${org}/${dataset}/${this.month}.csv`;
    const local = this.layouts.get(key);
    if (local) {
      // A field the local extract does not carry (its mapping's constant) cannot go missing in it.
      const required = new Set([...plan.shape.required].filter((f) => !local.constants.has(f)));
      plan = { ...plan, shape: { ...plan.shape, required } };
    }
    feed = {
      writer: new CsvFileWriter(path.join(this.out, relative), local ? local.header : plan.columns),
      relative,
      plan,
      random: new Random(this.seed, 'defects', relative),
      last: '',
      ...(local ? { local } : {}),
    };
    this.open.set(key, feed);
    this.files++;
    this.rowsByDataset[dataset] ??= 0;
    return feed;
  }

  /** Writes one row (by column name) for `org`'s `dataset`, perhaps with a defect. */
  emit(
    org: string,
    dataset: string,
    values: Record<string, string>,
    subject: RowSubject,
    oldAddress?: () => Record<string, string> | undefined,
  ): void {
    const feed = this.feed(org, dataset);
    if (!feed) return;
    // Builders name each value every way the field is spelt; keep exactly the catalogue's columns.
    const draft: RowDraft = { values: pick(feed.plan.columns, values) };
    if (oldAddress) {
      draft.oldAddress = () => {
        const old = oldAddress();
        return old ? pick(feed.plan.columns, old) : undefined;
      };
    }
    values = draft.values;
    // Two identical natural rows in a row (the same review coded twice on one day) would look
    // like an injected duplicate; the source system would hold them once.
    const natural = feed.plan.columns.map((column) => values[column] ?? '').join('\u0000');
    if (natural === feed.last) return;
    feed.last = natural;
    const rates = this.datasetRates.get(dataset) ?? this.rates;
    const defect = injectDefect(draft, feed.plan.shape, rates, feed.random);
    const national = feed.plan.columns.map((column) => values[column] ?? '');
    const row = feed.local ? feed.local.toLocal(national) : national;
    const line = feed.writer.write(row);
    this.record(feed, line, subject);
    if (defect && defect.kind !== 'duplicate-row') this.defect(feed, line, defect);
    if (defect?.kind === 'duplicate-row') {
      const copy = feed.writer.write(row);
      this.record(feed, copy, subject);
      this.defect(feed, copy, defect);
    }
  }

  private record(feed: OpenFeed, line: number, subject: RowSubject): void {
    this.records.write([
      feed.relative,
      String(line),
      subject.type,
      String(subject.id),
      subject.address < 0 ? '' : String(subject.address),
      subject.nhsRecorded ? 'Y' : 'N',
    ]);
    this.rows++;
    this.rowsByDataset[feed.plan.id] = (this.rowsByDataset[feed.plan.id] ?? 0) + 1;
  }

  private defect(
    feed: OpenFeed,
    line: number,
    defect: { kind: string; field: string; originalClass: string; original: string; written: string },
  ): void {
    this.defects.write([
      feed.relative,
      String(line),
      defect.field,
      defect.kind,
      defect.originalClass,
      defect.original,
      defect.written,
    ]);
    this.defectsByKind[defect.kind] = (this.defectsByKind[defect.kind] ?? 0) + 1;
  }
}
