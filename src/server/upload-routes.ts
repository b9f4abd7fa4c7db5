import { copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { listDatasets } from '../catalogue/catalogue.ts';
import { KernelError } from '../errors.ts';
import { loadFeed, LoadRefusedError } from '../ingest/load-feed.ts';
import { reportJson, type LoadReport } from '../ingest/load-history.ts';
import { loadReportSchema } from '../ingest/load-schemas.ts';
import { manifestPathFor } from '../privacy/manifest.ts';
import { isUploadedFile, type UploadedFile } from './request-body.ts';
import type { RouteDeclaration, RouteRequest, ServerDeps } from './routes.ts';

const WHO = ['admin', 'provider'] as const;

interface FormError {
  text: string;
  href: string;
}

interface UploadOutcome {
  report: LoadReport | undefined;
  error: KernelError | undefined;
}

/**
 * Puts the uploaded file and its manifest side by side in a private temporary folder, as
 * `kernel load` finds them on disk, and runs the same `loadFeed`. Nothing of the upload
 * stays on disk afterwards.
 */
async function loadUpload(
  deps: ServerDeps,
  r: RouteRequest,
  errors: FormError[],
  options: { fromManifest?: boolean } = {},
): Promise<UploadOutcome | undefined> {
  const form = await r.form();
  let dataset = typeof form.dataset === 'string' ? form.dataset.trim() : '';
  const file = form.file;
  const manifest = form.manifest;
  let org =
    r.principal?.role === 'provider'
      ? (r.principal.org ?? '')
      : typeof form.org === 'string'
        ? form.org.trim().toUpperCase()
        : '';
  if (options.fromManifest) {
    // A pushing system sends the pair alone: the signed manifest says whose feed it is and of
    // what, so it is read first. A provider's token sends only its own organisation's feeds.
    if (!isUploadedFile(manifest) || manifest.size === 0) {
      errors.push(MISSING_MANIFEST);
      return undefined;
    }
    const named = manifestNames(manifest);
    if (!(dataset || named.dataset) || !(org || named.organisation)) {
      throw new KernelError('invalid-input', 'The manifest names no organisation or dataset', {
        where: { field: 'manifest' },
        hint: MANIFEST_HINT,
      });
    }
    dataset ||= named.dataset;
    if (r.principal?.role !== 'provider') org ||= named.organisation;
    else if (named.organisation && named.organisation !== org) {
      throw new KernelError(
        'forbidden',
        `This token sends ${org}'s feeds, and the manifest is ${named.organisation}'s`,
        {
          hint: `Send it with a token of ${named.organisation}`,
        },
      );
    }
  }
  if (!dataset) errors.push({ text: 'Select the dataset the file holds', href: '#dataset' });
  if (!org) errors.push({ text: 'Enter the sending organisation’s ODS code', href: '#org' });
  if (!isUploadedFile(file) || file.size === 0)
    errors.push({ text: 'Select the pseudonymised file', href: '#file' });
  if (!isUploadedFile(manifest) || manifest.size === 0) errors.push(MISSING_MANIFEST);
  if (errors.length || !isUploadedFile(file) || !isUploadedFile(manifest)) return undefined;

  const dir = mkdtempSync(path.join(os.tmpdir(), 'kernel-upload-'));
  try {
    // The upload already streamed to disk; it is moved beside its manifest under fixed names,
    // and the sender's own file name travels only as displayName.
    const stored = path.join(dir, 'upload.csv');
    moveFile(file, stored);
    moveFile(manifest, manifestPathFor(stored));
    const displayName = path.basename(file.name || 'upload.csv');
    try {
      const report = await loadFeed(deps.store, { org, dataset, file: stored, actor: r.actor, displayName });
      return { report, error: undefined };
    } catch (error) {
      if (error instanceof LoadRefusedError) return { report: error.report, error };
      if (error instanceof KernelError) return { report: undefined, error };
      throw error;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const MISSING_MANIFEST: FormError = {
  text: 'Select the file’s manifest (.manifest.json)',
  href: '#manifest',
};
const MANIFEST_HINT = 'Send the manifest kernel deid wrote beside the file (NAME.manifest.json)';

/**
 * The organisation and dataset a manifest names, or empty strings where it names none (the
 * load itself says what else is wrong with it). A manifest that is not JSON is refused here,
 * naming the part, since a pushed feed's organisation and dataset come from it.
 */
function manifestNames(manifest: UploadedFile): { organisation: string; dataset: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(manifest.path, 'utf8'));
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new KernelError('invalid-input', 'The manifest is not a JSON object', {
      where: { field: 'manifest' },
      hint: MANIFEST_HINT,
    });
  }
  const named = parsed as { organisation?: unknown; dataset?: unknown };
  return {
    organisation: typeof named.organisation === 'string' ? named.organisation : '',
    dataset: typeof named.dataset === 'string' ? named.dataset : '',
  };
}

/** Moves an uploaded file (copies it where a rename cannot cross file systems). */
function moveFile(file: UploadedFile, to: string): void {
  try {
    renameSync(file.path, to);
  } catch {
    copyFileSync(file.path, to);
  }
}

/** Upload from the browser (and the API): the same load path as `kernel load`. */
export function uploadRoutes(deps: ServerDeps): RouteDeclaration[] {
  const datasets = () => listDatasets().map((d) => ({ id: d.id, title: d.title }));
  const page = (
    r: RouteRequest,
    vars: { errors?: FormError[]; values: Record<string, unknown> },
    status = 200,
  ) =>
    r.render(
      'upload.njk',
      {
        title: 'Upload a file',
        datasets: datasets(),
        ownOrg: r.principal?.role === 'provider' ? r.principal.org : null,
        ...vars,
      },
      status,
    );
  /** An API load: the report, 422 with it and why when refused, or a clear 400 for a missing field. */
  const apiLoad =
    (fromManifest: boolean) =>
    async (r: RouteRequest): Promise<Response> => {
      const errors: FormError[] = [];
      const outcome = await loadUpload(deps, r, errors, { fromManifest });
      if (!outcome) {
        const first = errors[0] as FormError;
        throw new KernelError('usage', first.text, {
          where: { field: first.href.slice(1) },
          hint: `Send multipart/form-data with ${fromManifest ? 'the file and its manifest' : 'dataset, file and manifest'}`,
        });
      }
      // A refusal answers its report with why (the caller may not read the load's record).
      if (outcome.report) return r.json(reportJson(outcome.report, outcome.error), outcome.error ? 422 : 200);
      throw outcome.error;
    };
  return [
    {
      method: 'GET',
      path: '/upload',
      kind: 'page',
      access: WHO,
      nav: 'Upload',
      summary: 'Upload a pseudonymised file and its manifest',
      handle: (r) => page(r, { values: {} }),
    },
    {
      method: 'POST',
      path: '/upload',
      kind: 'page',
      access: WHO,
      takesFile: true,
      summary: 'Load an uploaded file and show its report',
      handle: async (r) => {
        const errors: FormError[] = [];
        const outcome = await loadUpload(deps, r, errors);
        const form = await r.form();
        const values = { dataset: form.dataset, org: form.org };
        if (!outcome) return page(r, { errors, values }, 400);
        if (outcome.report?.loadId) return r.redirect(`/loads/${outcome.report.loadId}?uploaded=1`);
        const error = outcome.error as KernelError;
        const field = error.where?.field;
        return page(
          r,
          {
            errors: [
              {
                text: `The file was not loaded: ${error.message}${error.hint ? `. ${error.hint}` : ''}`,
                href: field ? `#${field}` : '#file',
              },
            ],
            values,
          },
          422,
        );
      },
    },
    {
      method: 'POST',
      path: '/api/v1/loads',
      kind: 'api',
      access: WHO,
      summary: 'Load a pseudonymised file with its manifest; answers the load report',
      takesFile: true,
      body: {
        contentType: 'multipart/form-data',
        description:
          'fields: dataset, org (administrators only; a provider loads as its own organisation), file, manifest',
      },
      response: loadReportSchema,
      handle: apiLoad(false),
    },
    {
      method: 'POST',
      path: '/api/v1/feeds',
      kind: 'api',
      access: WHO,
      summary:
        'A system pushes a feed: the pseudonymised file and its signed manifest, which names the organisation and dataset (a provider’s token sends only its own organisation’s feeds)',
      takesFile: true,
      body: { contentType: 'multipart/form-data', description: 'fields: file, manifest' },
      response: loadReportSchema,
      handle: apiLoad(true),
    },
  ];
}
