/**
 * The Kent and Medway members as reference data: `members.json`, one list read by governance
 * (the organisations it registers), the catalogue's own test (each member supplies only
 * datasets its type may) and the synthetic world (the members it makes feeds for), so the
 * three can never disagree about who the members are or what each sends.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface MemberSpec {
  code: string;
  codeSystem: 'ods' | 'gss' | 'local';
  codeVerified: boolean;
  codeNote?: string;
  name: string;
  /** acute, community, mental-health, out-of-hours, icb, local-authority, fire-and-rescue */
  type: string;
  kernelRole?: 'data-controller' | 'lead-controller' | 'processor';
  population: number;
  incomePence: number;
  /** the datasets it sends today, in the order the synthetic world writes them */
  supplies: string[];
  /** whether the synthetic world makes this member and its feeds */
  syntheticWorld: boolean;
}

const FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'members.json');
const DATA = JSON.parse(readFileSync(FILE, 'utf8')) as {
  gpPracticeSupplies: string[];
  members: MemberSpec[];
};

export const MEMBERS: readonly MemberSpec[] = DATA.members;

/** What a GP practice sends (practices are many and synthetic; their supply is one list). */
export const GP_PRACTICE_SUPPLIES: readonly string[] = DATA.gpPracticeSupplies;

export function findMember(code: string): MemberSpec | undefined {
  return MEMBERS.find((m) => m.code === code);
}
