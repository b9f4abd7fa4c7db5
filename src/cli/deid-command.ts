import { readFileSync } from 'node:fs';
import { KernelError } from '../errors.ts';
import { catalogueSpecs } from '../ingest/catalogue-specs.ts';
import { deidentifyFile } from '../privacy/deidentify-file.ts';
import { readLinkKeyFile } from '../privacy/link-key.ts';
import { readLinkageSecretFile } from '../privacy/linkage-secret.ts';
import { readPostcodeLookup } from '../privacy/postcode-lookup.ts';
import { readSigningPrivateKey } from '../privacy/signing-key.ts';
import { readSourceMapping } from '../privacy/source-mapping.ts';
import { hmacTokeniser, openPseudonymiserTokeniser, type Tokeniser } from '../privacy/token-scheme.ts';
import { deidPlan } from '../privacy/deid-plan.ts';
import { validControlTotals, type ControlTotals } from '../privacy/manifest.ts';
import { printJson, type RegisterCommands } from './cli-context.ts';
import { progressBar } from './load-command.ts';
import { formatMappingReport } from './mappings-command.ts';

interface DeidOptions {
  key?: string;
  sign?: string;
  org: string;
  dataset: string;
  in: string;
  out: string;
  period?: string;
  postcodes?: string;
  scheme: string;
  saltFile?: string;
  linkageSecret?: string;
  send?: string;
  tokenFile?: string;
  controlTotals?: string;
  mapping?: string;
  json?: boolean;
}

/** `kernel deid`: the de-identification agent each organisation runs on its own machine. */
export const registerDeidCommands: RegisterCommands = (program, context) => {
  program
    .command('deid')
    .description(
      'pseudonymise an identifiable extract into a file the warehouse accepts, with a signed manifest',
    )
    .option('--key <file>', 'the link key (from the key custodian)')
    .option('--sign <file>', "this organisation's signing key (kernel keys new-signing)")
    .requiredOption('--org <ods>', "this organisation's ODS code")
    .requiredOption('--dataset <id>', 'the dataset the extract is (kernel datasets)')
    .requiredOption('--in <file>', 'the identifiable extract (CSV with a header row)')
    .requiredOption(
      '--out <file>',
      'where to write the pseudonymised file; the manifest goes to OUT.manifest.json',
    )
    .option('--period <YYYY-MM>', 'the reporting month (default: the one month the rows fall in)')
    .option('--postcodes <file>', 'postcode lookup in the ONS Postcode Directory layout (pcds, lsoa11, imd)')
    .option('--scheme <scheme>', "'kernel' (HMAC-SHA256 with the link key) or 'openpseudonymiser'", 'kernel')
    .option('--salt-file <file>', 'the salt, for --scheme openpseudonymiser')
    .option(
      '--linkage-secret <file>',
      'the linkage secret: also write OUT.linkage.csv, Bloom-filter encodings for linkage without an NHS number',
    )
    .option(
      '--send <url>',
      'then push the file and its manifest to the warehouse at this address (POST /api/v1/feeds)',
    )
    .option(
      '--token-file <file>',
      "the file holding this organisation's API token for --send (or KERNEL_FEED_TOKEN)",
    )
    .option(
      '--control-totals <file>',
      'JSON of your own system’s totals for the extract, {"rows": N, "sums": {"field": total}}, for the load to check',
    )
    .option(
      '--mapping <file>',
      "this organisation's source mapping: the extract is in its local layout (kernel mappings check)",
    )
    .option(
      '--json',
      'print the manifest as JSON (with the mapping report as "mapping" when --mapping is given)',
    )
    .action(async (options: DeidOptions) => {
      // Checked before the work: a feed made to be sent and then not sendable helps no one.
      const token = options.send ? feedToken(options.tokenFile) : undefined;
      const config = context.config().config;
      const spec = catalogueSpecs.spec(options.dataset);
      const mapping = options.mapping ? readSourceMapping(options.mapping) : undefined;
      if (options.linkageSecret && !spec.linkageEncoding) {
        throw new KernelError('usage', `The dataset ${spec.id} does not ask for linkage encodings`, {
          hint: 'Leave out --linkage-secret, or use a dataset whose specification has linkageEncoding',
        });
      }
      const linkageSecret = options.linkageSecret ? readLinkageSecretFile(options.linkageSecret) : undefined;
      const tokeniser = makeTokeniser(options, config.keyPath, deidPlan(spec).nhsNumberField ?? 'NHSNumber');
      const signPath = options.sign ?? config.signingKeyPath;
      if (!signPath) {
        throw new KernelError('usage', 'No signing key given', {
          hint: "Give --sign with this organisation's key (made by `kernel keys new-signing`)",
        });
      }
      const signing = readSigningPrivateKey(signPath);
      const postcodePath = options.postcodes ?? config.postcodeLookupPath;
      const postcodes = postcodePath ? await readPostcodeLookup(postcodePath) : undefined;
      const bar = progressBar(context.io, 'pseudonymise');
      const result = await deidentifyFile({
        spec,
        org: options.org.trim().toUpperCase(),
        input: options.in,
        output: options.out,
        tokeniser,
        ...(postcodes ? { postcodes } : {}),
        signing,
        ...(options.period ? { period: options.period } : {}),
        ...(linkageSecret ? { linkageSecret } : {}),
        ...(options.controlTotals ? { controlTotals: readControlTotals(options.controlTotals) } : {}),
        ...(mapping ? { mapping } : {}),
        onProgress: (done, total) => bar.update(done, total),
      });
      bar.done();
      if (options.json) {
        printJson(
          context.io,
          result.mapping ? { ...result.manifest, mapping: result.mapping } : result.manifest,
        );
        return;
      }
      if (result.mapping) context.io.out(formatMappingReport(result.mapping));
      const m = result.manifest;
      const problems = Object.entries(m.nhsNumberProblems)
        .map(([kind, p]) => `${p?.count ?? 0} ${kind} (first on line ${p?.firstLine ?? '?'})`)
        .join(', ');
      context.io.out(
        `Pseudonymised ${m.rowCount} rows of ${m.dataset} for ${m.organisation}, period ${m.period}, in ${result.seconds.toFixed(1)} s.`,
      );
      if (result.bom) context.io.out('The extract began with a UTF-8 byte-order mark; it was ignored.');
      if (result.periodNotInRows) {
        context.io.err(
          `Warning: ${result.periodNotInRows}. Check --period: the warehouse refuses this file if it would replace a load of ${m.period}.`,
        );
      }
      context.io.out(`NHS numbers without a token: ${problems || 'none'}.`);
      // Counts and lines only: a date of birth is an identifier, so it is never echoed.
      const births = Object.entries(m.birthDateProblems ?? {})
        .map(([field, p]) => `${p.count} in ${field} (first on line ${p.firstLine ?? '?'})`)
        .join(', ');
      if (births) context.io.out(`Dates of birth not read, so age and birth month are empty: ${births}.`);
      if (!postcodes && deidPlan(spec).columns.some((c) => c.kind === 'lsoa')) {
        context.io.out('No postcode lookup was given (--postcodes), so LSOA and IMD decile are empty.');
      }
      context.io.out(
        `Wrote ${result.output} and ${result.manifestFile} (signed with ${m.signingKeyId}, link key ${m.keyId}).`,
      );
      if (result.linkage) {
        context.io.out(
          `Wrote ${result.linkage.file}: ${result.linkage.rows} linkage encodings (${result.linkage.scheme}, secret ${result.linkage.secretId}).`,
        );
      }
      if (options.send && token) {
        const { sendFeed } = await import('../privacy/send-feed.ts');
        const sent = await sendFeed(options.send, token, result.output);
        const r = sent.report;
        context.io.out(
          `Sent to ${options.send}: ${r.status}${r.loadId ? ` as ${r.loadId}` : ''}` +
            `${r.status === 'loaded' ? ` (${r.rowsLoaded} of ${r.rowsRead} rows loaded)` : ''}.`,
        );
      }
    });
};

/** The organisation's API token for --send, from the file named or KERNEL_FEED_TOKEN; never printed. */
function feedToken(file: string | undefined): string {
  const token = (file ? readTokenFile(file) : process.env.KERNEL_FEED_TOKEN)?.trim();
  if (!token) {
    throw new KernelError('usage', '--send needs the organisation’s API token', {
      where: { field: 'token-file' },
      hint: 'Give --token-file FILE (the token kernel tokens new printed) or set KERNEL_FEED_TOKEN',
    });
  }
  return token;
}

function readTokenFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    throw new KernelError('not-found', `Cannot read the token file ${file}`, { where: { file } });
  }
}

function makeTokeniser(options: DeidOptions, keyPath: string | undefined, nhsField: string): Tokeniser {
  if (options.scheme === 'openpseudonymiser') {
    if (!options.saltFile) {
      throw new KernelError('usage', 'The OpenPseudonymiser scheme needs a salt', {
        hint: 'Give --salt-file FILE',
      });
    }
    let salt: string;
    try {
      salt = readFileSync(options.saltFile, 'utf8').replace(/\r?\n$/, '');
    } catch {
      throw new KernelError('not-found', `Cannot read the salt file ${options.saltFile}`, {
        hint: 'Check the path',
      });
    }
    return openPseudonymiserTokeniser(nhsField, salt);
  }
  if (options.scheme !== 'kernel') {
    throw new KernelError('usage', `Unknown scheme "${options.scheme}"`, {
      hint: "Use 'kernel' or 'openpseudonymiser'",
    });
  }
  const file = options.key ?? keyPath;
  if (!file) {
    throw new KernelError('usage', 'No link key given', {
      hint: 'Give --key with the link key file from the key custodian',
    });
  }
  return hmacTokeniser(readLinkKeyFile(file));
}

/** The sender's own totals for the extract, checked before anything is written. */
function readControlTotals(file: string): ControlTotals {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new KernelError('invalid-input', `The control totals in ${file} are not JSON`, {
      where: { file },
      hint: 'Write {"rows": 1234, "sums": {"Cost": 5678.9}}',
    });
  }
  if (!validControlTotals(parsed)) {
    throw new KernelError(
      'invalid-input',
      'Control totals are {"rows": a whole number, "sums": {field: number}, "distinctPeople": a whole number, "byMonth": {"field": date field, "rows": {"YYYY-MM": a whole number}}}',
      {
        where: { file },
        hint: 'Write {"rows": 1234, "sums": {"Cost": 5678.9}}',
      },
    );
  }
  return parsed;
}
