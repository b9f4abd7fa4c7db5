/**
 * Issue 12: "every read goes through the access policy" made a rule the build checks, not a
 * convention. Code names a warehouse table (`ds_…`, or through `tableName` /
 * `warehouseTable`) only in the modules below, each for a stated reason; anything else reads
 * warehouse data through the governed reader (`openGovernedRead` in access-policy.ts). A new
 * file that names a warehouse table fails this test until it reads through the reader, or its
 * reason is argued here in review.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Where naming a warehouse table is allowed, and why. */
const ALLOWED: Record<string, string> = {
  'catalogue/shapes.ts': 'defines the table name of a dataset',
  'catalogue/data-dictionary.ts': 'shows the table name on the data dictionary page (metadata)',
  'cli/datasets-command.ts': 'prints the table name beside each dataset (metadata)',
  'governance/datasets.ts': 'the governance module’s name for a dataset’s table',
  'governance/access-policy.ts': 'the governed reader itself',
  'ingest/dataset-table.ts': 'the load path: makes the table a load writes',
  'ingest/load-history.ts': 'the load path: removes the rows of a failed or interrupted load',
  'signoff/sample-rows.ts': 'the sender’s own rows at sign-off, for its own BI lead, audited',
  'kid/person-spine.ts': 'system code: builds the person spine from the loaded feeds',
  'kid/incremental-build.ts': 'system code: finds whose loaded records changed, for an incremental KID build',
  'kid/households.ts': 'system code: builds households from the loaded feeds',
  'kid/conditions.ts': 'system code: derives conditions from the loaded feeds',
  'kid/frailty.ts': 'system code: derives the eFI from the loaded feeds; read through openKidRead',
  'kid/linkage-report.ts': 'system code: counts each feed’s rows that reach the spine (metadata)',
  'kid/person-model.ts': 'system code: counts each person’s activity for the person-level model',
  'kid/risk.ts': 'system code: fits the emergency admission risk model from the loaded feeds',
  'linkage/link-people.ts': 'system code: links records without an NHS number to the spine',
  'store/distribution.ts': 'names each table that is not distributed by person (schema metadata, no read)',
};

/**
 * The Kent Integrated Dataset's person-level tables (`kid_…`) hold what the feeds say about
 * each person: they are read through the KID's reader (`openKidRead`, which asks the policy),
 * and named only by the code that builds them and these modules.
 */
const KID_ALLOWED: Record<string, string> = {
  'kid/person-spine.ts': 'system code: builds the spine and its views',
  'kid/incremental-build.ts': 'system code: copies the unchanged people of a build',
  'kid/households.ts': 'system code: builds households',
  'kid/conditions.ts': 'system code: derives conditions',
  'kid/frailty.ts': 'system code: derives the eFI (frailty); read through openKidRead',
  'kid/linkage-report.ts': 'system code: the linkage report (metadata)',
  'kid/person-model.ts': 'system code: builds the person-level model; its summary is read after openKidRead',
  'kid/risk.ts': 'system code: fits and scores the emergency admission risk model',
  'kid/area-summary.ts':
    'system code: builds the dashboard’s summary of the model; read only by population-health.ts after openKidRead',
  'kid/population-health.ts':
    'the population health dashboard, counted only after openKidRead has decided and audited the read',
  'linkage/link-people.ts': 'system code: links records without an NHS number to the spine',
  'cohorts/person-frame.ts':
    'the cohort builder’s person frame, run only after openKidRead has decided and audited the read',
  'workspace/kid-views.ts':
    'the KID’s views in a workspace, each made only after openKidRead has decided and audited the read',
  'store/distribution.ts':
    'names the KID tables that are not distributed by person (schema metadata, no read)',
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) return sourceFiles(file);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [file] : [];
  });
}

/** The code of a file without its comments (a comment may name a table: it reads nothing). */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
}

const NAMES_A_TABLE = /\bds_[a-z][a-z_]*\b|\btableName\(|\bwarehouseTable\(/;

describe('reads of warehouse tables', () => {
  const naming = sourceFiles(SRC)
    .filter((file) => NAMES_A_TABLE.test(code(readFileSync(file, 'utf8'))))
    .map((file) => path.relative(SRC, file).split(path.sep).join('/'))
    .sort();

  it('happen only in the modules allowed to name a warehouse table', () => {
    expect(naming.filter((file) => !(file in ALLOWED))).toEqual([]);
  });

  it('keeps the list true: every module allowed still needs to be', () => {
    expect(Object.keys(ALLOWED).filter((file) => !naming.includes(file))).toEqual([]);
  });

  it('would catch a new read', () => {
    expect(NAMES_A_TABLE.test(code('const rows = await q.query(`SELECT * FROM ds_apc`);'))).toBe(true);
    expect(NAMES_A_TABLE.test(code('const t = tableName(spec);'))).toBe(true);
    expect(NAMES_A_TABLE.test(code('/** reads ds_apc through the reader */\nconst x = 1;'))).toBe(false);
    expect(NAMES_A_TABLE.test(code("const code = cells[at('ods_code')];"))).toBe(false);
  });

  const namingKid = sourceFiles(SRC)
    .filter((file) => /\bkid_[a-z][a-z_]*\b/.test(code(readFileSync(file, 'utf8'))))
    .map((file) => path.relative(SRC, file).split(path.sep).join('/'))
    .sort();

  it('of the KID’s person-level tables happen only in the modules allowed to name them', () => {
    expect(namingKid.filter((file) => !(file in KID_ALLOWED))).toEqual([]);
    expect(Object.keys(KID_ALLOWED).filter((file) => !namingKid.includes(file))).toEqual([]);
  });
});
