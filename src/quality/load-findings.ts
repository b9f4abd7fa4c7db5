/**
 * What a load found, as its report and its profile hold it: each rule's rows (with the first
 * line of the sender's extract), and how complete each field is. Here, with the rules, so
 * that the load (src/ingest/) and the check catalogue both depend on them, not on each other.
 */
import type { RuleId } from './row-rules.ts';

export interface LoadFinding {
  rule: RuleId;
  field: string | null;
  count: number;
  /** the first line of the sender's extract with this problem */
  firstLine: number | null;
  /** for a control total: the sender's own figure, and the load's */
  expected?: number;
  actual?: number;
}

export interface FieldCompleteness {
  field: string;
  filled: number;
  /** filled ÷ rows kept, as a percentage to one decimal place */
  percent: number;
}
