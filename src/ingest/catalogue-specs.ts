/**
 * The load's and the agent's view of the catalogue: a dataset's specification and its code
 * lists, by id (src/catalogue/catalogue.ts).
 */
import { getCodeList, getDataset } from '../catalogue/catalogue.ts';
import type { SpecSource } from './load-feed.ts';

export const catalogueSpecs: SpecSource = {
  spec: (id) => getDataset(id),
  codeList(id) {
    try {
      return getCodeList(id);
    } catch {
      return undefined;
    }
  },
};
