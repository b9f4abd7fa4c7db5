import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import nunjucks from 'nunjucks';
import { listDatasets } from '../catalogue/catalogue.ts';

/**
 * The members' names by ODS code, for templates. One server serves one warehouse: the app
 * refreshes this from the organisation register (`refreshOrganisationNames`), and every view
 * engine reads the same map.
 */
const ORGANISATION_NAMES: Record<string, string> = {};

export function setOrganisationNames(names: Record<string, string>): void {
  for (const code of Object.keys(ORGANISATION_NAMES)) if (!(code in names)) delete ORGANISATION_NAMES[code];
  Object.assign(ORGANISATION_NAMES, names);
}

/** Portal templates: ours, and a domain's own in sub-folders (`templates/maternity/…`). */
export const TEMPLATES_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'templates');

/** `node_modules/nhsuk-frontend/dist`, whose `nhsuk/…` templates and macros we render with. */
export const NHSUK_DIST_DIR = path.resolve(
  path.dirname(createRequire(import.meta.url).resolve('nhsuk-frontend')),
  '..',
);

/**
 * The Nunjucks environment. Autoescape is on, so every inserted value is HTML-escaped
 * unless a template marks it `| safe` (only ever for markup built by NHS.UK macros).
 */
export function createViewEngine(): nunjucks.Environment {
  const loader = new nunjucks.FileSystemLoader([TEMPLATES_DIR, NHSUK_DIST_DIR], { noCache: false });
  const env = new nunjucks.Environment(loader, { autoescape: true, throwOnUndefined: false });
  // People read names, not codes (issue 22, item 7): `orgLabel` and `datasetLabel` in
  // macros.njk show "Maidstone and Tunbridge Wells NHS Trust (RWF)", "Admitted patient care (apc)".
  env.addGlobal('orgNames', ORGANISATION_NAMES);
  env.addGlobal('datasetTitles', Object.fromEntries(listDatasets().map((d) => [d.id, d.title])));
  env.addFilter('number', (value: unknown) =>
    typeof value === 'number'
      ? value.toLocaleString('en-GB')
      : value === null || value === undefined
        ? ''
        : value,
  );
  env.addFilter('percent', (value: unknown) =>
    typeof value === 'number'
      ? `${(value * 100).toLocaleString('en-GB', { maximumFractionDigits: 1 })}%`
      : '',
  );
  env.addFilter('datetime', (value: unknown) =>
    typeof value === 'string' ? value.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC') : '',
  );
  return env;
}
