/**
 * A small dataset specification for tests of the rules: content fields, optional unless
 * said, and the header every such specification shares.
 */
import type { CodeList, DatasetSpec, FieldSpec } from '../src/catalogue/dataset-spec.ts';

export function contentField(
  name: string,
  type: FieldSpec['type'],
  more: Partial<FieldSpec> = {},
): FieldSpec {
  return { name, title: name, type, required: false, role: 'content', ...more };
}

export function testSpec(
  id: string,
  fields: FieldSpec[],
  more: Pick<DatasetSpec, 'periodField' | 'dateOrder'> & Partial<DatasetSpec>,
): DatasetSpec {
  return {
    id,
    title: id,
    description: `Test dataset ${id}`,
    version: '1.0.0',
    standard: 'none',
    subject: 'patient',
    suppliers: ['acute'],
    fields,
    ...more,
  };
}

/**
 * A code list for tests of the rules: its codes, each meaning itself; with `schemeShape`, a
 * subset of a larger scheme, whose other codes are valid when of that shape.
 */
export function testCodeList(id: string, codes: string[], schemeShape?: string): CodeList {
  return {
    id,
    title: id,
    source: 'test',
    codes: codes.map((code) => ({ code, meaning: code })),
    ...(schemeShape ? { subset: true, pattern: schemeShape } : {}),
  };
}
