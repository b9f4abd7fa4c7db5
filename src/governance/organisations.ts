import { appendAudit } from '../audit/audit-log.ts';
import { KernelError } from '../errors.ts';
import type { Queryable, Row } from '../store/store.ts';
import { inTransaction, nowIso, parseJsonColumn, parseOrgCode } from './governance-values.ts';
import { KENT_AND_MEDWAY_MEMBERS } from './kent-medway-members.ts';

/**
 * The organisation register: every member of the programme, keyed by its ODS code (or,
 * where it has no verified ODS code, its ONS GSS code or a local code, marked so).
 */

/** Kinds of organisation; the first six match the catalogue's `suppliers` kinds. */
export const ORG_TYPES = [
  'acute',
  'community',
  'mental-health',
  'gp',
  'local-authority',
  'fire-and-rescue',
  'out-of-hours',
  'icb',
  'other',
] as const;
export type OrgType = (typeof ORG_TYPES)[number];

/** What the organisation is to Kernel under UK GDPR Article 4(7)/(8). */
export const KERNEL_ROLES = ['data-controller', 'lead-controller', 'processor'] as const;
export type KernelRole = (typeof KERNEL_ROLES)[number];

/** Where the code comes from: NHS ODS, ONS GSS (councils, reference §8), or local. */
export type CodeSystem = 'ods' | 'gss' | 'local';

export interface Contact {
  /** e.g. chief-executive, ig-lead, dpo, finance, bi-lead */
  role: string;
  name: string;
  email: string;
}

export interface Organisation {
  code: string;
  codeSystem: CodeSystem;
  /** false while the code is unconfirmed in ODS (reference §8 and Appendix B) */
  codeVerified: boolean;
  codeNote: string | null;
  name: string;
  type: OrgType;
  kernelRole: KernelRole;
  /** registered or resident population, for funding weighted by population */
  population: number | null;
  /** annual income in pence, for funding weighted by income */
  incomePence: number | null;
  contacts: Contact[];
}

interface OrgRow extends Row {
  org_code: string;
  code_system: string;
  code_verified: boolean;
  code_note: string | null;
  name: string;
  org_type: string;
  kernel_role: string;
  population: number | null;
  income_pence: number | null;
  contacts: string;
}

function fromRow(row: OrgRow): Organisation {
  return {
    code: row.org_code,
    codeSystem: row.code_system as CodeSystem,
    codeVerified: Boolean(row.code_verified),
    codeNote: row.code_note,
    name: row.name,
    type: row.org_type as OrgType,
    kernelRole: row.kernel_role as KernelRole,
    population: row.population === null ? null : Number(row.population),
    incomePence: row.income_pence === null ? null : Number(row.income_pence),
    contacts: parseJsonColumn<Contact[]>(row.contacts, `contacts of ${row.org_code}`),
  };
}

/** A contact's role: lower-case words joined by hyphens (chief-executive, ig-lead, finance). */
const CONTACT_ROLE = /^[a-z]+(-[a-z]+)*$/;
// Deliberately loose (RFC 5321 allows far more): it catches typing mistakes, nothing else.
const EMAIL_SHAPE = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;

/** The contacts written well: a role, a name and an email address each, each role once. */
function checkContacts(code: string, contacts: readonly Contact[]): Contact[] {
  const roles = new Set<string>();
  return contacts.map((contact) => {
    const role = contact.role.trim();
    const name = contact.name.trim();
    const email = contact.email.trim();
    if (!CONTACT_ROLE.test(role)) {
      throw new KernelError('usage', `"${contact.role}" is not a contact role`, {
        where: { field: 'contact' },
        hint: 'Name the role in lower-case words joined by hyphens, e.g. chief-executive, ig-lead, finance',
      });
    }
    if (!name) {
      throw new KernelError('usage', `The ${role} contact of ${code} needs a name`, {
        where: { field: 'contact' },
      });
    }
    if (!EMAIL_SHAPE.test(email)) {
      throw new KernelError('usage', `The email of the ${role} contact of ${code} is not an email address`, {
        where: { field: 'contact' },
        hint: 'Give their work email, e.g. jo.bloggs@nhs.net',
      });
    }
    if (roles.has(role)) {
      throw new KernelError('usage', `${code} would have two ${role} contacts`, {
        where: { field: 'contact' },
        hint: 'Give each role one contact',
      });
    }
    roles.add(role);
    return { role, name, email };
  });
}

/** The longest organisation name: the register's longest are under 100, and the name is served publicly. */
const MAX_NAME_LENGTH = 200;

export function checkOrganisation(org: Organisation): Organisation {
  const code = parseOrgCode(org.code, 'code');
  if (!org.name.trim())
    throw new KernelError('usage', `Organisation ${code} needs a name`, { where: { field: 'name' } });
  if (org.name.trim().length > MAX_NAME_LENGTH) {
    throw new KernelError('usage', `The name is longer than ${MAX_NAME_LENGTH} characters`, {
      where: { field: 'name' },
      hint: 'Give the name as the ODS register writes it, e.g. Maidstone and Tunbridge Wells NHS Trust',
    });
  }
  if (!(ORG_TYPES as readonly string[]).includes(org.type)) {
    throw new KernelError('usage', `"${org.type}" is not an organisation type`, {
      where: { field: 'type' },
      hint: `Use one of: ${ORG_TYPES.join(', ')}`,
    });
  }
  if (!['ods', 'gss', 'local'].includes(org.codeSystem)) {
    throw new KernelError('usage', `"${org.codeSystem}" is not a code system`, {
      where: { field: 'codeSystem' },
      hint: 'Use ods, gss or local',
    });
  }
  if (!(KERNEL_ROLES as readonly string[]).includes(org.kernelRole)) {
    throw new KernelError('usage', `"${org.kernelRole}" is not a role for Kernel`, {
      where: { field: 'role' },
      hint: `Use one of: ${KERNEL_ROLES.join(', ')}`,
    });
  }
  for (const [field, value] of [
    ['population', org.population],
    ['income', org.incomePence],
  ] as const) {
    if (value !== null && (!Number.isSafeInteger(value) || value < 0)) {
      throw new KernelError('usage', `The ${field} of ${code} must be a whole number of at least 0`, {
        where: { field },
      });
    }
  }
  return { ...org, code, contacts: checkContacts(code, org.contacts) };
}

/** Adds an organisation to the register; a code already registered is a conflict. */
export async function registerOrganisation(
  q: Queryable,
  org: Organisation,
  actor: string,
): Promise<Organisation> {
  const checked = checkOrganisation(org);
  return inTransaction(q, async (tx) => {
    if (await findOrganisation(tx, checked.code)) {
      throw new KernelError('conflict', `Organisation ${checked.code} is already registered`, {
        hint: 'Use `kernel orgs show CODE` to see it',
      });
    }
    await insertOrganisation(tx, checked);
    await appendAudit(tx, {
      actor,
      action: 'org.registered',
      target: `org:${checked.code}`,
      details: { type: checked.type, role: checked.kernelRole, codeVerified: checked.codeVerified },
    });
    return checked;
  });
}

async function insertOrganisation(tx: Queryable, org: Organisation): Promise<void> {
  const at = nowIso();
  await tx.run(
    `INSERT INTO organisations (org_code, code_system, code_verified, code_note, name, org_type, kernel_role,
       population, income_pence, contacts, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)`,
    [
      org.code,
      org.codeSystem,
      org.codeVerified,
      org.codeNote,
      org.name,
      org.type,
      org.kernelRole,
      org.population,
      org.incomePence,
      JSON.stringify(org.contacts),
      at,
    ],
  );
}

/**
 * Registers the Kent and Medway members (reference §8) that are not yet registered.
 * Codes the reference marks unverified stay marked unverified. Running it twice changes nothing.
 */
export async function seedOrganisations(
  q: Queryable,
  actor: string,
  members: readonly Organisation[] = KENT_AND_MEDWAY_MEMBERS,
): Promise<{ added: string[]; existing: string[] }> {
  return inTransaction(q, async (tx) => {
    const known = new Set(
      (await tx.query<{ org_code: string }>('SELECT org_code FROM organisations')).map((r) => r.org_code),
    );
    const added: string[] = [];
    const existing: string[] = [];
    for (const member of members) {
      const org = checkOrganisation(member);
      if (known.has(org.code)) {
        existing.push(org.code);
        continue;
      }
      await insertOrganisation(tx, org);
      known.add(org.code);
      added.push(org.code);
    }
    if (added.length > 0) {
      await appendAudit(tx, {
        actor,
        action: 'org.seeded',
        target: 'organisations',
        details: { added: added.length, existing: existing.length, codes: added },
      });
    }
    return { added, existing };
  });
}

export async function listOrganisations(q: Queryable): Promise<Organisation[]> {
  const rows = await q.query<OrgRow>('SELECT * FROM organisations ORDER BY org_type, name');
  return rows.map(fromRow);
}

export async function findOrganisation(q: Queryable, code: string): Promise<Organisation | undefined> {
  const [row] = await q.query<OrgRow>('SELECT * FROM organisations WHERE org_code = $1', [
    code.trim().toUpperCase(),
  ]);
  return row ? fromRow(row) : undefined;
}

/** The organisation, or a `not-found` error, naming `field`, that says how to find the right code. */
export async function getOrganisation(q: Queryable, code: string, field = 'org'): Promise<Organisation> {
  const org = await findOrganisation(q, code);
  if (!org) {
    throw new KernelError('not-found', `No organisation ${code} is registered`, {
      where: { field },
      hint: 'See `kernel orgs list` for the register, or `kernel orgs seed` to register the Kent and Medway members',
    });
  }
  return org;
}

export interface OrganisationChanges {
  name?: string;
  population?: number | null;
  incomePence?: number | null;
  /** contacts to set: each replaces the one holding its role, and the others stay */
  contacts?: Contact[];
  codeVerified?: boolean;
  kernelRole?: KernelRole;
}

/** Changes the register entry's details (not its code: a new code is a new organisation). */
export async function updateOrganisation(
  q: Queryable,
  code: string,
  changes: OrganisationChanges,
  actor: string,
): Promise<Organisation> {
  return inTransaction(q, async (tx) => {
    const current = await getOrganisation(tx, code);
    const given = checkContacts(current.code, changes.contacts ?? []);
    const contacts = [
      ...current.contacts.map((c) => given.find((g) => g.role === c.role) ?? c),
      ...given.filter((g) => !current.contacts.some((c) => c.role === g.role)),
    ];
    const next = checkOrganisation({ ...current, ...changes, contacts });
    await tx.run(
      `UPDATE organisations SET name = $2, population = $3, income_pence = $4, contacts = $5, code_verified = $6,
         kernel_role = $7, updated_at = $8 WHERE org_code = $1`,
      [
        next.code,
        next.name,
        next.population,
        next.incomePence,
        JSON.stringify(next.contacts),
        next.codeVerified,
        next.kernelRole,
        nowIso(),
      ],
    );
    await appendAudit(tx, {
      actor,
      action: 'org.updated',
      target: `org:${next.code}`,
      details: { fields: Object.keys(changes) },
    });
    return next;
  });
}

/** The contact holding `role` (e.g. chief-executive), if any. */
export function contactFor(org: Organisation, role: string): Contact | undefined {
  return org.contacts.find((c) => c.role === role);
}
