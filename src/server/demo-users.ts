import type { Store } from '../store/store.ts';
import { addUser, findUserByEmail, resetPassword } from './auth/user-accounts.ts';
import type { Role } from './routes.ts';

export interface DemoAccount {
  email: string;
  role: Role;
  org: string | null;
  oneTimePassword: string;
}

/** One account per role for `kernel demo`; the provider belongs to Maidstone and Tunbridge Wells (RWF). */
export const DEMO_ACCOUNTS: readonly { email: string; role: Role; org?: string }[] = [
  { email: 'admin@kernel.example', role: 'admin' },
  { email: 'provider.rwf@kernel.example', role: 'provider', org: 'RWF' },
  { email: 'analyst@kernel.example', role: 'analyst' },
  { email: 'ig-lead@kernel.example', role: 'ig-lead', org: 'QKS' },
  { email: 'viewer@kernel.example', role: 'viewer' },
  { email: 'programme@kernel.example', role: 'programme' },
  // Two output checkers from different organisations: an output leaves only when both approve.
  { email: 'checker.icb@kernel.example', role: 'output-checker', org: 'QKS' },
  { email: 'checker.rwf@kernel.example', role: 'output-checker', org: 'RWF' },
];

/**
 * Creates the demo accounts (or gives existing ones a fresh one-time password) and answers
 * their one-time passwords, for `kernel demo` to print.
 */
export async function createDemoUsers(store: Store, actor = 'system:demo'): Promise<DemoAccount[]> {
  const out: DemoAccount[] = [];
  for (const account of DEMO_ACCOUNTS) {
    if (await findUserByEmail(store, account.email)) {
      out.push({
        ...account,
        org: account.org ?? null,
        oneTimePassword: await resetPassword(store, account.email, actor),
      });
      continue;
    }
    const { user, oneTimePassword } = await addUser(store, account, actor);
    out.push({
      email: user.email,
      role: user.role,
      org: user.org,
      oneTimePassword: oneTimePassword as string,
    });
  }
  return out;
}
