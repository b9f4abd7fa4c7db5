import { writeFileSync, existsSync } from 'node:fs';
import { KernelError } from '../errors.ts';
import { csvCell } from '../files/spreadsheet-csv.ts';
import {
  encodePeopleFile,
  linkEncodedFiles,
  readDecisionsFile,
  type FileLink,
} from '../linkage/linkage-files.ts';
import type { PairExplanation } from '../linkage/fellegi-sunter.ts';
import { linkPeople } from '../linkage/link-people.ts';
import { decidePair, explainQueuedPair, reviewQueue } from '../linkage/link-review.ts';
import { printEstimates } from './kid-command.ts';
import { loadLinkageFile } from '../linkage/linkage-store.ts';
import { readLinkageSecretFile } from '../privacy/linkage-secret.ts';
import { formatTable, printJson, type RegisterCommands } from './cli-context.ts';

function parseBand(text: string | undefined): [number, number] {
  if (text === undefined) return [0.1, 0.9];
  const [low, high, ...rest] = text.split(',').map(Number);
  if (low === undefined || high === undefined || rest.length > 0 || !(low >= 0 && low < high && high <= 1)) {
    throw new KernelError(
      'usage',
      `--review-band must be two probabilities LOW,HIGH with LOW < HIGH, not ${text}`,
      {
        hint: 'For example --review-band 0.1,0.9',
      },
    );
  }
  return [low, high];
}

function parseThreshold(text: string | undefined): number {
  const value = text === undefined ? 0.5 : Number(text);
  if (!Number.isFinite(value) || value <= 0 || value >= 1) {
    throw new KernelError('usage', `--threshold must be a probability between 0 and 1, not ${text}`, {
      hint: 'For example --threshold 0.5',
    });
  }
  return value;
}

/** A pair's waterfall: the prior, each comparison's level, m, u, weight and running total. */
function printWaterfall(explanation: PairExplanation, print: (text: string) => void): void {
  const f = (x: number | null, digits: number) => (x === null ? '' : x.toFixed(digits));
  print(
    formatTable(
      ['step', 'level', 'm', 'u', 'weight', 'running total'],
      [
        ['prior', '', '', '', f(explanation.priorWeight, 2), f(explanation.priorWeight, 2)],
        ...explanation.steps.map((s) => [
          s.comparison,
          s.level,
          f(s.m, 4),
          f(s.u, 6),
          f(s.weight, 2),
          f(s.cumulative, 2),
        ]),
      ],
    ),
  );
  print(`match weight ${explanation.weight.toFixed(2)}, probability ${explanation.probability.toFixed(4)}`);
}

/** `kernel linkage`: encode people at source, link two encoded files, explain a pair's weight; `kernel link`. */
export const registerLinkageCommands: RegisterCommands = (program, context) => {
  program
    .command('link')
    .description('give records without an NHS number the person_token of the master-index record they match')
    .requiredOption('--dataset <id>', 'a dataset whose specification declares linkageEncoding (asc)')
    .option('--threshold <p>', 'the match probability a link needs (default 0.5)')
    .option('--json', 'print the run as JSON')
    .action(async (options: { dataset: string; threshold?: string; json?: boolean }) => {
      const threshold = parseThreshold(options.threshold);
      const run = await context.withStore((store) =>
        linkPeople(store, { dataset: options.dataset, threshold, actor: context.actor }),
      );
      if (options.json) {
        printJson(context.io, run);
        return;
      }
      const estimate = (x: number | null) => (x === null ? 'n/a' : x.toFixed(4));
      context.io.out(
        `Run ${run.runId}: ${run.linked} of ${run.records} ${run.dataset} records without a person token linked ` +
          `to the person spine (version ${run.spineVersion}; ${run.masterIndexRecords} master-index records, ${run.candidatePairs} candidate pairs).`,
      );
      context.io.out(
        `Model's estimate: precision ${estimate(run.estimatedPrecision)}, recall ${estimate(run.estimatedRecall)}. ` +
          `${run.decisionsApplied} clerical decisions applied; ${run.reviewQueue} pairs await review (kernel linkage review --dataset ${run.dataset}).`,
      );
      printEstimates(
        run.estimates.map((e) => ({
          dataset: run.dataset,
          org: e.org,
          runId: run.runId,
          runStartedAt: '',
          spineVersion: run.spineVersion,
          records: e.records,
          linked: e.linked,
          model: { precision: e.modelPrecision, recall: e.modelRecall },
          clerical: {
            reviewedPairs: e.reviewedPairs,
            decidedMatches: e.decidedMatches,
            precision: e.clericalPrecision,
            recall: e.clericalRecall,
          },
        })),
        (text) => context.io.out(text),
      );
    });

  const linkage = program
    .command('linkage')
    .description('probabilistic linkage on Bloom-filter encodings made at source (docs/linkage.md)');

  linkage
    .command('encode')
    .description(
      "the agent: encode a CSV of people with the linkage secret (names never leave the file's owner)",
    )
    .requiredOption('--secret <file>', 'the linkage secret (kernel keys new-linkage)')
    .requiredOption('--in <file>', 'CSV with given_name, family_name, date_of_birth, sex, postcode')
    .requiredOption('--out <file>', 'the encoded CSV to write (never overwritten)')
    .option('--id <column>', 'the column holding each record id (default record_id, else the row number)')
    .option('--json', 'print the result as JSON')
    .action(async (options: { secret: string; in: string; out: string; id?: string; json?: boolean }) => {
      const secret = readLinkageSecretFile(options.secret);
      const result = await encodePeopleFile({
        secret,
        input: options.in,
        output: options.out,
        ...(options.id ? { idColumn: options.id } : {}),
      });
      if (options.json) printJson(context.io, { ...result, file: options.out });
      else
        context.io.out(
          `Encoded ${result.records} records with scheme ${result.scheme} under ${result.secretId} into ${options.out}.`,
        );
    });

  linkage
    .command('link')
    .description('link two encoded files one to one (Fellegi–Sunter, trained by EM on the files)')
    .requiredOption('--left <file>', 'an encoded file')
    .requiredOption('--right <file>', 'another encoded file, under the same secret')
    .option('--threshold <p>', 'the match probability a link needs (default 0.5)')
    .option('--out <file>', 'write the links as CSV (left, right, weight, probability)')
    .option('--review-out <file>', 'write the pairs in the uncertain band for clerical review')
    .option('--review-band <low,high>', 'the uncertain band of match probability (default 0.1,0.9)')
    .option('--decisions <file>', 'kept clerical decisions (left, right, decision: match or non-match)')
    .option('--json', 'print the result as JSON')
    .action(
      async (options: {
        left: string;
        right: string;
        threshold?: string;
        out?: string;
        reviewOut?: string;
        reviewBand?: string;
        decisions?: string;
        json?: boolean;
      }) => {
        const threshold = parseThreshold(options.threshold);
        const reviewBand = parseBand(options.reviewBand);
        for (const file of [options.out, options.reviewOut]) {
          if (file && existsSync(file)) {
            throw new KernelError('conflict', `${file} already exists; Kernel will not overwrite it`, {
              hint: 'Choose another file',
            });
          }
        }
        const decisions = options.decisions ? await readDecisionsFile(options.decisions) : [];
        const result = await linkEncodedFiles({
          left: options.left,
          right: options.right,
          threshold,
          reviewBand,
          decisions,
        });
        const writeLinks = (file: string, links: FileLink[], decisionColumn: boolean) => {
          const lines = links.map((l) =>
            [l.left, l.right, l.weight.toFixed(4), l.probability.toFixed(6), ...(decisionColumn ? [''] : [])]
              .map(csvCell)
              .join(','),
          );
          const header = `left,right,weight,probability${decisionColumn ? ',decision' : ''}`;
          writeFileSync(file, [header, ...lines, ''].join('\n'));
        };
        if (options.out) writeLinks(options.out, result.links, false);
        if (options.reviewOut) writeLinks(options.reviewOut, result.review, true);
        if (options.json) {
          printJson(context.io, {
            threshold,
            candidatePairs: result.candidatePairs,
            links: options.out ? result.links.length : result.links,
            review: result.review.length,
            reviewed: result.reviewed,
            lambda: result.model.lambda,
            blocking: result.rules,
          });
          return;
        }
        context.io.out(
          `${result.links.length} links at probability ≥ ${threshold} from ${result.candidatePairs} candidate pairs; ` +
            `${result.review.length} pairs await clerical review; ${result.reviewed.pairs} decisions applied.`,
        );
        if (!options.out) {
          context.io.out(
            formatTable(
              ['left', 'right', 'weight', 'probability'],
              result.links.map((l) => [l.left, l.right, l.weight.toFixed(2), l.probability.toFixed(4)]),
            ),
          );
        }
      },
    );

  linkage
    .command('load')
    .description(
      "the warehouse: hold an agent's linkage file (kernel deid --linkage-secret) where only linkage reads it",
    )
    .requiredOption('--org <ods>', 'the organisation that sent it')
    .requiredOption('--dataset <id>', 'its dataset (one whose specification declares linkageEncoding)')
    .requiredOption('--period <YYYY-MM>', 'its reporting month; a new file for the month replaces the old')
    .argument('<file>', 'OUT.linkage.csv')
    .option('--json', 'print the result as JSON')
    .action(
      async (file: string, options: { org: string; dataset: string; period: string; json?: boolean }) => {
        const load = await context.withStore((store) =>
          loadLinkageFile(store, {
            org: options.org.trim().toUpperCase(),
            dataset: options.dataset,
            period: options.period,
            file,
            actor: context.actor,
          }),
        );
        if (options.json) printJson(context.io, load);
        else
          context.io.out(
            `Held ${load.rows} linkage encodings of ${load.dataset} from ${load.org} for ${load.period}` +
              `${load.replaced > 0 ? `, replacing ${load.replaced}` : ''} (secret ${load.secretId}).`,
          );
      },
    );

  linkage
    .command('review')
    .description(
      "clerical review of kernel link's uncertain pairs: list the queue, explain a pair, or decide it",
    )
    .option('--dataset <id>', 'the dataset whose queue to list (default asc)')
    .option('--org <ods>', 'only the records this organisation sent')
    .option('--pair <id>', 'a pair id from the queue: explain it, or decide it with --decision')
    .option(
      '--decision <match|non-match>',
      'the record is (match) or is not (non-match) the pair\u2019s person',
    )
    .option('--json', 'print the result as JSON')
    .action(
      async (options: {
        dataset?: string;
        org?: string;
        pair?: string;
        decision?: string;
        json?: boolean;
      }) => {
        if (options.decision !== undefined) {
          if (!options.pair) {
            throw new KernelError('usage', '--decision needs --pair: which pair is decided', {
              hint: 'For example kernel linkage review --pair pr-… --decision match',
            });
          }
          if (options.decision !== 'match' && options.decision !== 'non-match') {
            throw new KernelError('usage', `--decision must be match or non-match, not ${options.decision}`, {
              where: { field: 'decision' },
              hint: 'For example --decision non-match',
            });
          }
          const pairId = options.pair;
          const match = options.decision === 'match';
          const decision = await context.withStore((store) =>
            decidePair(store, { pairId, match, actor: context.actor }),
          );
          if (options.json) printJson(context.io, decision);
          else
            context.io.out(
              `Decided ${decision.pairId}: ${match ? 'a match' : 'not a match'} (the model said ${decision.modelProbability.toFixed(4)}). ` +
                `The next kernel link run of ${decision.dataset} honours it.`,
            );
          return;
        }
        if (options.pair) {
          const pairId = options.pair;
          const waterfall = await context.withStore((store) => explainQueuedPair(store, pairId));
          if (options.json) {
            printJson(context.io, waterfall);
            return;
          }
          context.io.out(
            `${waterfall.pair.pairId}: ${waterfall.pair.dataset} record from ${waterfall.pair.org}, ${waterfall.pair.period} line ${waterfall.pair.sourceLine}` +
              `${waterfall.pair.linked ? ', linked by the run' : ', not linked by the run'}.`,
          );
          printWaterfall(waterfall, (text) => context.io.out(text));
          const last = waterfall.decisions.at(-1);
          if (last) context.io.out(`Decided ${last.match ? 'a match' : 'not a match'} on ${last.decidedAt}.`);
          return;
        }
        const queue = await context.withStore((store) =>
          reviewQueue(store, {
            dataset: options.dataset ?? 'asc',
            ...(options.org ? { org: options.org.trim().toUpperCase() } : {}),
          }),
        );
        if (options.json) {
          printJson(context.io, queue);
          return;
        }
        if (queue.runId === null) {
          context.io.out(`No kernel link run of ${queue.dataset} yet, so nothing to review.`);
          return;
        }
        context.io.out(
          `${queue.pairs.length} pairs of ${queue.dataset} await review from run ${queue.runId}` +
            `${queue.band ? ` (match probability ${queue.band[0]} to ${queue.band[1]})` : ''}.`,
        );
        if (queue.pairs.length > 0)
          context.io.out(
            formatTable(
              ['pair', 'provider', 'month', 'line', 'probability', 'weight', 'linked'],
              queue.pairs.map((p) => [
                p.pairId,
                p.org,
                p.period,
                p.sourceLine,
                p.probability.toFixed(4),
                p.weight.toFixed(2),
                p.linked ? 'yes' : 'no',
              ]),
            ),
          );
      },
    );

  linkage
    .command('explain')
    .description("a pair's match weight as a waterfall, comparison by comparison")
    .requiredOption('--left <file>', 'an encoded file')
    .requiredOption('--right <file>', 'another encoded file, under the same secret')
    .requiredOption('--pair <left,right>', 'the two record ids')
    .option('--json', 'print the explanation as JSON')
    .action(async (options: { left: string; right: string; pair: string; json?: boolean }) => {
      const [leftId, rightId, ...rest] = options.pair.split(',');
      if (!leftId || !rightId || rest.length > 0) {
        throw new KernelError(
          'usage',
          `--pair must be two record ids separated by a comma, not ${options.pair}`,
          {
            hint: 'For example --pair A17,B204',
          },
        );
      }
      const result = await linkEncodedFiles({ left: options.left, right: options.right });
      const explanation = result.explain(leftId, rightId);
      if (options.json) {
        printJson(context.io, explanation);
        return;
      }
      printWaterfall(explanation, (text) => context.io.out(text));
    });
};
