import { MEMBERS } from '../catalogue/members.ts';
import type { Contact, Organisation, OrgType } from './organisations.ts';

/**
 * The Kent and Medway members as governance registers them, from the one list of members
 * (`src/catalogue/members.json`, from `shared/reference/nhs-datasets.md` §8). Codes the
 * reference marks unverified stay `codeVerified: false` with the reason; councils are
 * keyed by their ONS GSS codes because their ODS codes are unverified and district
 * councils normally have none. Kent Fire and Rescue Service is not in §8: it carries the
 * synthetic world's clearly-marked local code `KFRS` so its fire-safety feed has an owner.
 *
 * Population and income figures are illustrative round numbers for the demo's funding
 * model, not published figures. Contacts are role mailboxes at example.org (RFC 2606),
 * never real people.
 */

function contacts(code: string): Contact[] {
  const mailbox = (role: string): string => `${role}.${code.toLowerCase()}@example.org`;
  return [
    { role: 'chief-executive', name: 'Chief Executive', email: mailbox('chief-executive') },
    { role: 'ig-lead', name: 'Information Governance Lead', email: mailbox('ig-lead') },
    { role: 'finance', name: 'Director of Finance', email: mailbox('finance') },
  ];
}

export const KENT_AND_MEDWAY_MEMBERS: readonly Organisation[] = MEMBERS.map((member) => ({
  code: member.code,
  codeSystem: member.codeSystem,
  codeVerified: member.codeVerified,
  codeNote: member.codeNote ?? null,
  name: member.name,
  type: member.type as OrgType,
  kernelRole: member.kernelRole ?? 'data-controller',
  population: member.population,
  incomePence: member.incomePence,
  contacts: contacts(member.code),
}));
