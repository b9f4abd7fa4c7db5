/**
 * Linkage on files: the agent's encoding of a file of people (the privacy encoder applied
 * row by row; the plain values never reach the output), and linking or explaining two
 * encoded files. Encoded files are CSV: `record`, `secret_id`, `scheme`, one `bf_FIELD`
 * column per Bloom filter (base64) and one `block_NAME` column per keyed blocking key; the
 * linkage files `kernel deid` writes have `source_line` in place of `record`.
 */
import { createWriteStream, existsSync, renameSync, rmSync } from 'node:fs';
import { KernelError } from '../errors.ts';
import { fieldText, readCsv } from '../files/csv-reader.ts';
import {
  BloomEncoder,
  filterFromBase64,
  filterToBase64,
  type PlainValues,
} from '../privacy/bloom-encoding.ts';
import type { LinkageSecret } from '../privacy/linkage-secret.ts';
import { PERSON_ENCODING_SCHEME, PERSON_FIELDS } from '../privacy/person-encoding.ts';
import { blockPairs, type CandidatePairs } from './blocking.ts';
import {
  bindModel,
  probabilityOf,
  trainModel,
  type LinkageModel,
  type PairExplanation,
} from './fellegi-sunter.ts';
import { applyDecisions, assignOneToOne, reviewQueue } from './link-decisions.ts';
import { personLinkageSetup } from './person-linkage.ts';
import { RecordColumns } from './record-columns.ts';

const scheme = PERSON_ENCODING_SCHEME;
const filterColumns = scheme.fields.map((f) => `bf_${f.field}`);
const keyColumns = scheme.blockingKeys.map((k) => `block_${k.name}`);
const ENCODED_HEADER = ['record', 'secret_id', 'scheme', ...filterColumns, ...keyColumns];

function refuseExisting(file: string): void {
  if (existsSync(file)) {
    throw new KernelError('conflict', `${file} already exists; Kernel will not overwrite it`, {
      hint: 'Choose another --out',
    });
  }
}

/**
 * Encode a CSV of people (columns among given_name, family_name, date_of_birth as
 * YYYYMMDD or YYYY-MM-DD, sex, postcode, and an id column) into an encoded file.
 */
export async function encodePeopleFile(options: {
  secret: LinkageSecret;
  input: string;
  output: string;
  idColumn?: string;
}): Promise<{ records: number; secretId: string; scheme: string }> {
  refuseExisting(options.output);
  const encoder = new BloomEncoder(options.secret, scheme);
  const partial = `${options.output}.partial`;
  const out = createWriteStream(partial, { mode: 0o600 });
  out.write(`${ENCODED_HEADER.join(',')}\n`);
  let positions: { field: string; at: number }[] = [];
  let idAt = -1;
  let records = 0;
  try {
    await readCsv(options.input, {
      onHeader(columns, line) {
        positions = PERSON_FIELDS.map((field) => ({ field, at: columns.indexOf(field) })).filter(
          (p) => p.at >= 0,
        );
        if (positions.length === 0) {
          throw new KernelError(
            'invalid-input',
            'The file has none of the columns a person is encoded from',
            {
              where: { file: options.input, line },
              hint: `Name the columns ${PERSON_FIELDS.join(', ')}`,
            },
          );
        }
        const idColumn = options.idColumn ?? 'record_id';
        idAt = columns.indexOf(idColumn);
        if (options.idColumn && idAt < 0) {
          throw new KernelError('invalid-input', `The file has no column ${idColumn}`, {
            where: { file: options.input, line },
            hint: 'Give the id column with --id',
          });
        }
      },
      onRecord(record) {
        records++;
        const values: Record<string, string | null> = {};
        for (const { field, at } of positions) {
          const text = fieldText(record, at).trim();
          values[field] = text.length === 0 ? null : text;
        }
        const encoded = encoder.encode(values as PlainValues);
        const id = idAt >= 0 ? fieldText(record, idAt) : String(records);
        if (/[",\r\n]/.test(id)) {
          throw new KernelError('invalid-input', 'A record id holds a comma, quote or line break', {
            where: { file: options.input, line: record.line },
            hint: 'Use plain ids (letters, digits, dashes)',
          });
        }
        const cells = [
          id,
          encoder.secretId,
          scheme.name,
          ...scheme.fields.map((f) => {
            const bits = encoded.filters[f.field];
            return bits ? filterToBase64(bits) : '';
          }),
          ...scheme.blockingKeys.map((k) => encoded.blockingKeys[k.name] ?? ''),
        ];
        out.write(`${cells.join(',')}\n`);
      },
      onChunk: () =>
        out.writableNeedDrain
          ? new Promise<void>((resolve) => out.once('drain', () => resolve()))
          : undefined,
    });
    await new Promise<void>((resolve, reject) =>
      out.end((error?: Error | null) => (error ? reject(error) : resolve())),
    );
    renameSync(partial, options.output);
  } catch (error) {
    // Writes still queued fail once the stream is destroyed; the run failed already.
    out.on('error', () => undefined);
    out.destroy();
    rmSync(partial, { force: true });
    throw error;
  }
  return { records, secretId: options.secret.keyId, scheme: scheme.name };
}

export interface EncodedFile {
  ids: string[];
  side: RecordColumns;
  secretId: string;
}

async function readEncodedRows(file: string, rows: string[][], prefixed: boolean): Promise<void> {
  await readCsv(file, {
    onHeader(columns, line) {
      // `kernel deid --linkage-secret` writes the same columns keyed by `source_line`.
      const named = columns[0] === 'source_line' ? ['record', ...columns.slice(1)] : columns;
      if (named.join(',') !== ENCODED_HEADER.join(',')) {
        throw new KernelError('invalid-input', 'The file is not an encoded file of this scheme', {
          where: { file, line },
          hint: `Make it with \`kernel linkage encode\` (scheme ${scheme.name})`,
        });
      }
    },
    onRecord(record) {
      const cells = Array.from({ length: record.count }, (_, i) => fieldText(record, i));
      if (prefixed) cells[0] = `${file}:${cells[0]}`;
      rows.push(cells);
    },
  });
}

/**
 * Reads one encoded file, or several as one side (ids then `FILE:ID`, so that the line
 * numbers of different agents' files stay apart).
 */
export async function readEncodedFile(files: string | readonly string[]): Promise<EncodedFile> {
  const many = typeof files !== 'string';
  const rows: string[][] = [];
  for (const file of many ? files : [files]) await readEncodedRows(file, rows, many);
  const side = new RecordColumns(rows.length);
  const secrets = new Set<string>();
  rows.forEach((cells, i) => {
    secrets.add(cells[1]!);
    scheme.fields.forEach((f, c) => {
      const text = cells[3 + c]!;
      side.setFilter(f.field, i, text.length === 0 ? null : filterFromBase64(text));
    });
    scheme.blockingKeys.forEach((k, c) => {
      const text = cells[3 + scheme.fields.length + c]!;
      side.setText(`block:${k.name}`, i, text.length === 0 ? null : text);
    });
  });
  if (secrets.size > 1) {
    throw new KernelError('invalid-input', 'The records were encoded under different linkage secrets', {
      where: { file: many ? files.join(', ') : files },
      hint: 'Encode every record with one secret',
    });
  }
  return { ids: rows.map((r) => r[0]!), side, secretId: [...secrets][0] ?? '' };
}

export interface FileLink {
  left: string;
  right: string;
  weight: number;
  probability: number;
}

export interface FileDecision {
  left: string;
  right: string;
  match: boolean;
}

export interface FileLinkage {
  model: LinkageModel;
  candidatePairs: number;
  rules: { name: string; pairs: number; newPairs: number }[];
  links: FileLink[];
  /** pairs in the uncertain band with no decision yet, surest first */
  review: FileLink[];
  /** the decisions applied, and how the model's probabilities compare with them */
  reviewed: { pairs: number; decidedMatches: number; modelExpectedMatches: number };
  explain(leftId: string, rightId: string): PairExplanation;
}

/**
 * Link two encoded files one to one at `threshold` (probability), training the model on
 * them. Kept clerical decisions are applied first (and so honoured on every rerun); pairs
 * still in the uncertain band are returned as the review queue.
 */
export async function linkEncodedFiles(options: {
  left: string;
  right: string;
  threshold?: number;
  /** the uncertain band [low, high) of match probability that goes to clerical review */
  reviewBand?: [number, number];
  decisions?: readonly FileDecision[];
}): Promise<FileLinkage> {
  const left = await readEncodedFile(options.left);
  const right = await readEncodedFile(options.right);
  if (left.ids.length === 0 || right.ids.length === 0) {
    throw new KernelError('invalid-input', 'An encoded file has no records', {
      hint: 'Encode a file with people in it',
    });
  }
  if (left.secretId !== right.secretId) {
    throw new KernelError('refused', 'The two files were encoded under different linkage secrets', {
      hint: 'Both agents must use the same linkage secret (kernel keys new-linkage, made once)',
    });
  }
  const setup = personLinkageSetup();
  const { model } = trainModel(left.side, right.side, { comparisons: setup.comparisons, ...setup.training });
  const blocked = blockPairs(left.side, right.side, setup.blocking);
  const scorer = bindModel(model, setup.comparisons, left.side, right.side);
  const weights = scorer.weights(blocked.pairs);
  const indexOf = (ids: string[], id: string, file: string) => {
    const at = ids.indexOf(id);
    if (at < 0)
      throw new KernelError('not-found', `No record ${id} in ${file}`, {
        hint: 'Give a record id from the file',
      });
    return at;
  };
  const decisions = (options.decisions ?? []).map((d) => ({
    left: indexOf(left.ids, d.left, options.left),
    right: indexOf(right.ids, d.right, options.right),
    match: d.match,
  }));
  const decided = applyDecisions(blocked.pairs, weights, decisions);
  const kept = assignOneToOne(decided.pairs, decided.weights, options.threshold ?? 0.5);
  const [low, high] = options.reviewBand ?? [0.1, 0.9];
  const asLink = (pairs: CandidatePairs, pairWeights: Float64Array, p: number): FileLink => ({
    left: left.ids[pairs.left[p]!]!,
    right: right.ids[pairs.right[p]!]!,
    weight: pairWeights[p]!,
    probability: probabilityOf(pairWeights[p]!),
  });
  return {
    model,
    candidatePairs: blocked.pairs.length,
    rules: blocked.rules,
    links: Array.from(kept, (p) => asLink(decided.pairs, decided.weights, p)),
    review: Array.from(reviewQueue(decided.pairs, decided.weights, low, high), (p) =>
      asLink(decided.pairs, decided.weights, p),
    ),
    reviewed: decided.reviewed,
    explain: (leftId, rightId) =>
      scorer.explain(indexOf(left.ids, leftId, options.left), indexOf(right.ids, rightId, options.right)),
  };
}

/**
 * Clerical decisions from a CSV with columns `left`, `right` and `decision` (`match` or
 * `non-match`; other columns, such as the review queue's weight and probability, are
 * ignored, and a row with no decision yet is skipped). The review queue file, once filled
 * in, is such a file.
 */
export async function readDecisionsFile(file: string): Promise<FileDecision[]> {
  const decisions: FileDecision[] = [];
  let at = { left: -1, right: -1, decision: -1 };
  await readCsv(file, {
    onHeader(columns, line) {
      at = {
        left: columns.indexOf('left'),
        right: columns.indexOf('right'),
        decision: columns.indexOf('decision'),
      };
      if (at.left < 0 || at.right < 0 || at.decision < 0) {
        throw new KernelError(
          'invalid-input',
          'A decisions file needs the columns left, right and decision',
          {
            where: { file, line },
            hint: 'Fill in the decision column of the file written by --review-out',
          },
        );
      }
    },
    onRecord(record) {
      const decision = fieldText(record, at.decision).trim().toLowerCase();
      if (decision === '') return;
      if (decision !== 'match' && decision !== 'non-match') {
        throw new KernelError('invalid-input', `A decision must be match or non-match, not ${decision}`, {
          where: { file, line: record.line, field: 'decision' },
          hint: 'Write match or non-match, or leave it empty to decide later',
        });
      }
      decisions.push({
        left: fieldText(record, at.left),
        right: fieldText(record, at.right),
        match: decision === 'match',
      });
    },
  });
  return decisions;
}
