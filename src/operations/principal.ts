/**
 * Who is acting. Every operation runs for a principal: a person signed in to the portal, a
 * script with that person's API token, or the operator at the command line. Domain code
 * narrows what a principal may do (an IG lead to their own organisation) from this alone,
 * so every entry point applies the same rules.
 */
export const ROLES = [
  'admin',
  'provider',
  'analyst',
  'ig-lead',
  'viewer',
  'programme',
  'output-checker',
] as const;
export type Role = (typeof ROLES)[number];

/**
 * Roles that speak for one organisation: a provider sends and signs off its data, an IG lead
 * governs it. An account (or a single sign-on rule) giving one of them must name it, or every
 * action of the account is refused for want of one.
 */
export const ORGANISATION_ROLES: readonly Role[] = ['provider', 'ig-lead'];

/** Who may use an operation or a route. */
export type Access = 'public' | 'signed-in' | readonly Role[];

export interface Principal {
  userId: string;
  email: string;
  role: Role;
  /** the ODS code of the user's organisation; null for roles without one */
  org: string | null;
  /**
   * how they authenticated: a portal session, an API token (in the API or the CLI), or the
   * operator — whoever runs the CLI on the warehouse's own machine, with its files
   */
  via: 'session' | 'token' | 'operator';
  /** the API token's id (never the token), when `via` is 'token' */
  tokenId?: string;
  /** a one-time password is still in use: pages send them to change it first */
  mustChangePassword: boolean;
}

/**
 * The operator: the CLI without a token. They hold the warehouse's folder and keys, so
 * they act as an administrator; the audit log names the operating-system user.
 */
export function operatorPrincipal(osUser: string): Principal {
  return {
    userId: `cli:${osUser}`,
    email: '',
    role: 'admin',
    org: null,
    via: 'operator',
    mustChangePassword: false,
  };
}

/** The actor the audit log records: never a token, only its id. */
export function actorOf(principal: Principal | null): string {
  if (!principal) return 'anonymous';
  if (principal.via === 'operator') return principal.userId;
  if (principal.via === 'token') return `token:${principal.tokenId ?? principal.userId}`;
  return `user:${principal.email}`;
}

export function mayUse(access: Access, principal: Principal | null): boolean {
  if (access === 'public') return true;
  if (!principal) return false;
  if (access === 'signed-in') return true;
  return access.includes(principal.role);
}

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}
