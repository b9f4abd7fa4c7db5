import { deleteCookie, setCookie } from 'hono/cookie';
import { KernelError } from '../errors.ts';
import { PRESESSION_COOKIE, SESSION_COOKIE, sessionCookieOptions } from './app.ts';
import { createSession, endSession, SESSION_HOURS } from './auth/sessions.ts';
import { SignInLimiter } from './auth/sign-in-limiter.ts';
import { changePassword, checkSignIn, refuseWithoutChecking } from './auth/user-accounts.ts';
import { clientAddress } from './client-address.ts';
import type { RouteDeclaration, ServerDeps } from './routes.ts';
import { safeNext } from './safe-next.ts';

interface FormError {
  text: string;
  href: string;
}

/** Only same-site paths: an open redirect after sign-in would help phishing. */
function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** Sign-in, sign-out and changing a password. */
export function authRoutes(deps: ServerDeps, limiter = new SignInLimiter()): RouteDeclaration[] {
  const now = deps.now ?? (() => new Date());
  return [
    {
      method: 'GET',
      path: '/sign-in',
      kind: 'page',
      access: 'public',
      summary: 'Sign-in page',
      handle: (r) =>
        r.principal
          ? r.redirect('/')
          : r.render('sign-in.njk', {
              title: 'Sign in',
              next: safeNext(r.query('next')),
              signedOut: r.query('signed-out') === '1',
            }),
    },
    {
      method: 'POST',
      path: '/sign-in',
      kind: 'page',
      access: 'public',
      summary: 'Sign in with email and password',
      handle: async (r) => {
        const form = await r.form();
        const email = text(form.email).trim();
        const password = text(form.password);
        const next = safeNext(form.next);
        const errors: FormError[] = [];
        if (!email) errors.push({ text: 'Enter your email address', href: '#email' });
        if (!password) errors.push({ text: 'Enter your password', href: '#password' });
        const again = (status: number, list: FormError[]) =>
          r.render('sign-in.njk', { title: 'Sign in', errors: list, email, next }, status);
        if (errors.length) return again(400, errors);
        const address = clientAddress(r.c, deps.config.trustedProxies);
        const wait = limiter.addressWait(address);
        if (wait > 0) {
          r.c.header('Retry-After', String(wait));
          return again(429, [
            {
              text: `Too many failed sign-ins from your network. Wait ${Math.ceil(wait / 60)} minutes and try again`,
              href: '#email',
            },
          ]);
        }
        // One answer for a wrong password, an unknown email, a locked account and an address
        // that has used up its tries at this email: none tells a guesser which accounts exist
        // (issue 23, M7). Each costs one password hash, so timing says no more than words.
        const result = limiter.pairBlocked(email, address)
          ? await refuseWithoutChecking(deps.store, password)
          : await checkSignIn(deps.store, email, password, now());
        if (!result.ok) {
          limiter.failed(email, address);
          return again(401, [{ text: 'Enter a correct email address and password', href: '#email' }]);
        }
        limiter.succeeded(email, address);
        // A new session id at every sign-in, so a planted cookie cannot be fixed on a victim.
        const { sessionId } = await createSession(deps.store, result.user.id, now());
        setCookie(r.c, SESSION_COOKIE, sessionId, sessionCookieOptions(SESSION_HOURS * 3600));
        deleteCookie(r.c, PRESESSION_COOKIE, { path: '/', secure: true });
        return r.redirect(result.user.mustChangePassword ? '/account/password' : next);
      },
    },
    {
      method: 'GET',
      path: '/sign-out',
      kind: 'page',
      access: 'signed-in',
      summary: 'Confirm signing out',
      handle: (r) => r.render('sign-out.njk', { title: 'Sign out' }),
    },
    {
      method: 'POST',
      path: '/sign-out',
      kind: 'page',
      access: 'signed-in',
      summary: 'Sign out',
      handle: async (r) => {
        const sessionId = r.c.get('sessionId') as string | undefined;
        if (sessionId && r.principal) await endSession(deps.store, sessionId, r.principal);
        deleteCookie(r.c, SESSION_COOKIE, { path: '/', secure: true });
        return r.redirect('/sign-in?signed-out=1');
      },
    },
    {
      method: 'GET',
      path: '/account/password',
      kind: 'page',
      access: 'signed-in',
      summary: 'Change your password',
      handle: (r) => r.render('change-password.njk', { title: 'Change your password' }),
    },
    {
      method: 'POST',
      path: '/account/password',
      kind: 'page',
      access: 'signed-in',
      summary: 'Change your password',
      handle: async (r) => {
        const form = await r.form();
        const current = text(form.current);
        const password = text(form.password);
        const confirm = text(form.confirm);
        const errors: FormError[] = [];
        if (!current) errors.push({ text: 'Enter your current password', href: '#current' });
        if (!password) errors.push({ text: 'Enter a new password', href: '#password' });
        else if (password !== confirm)
          errors.push({ text: 'The new passwords do not match', href: '#confirm' });
        if (!errors.length && r.principal) {
          try {
            await changePassword(deps.store, r.principal.userId, current, password, r.actor, {
              keepSessionId: r.c.get('sessionId') as string | undefined,
            });
            return r.redirect('/?password-changed=1');
          } catch (error) {
            if (!(error instanceof KernelError)) throw error;
            errors.push({ text: error.message, href: `#${error.where?.field ?? 'password'}` });
          }
        }
        return r.render('change-password.njk', { title: 'Change your password', errors }, 400);
      },
    },
  ];
}
