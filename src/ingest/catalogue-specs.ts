/**
 * The load's and the agent's view of the catalogue: a dataset's specification and its code
 * lists, by id.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CodeList, DatasetSpec } from '../catalogue/dataset-spec.ts';
import { KernelError } from '../errors.ts';
import type { SpecSource } from './load-feed.ts';

const CATALOGUE_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'catalogue');
const specs = new Map<string, DatasetSpec>();
const lists = new Map<string, CodeList | undefined>();

export const catalogueSpecs: SpecSource = {
  spec(id) {
    const cached = specs.get(id);
    if (cached) return cached;
    const file = path.join(CATALOGUE_DIR, 'datasets', `${id}.json`);
    if (!/^[a-z0-9-]+$/.test(id) || !existsSync(file)) {
      throw new KernelError('not-found', `There is no dataset "${id}"`, {
        hint: 'Run `kernel datasets` to list them',
      });
    }
    const spec = JSON.parse(readFileSync(file, 'utf8')) as DatasetSpec;
    specs.set(id, spec);
    return spec;
  },
  codeList(id) {
    if (!lists.has(id)) {
      const file = path.join(CATALOGUE_DIR, 'code-lists', `${id}.json`);
      lists.set(id, existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as CodeList) : undefined);
    }
    return lists.get(id);
  },
};
