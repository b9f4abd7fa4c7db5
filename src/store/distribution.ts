/**
 * How Kernel's tables would spread over many machines (docs/scale.md): with Citus, every
 * person-level table is distributed by `person_token` and all of them are colocated, so the
 * rows about one person, in every dataset and in the spine, sit on one machine and no join
 * in the load path or in a person-level analysis crosses machines. Governance tables are
 * reference tables, copied to every machine.
 *
 * Every `ds_*` and `kid_*` table holds person-level rows and carries `person_token`, but
 * those below, each with what it is distributed by instead: another subject's token, or
 * `reference` (small tables, copied to every machine). distribution.int.test.ts reads a
 * migrated store's schema on both engines and fails for any table that is neither.
 */
export const DISTRIBUTION_KEY = 'person_token';

export const NOT_BY_PERSON: Readonly<Record<string, { by: string; why: string }>> = {
  ds_esr: { by: 'staff_token', why: 'the workforce record: about staff, who carry no person token' },
  ds_fire_safety: { by: 'uprn_token', why: 'home fire safety visits: about a dwelling, not a person' },
  kid_fire_visit: { by: 'uprn_token', why: 'the spine’s household visits, colocated with ds_fire_safety' },
  kid_builds: { by: 'reference', why: 'one row per build of the spine' },
  kid_current: { by: 'reference', why: 'one row: which build readers use' },
  kid_disagreements: { by: 'reference', why: 'counts of people per field per build' },
  kid_linkage: { by: 'reference', why: 'counts per dataset, organisation and month' },
  kid_code_list: { by: 'reference', why: 'the code lists that define each condition' },
  kid_efi_code: { by: 'reference', why: 'the code lists that define each eFI deficit' },
  kid_unit_cost: { by: 'reference', why: 'the unit costs of each point of delivery, with their source' },
  kid_risk_fit: { by: 'reference', why: 'one row per fit of the risk model: its date, AUROC, inputs' },
  kid_risk_model: { by: 'reference', why: 'the risk model’s coefficients' },
  kid_risk_calibration: { by: 'reference', why: 'the risk model’s calibration, ten rows per fit' },
  kid_build_loads: {
    by: 'reference',
    why: 'the loads each build read, so the next rebuilds only what changed',
  },
  kid_linkage_load: {
    by: 'reference',
    why: 'the linkage report’s counts per load, provider and month, per build',
  },
  kid_area_summary: {
    by: 'reference',
    why: 'counts of people per area and group of the dashboard, per build',
  },
  kid_area_panels: {
    by: 'reference',
    why: 'the same counts per area packed for the dashboard’s reads, per build',
  },
};
