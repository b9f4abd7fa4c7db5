/**
 * The public files Kernel's reference geography is loaded from, by kind: which columns of
 * each file's published layout become which columns of which `ref_*` table. The content is
 * the file's; only the layout is known here (docs/geography.md names each source).
 */

export type ValueType = 'code' | 'text' | 'integer' | 'date' | 'optional-date';

export interface LayoutColumn {
  /**
   * the column's heading in the published file, matched without regard to case; `#` stands
   * for any digit, so next year's file (`WD24CD` for `WD##CD`) loads with the same layout
   */
  header: string;
  /** the `ref_*` table column it fills */
  column: string;
  type: ValueType;
}

export interface GeographyLayout {
  kind: string;
  /** what a person reads in a list of releases */
  title: string;
  table: string;
  columns: LayoutColumn[];
}

export const GEOGRAPHY_LAYOUTS: readonly GeographyLayout[] = [
  {
    kind: 'lsoa-2011-2021',
    title: 'LSOA 2011 → LSOA 2021 (ONS)',
    table: 'ref_lsoa_2011_2021',
    columns: [
      { header: 'LSOA11CD', column: 'lsoa11_code', type: 'code' },
      { header: 'LSOA11NM', column: 'lsoa11_name', type: 'text' },
      { header: 'LSOA21CD', column: 'lsoa21_code', type: 'code' },
      { header: 'LSOA21NM', column: 'lsoa21_name', type: 'text' },
      { header: 'CHGIND', column: 'change_indicator', type: 'code' },
      { header: 'LAD##CD', column: 'lad_code', type: 'code' },
    ],
  },
  {
    kind: 'imd',
    title: 'Index of Multiple Deprivation by LSOA (MHCLG)',
    table: 'ref_imd',
    columns: [
      { header: 'LSOA code (####)', column: 'lsoa_code', type: 'code' },
      { header: 'Index of Multiple Deprivation (IMD) Rank', column: 'imd_rank', type: 'integer' },
      { header: 'Index of Multiple Deprivation (IMD) Decile', column: 'imd_decile', type: 'integer' },
    ],
  },
  {
    kind: 'ward-lad',
    title: 'LSOA 2021 → electoral ward → local authority district (ONS best fit)',
    table: 'ref_ward',
    columns: [
      { header: 'LSOA21CD', column: 'lsoa21_code', type: 'code' },
      { header: 'WD##CD', column: 'ward_code', type: 'code' },
      { header: 'WD##NM', column: 'ward_name', type: 'text' },
      { header: 'LAD##CD', column: 'lad_code', type: 'code' },
      { header: 'LAD##NM', column: 'lad_name', type: 'text' },
    ],
  },
  {
    kind: 'practice-pcn',
    title: 'Practice → primary care network, with dates (NHS England ePCN)',
    table: 'ref_practice_pcn',
    columns: [
      { header: 'Partner Organisation Code', column: 'practice_code', type: 'code' },
      { header: 'PCN Code', column: 'pcn_code', type: 'code' },
      { header: 'PCN Name', column: 'pcn_name', type: 'text' },
      { header: 'Practice to PCN Relationship Start Date', column: 'valid_from', type: 'date' },
      { header: 'Practice to PCN Relationship End Date', column: 'valid_to', type: 'optional-date' },
    ],
  },
];

export function layoutOf(kind: string): GeographyLayout | undefined {
  return GEOGRAPHY_LAYOUTS.find((l) => l.kind === kind);
}
