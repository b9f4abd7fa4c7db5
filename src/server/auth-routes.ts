import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { KernelError } from '../errors.ts';
import { PRESESSION_COOKIE, SESSION_COOKIE, sessionCookieOptions } from './app.ts';
import {
  giveSecondFactor,
  PENDING_MINUTES,
  readPendingSignIn,
  startPendingSignIn,
} from './auth/pending-sign-ins.ts';
import {
  checkSecondFactor,
  hasAuthenticator,
  needsSecondFactor,
  recoveryCodesLeft,
  renewRecoveryCodes,
} from './auth/second-factor.ts';
import {
  browserLabel,
  createSession,
  endAllSessions,
  endSession,
  endSessionByHandle,
  listSessions,
  sessionHandle,
  sessionLimitsFrom,
} from './auth/sessions.ts';
import { beginSsoSignIn, finishSsoSignIn, ssoProvider } from './auth/single-sign-on.ts';
import { otpauthUri } from './auth/totp.ts';
import { SignInLimiter } from './auth/sign-in-limiter.ts';
import {
  changePassword,
  checkSignIn,
  refuseWithoutChecking,
  type UserAccount,
} from './auth/user-accounts.ts';
import { clientAddress } from './client-address.ts';
import { formText } from './form-actions.ts';
import { pagesFor } from './page-helpers.ts';
import type { RouteDeclaration, RouteRequest, ServerDeps } from './routes.ts';
import { safeNext } from './safe-next.ts';

interface FormError {
  text: string;
  href: string;
}

/** The cookie of a sign-in waiting for its second factor (`pending-sign-ins.ts`). */
export const PENDING_COOKIE = 'kernel_signin';
/** The cookie binding a single sign-on to the browser that started it (its `state`). */
export const SSO_COOKIE = 'kernel_sso';

/** Removes a cookie this module set (same path and Secure flag, or the browser keeps it). */
const clearCookie = (c: Context, name: string): void =>
  void deleteCookie(c, name, { path: '/', secure: true });

const publicPage = pagesFor('public');
const accountPage = pagesFor('signed-in');

/** After a session ends: its cookie goes, and the person lands on the sign-in page. */
function signedOut(r: RouteRequest): Response {
  clearCookie(r.c, SESSION_COOKIE);
  return r.redirect('/sign-in?signed-out=1');
}

/** The sign-in page, with what went wrong above the form when `vars` says (`errors`). */
function signInPage(r: RouteRequest, vars: Record<string, unknown>, status = 200): Response {
  return r.render('sign-in.njk', { title: 'Sign in', ...vars }, status);
}

/** New recovery codes, shown once, then on to `next`. */
function recoveryCodesPage(r: RouteRequest, codes: string[], next: string): Response {
  return r.render('sign-in/recovery-codes.njk', { title: 'Your recovery codes', codes, next });
}

/** The signed-in person: account pages admit no one else. */
function accountOf(r: RouteRequest): NonNullable<RouteRequest['principal']> {
  return r.principal as NonNullable<RouteRequest['principal']>;
}

/** A secret in groups of four, easier to type into an authenticator app by hand. */
function grouped(secret: string): string {
  return secret.match(/.{1,4}/g)?.join(' ') ?? secret;
}

/**
 * Signing in (password, second factor, single sign-on), the person's sessions, signing out
 * and changing a password. The rules live in `auth/`; these routes only carry them to pages.
 */
export function authRoutes(deps: ServerDeps, limiter = new SignInLimiter()): RouteDeclaration[] {
  const now = deps.now ?? (() => new Date());
  const limits = sessionLimitsFrom(deps.config);

  /** Starts the session of a complete sign-in: a new id every time, so a planted cookie cannot be fixed on a victim. */
  const beginSession = async (c: Context, userId: string, secondFactor?: string) => {
    const { sessionId } = await createSession(deps.store, userId, now(), {
      secondFactor,
      label: browserLabel(c.req.header('User-Agent')),
      limits,
    });
    setCookie(c, SESSION_COOKIE, sessionId, sessionCookieOptions(limits.absoluteHours * 3600));
    clearCookie(c, PRESESSION_COOKIE);
    clearCookie(c, PENDING_COOKIE);
  };

  /**
   * Sends an account whose first factor was accepted on to the second: a pending sign-in
   * (enrolling an authenticator when it has none) and its page. Undefined while the account
   * takes no more codes (`ACCOUNT_CODE_FAILURES`).
   */
  const toSecondFactor = async (r: RouteRequest, user: UserAccount, next: string) => {
    const enrolling = !(await hasAuthenticator(deps.store, user.id));
    const pendingId = await startPendingSignIn(deps.store, user.id, enrolling, now());
    if (!pendingId) return undefined;
    setCookie(r.c, PENDING_COOKIE, pendingId, sessionCookieOptions(PENDING_MINUTES * 60));
    return r.redirect(`/sign-in/two-factor?next=${encodeURIComponent(next)}`);
  };

  /** The account's sign-in page: authenticator, recovery codes left, sessions with this one marked. */
  const securityPage = async (r: RouteRequest, vars: Record<string, unknown> = {}, status = 200) => {
    const principal = accountOf(r);
    const current = r.c.get('sessionId') as string | undefined;
    const sessions = await listSessions(deps.store, principal.userId, now(), limits);
    return r.render(
      'account/security.njk',
      {
        title: 'Your sign-in and sessions',
        enrolled: await hasAuthenticator(deps.store, principal.userId),
        recoveryCodesLeft: await recoveryCodesLeft(deps.store, principal.userId),
        sessions: sessions.map((s) => ({
          ...s,
          current: current !== undefined && s.handle === sessionHandle(current),
        })),
        limits,
        ...vars,
      },
      status,
    );
  };

  /** The second-factor page: enrolment (secret and otpauth URI) or a code, with any errors. */
  const twoFactorPage = async (
    r: RouteRequest,
    pendingId: string,
    next: string,
    errors: FormError[] = [],
    status = 200,
  ) => {
    const pending = await readPendingSignIn(deps.store, pendingId, now());
    if (!pending) return r.redirect('/sign-in');
    const enrolling = pending.enrolSecret !== null;
    return r.render(
      'sign-in/two-factor.njk',
      {
        title: enrolling ? 'Set up your authenticator app' : 'Enter the code from your authenticator app',
        enrolling,
        secret: enrolling ? grouped(pending.enrolSecret as string) : undefined,
        uri: enrolling ? otpauthUri(pending.enrolSecret as string, pending.user.email) : undefined,
        next,
        errors,
      },
      status,
    );
  };
  return [
    publicPage({
      method: 'GET',
      path: '/sign-in',
      summary: 'Sign-in page',
      handle: async (r) =>
        r.principal
          ? r.redirect('/')
          : signInPage(r, {
              next: safeNext(r.query('next')),
              signedOut: r.query('signed-out') === '1',
              sso: (await ssoProvider(deps.store)) !== undefined,
            }),
    }),
    publicPage({
      method: 'POST',
      path: '/sign-in',
      summary: 'Sign in with email and password',
      handle: async (r) => {
        const form = await r.form();
        const email = formText(form.email).trim();
        const password = formText(form.password);
        const next = safeNext(form.next);
        const errors: FormError[] = [];
        if (!email) errors.push({ text: 'Enter your email address', href: '#email' });
        if (!password) errors.push({ text: 'Enter your password', href: '#password' });
        const sso = (await ssoProvider(deps.store)) !== undefined;
        const again = (status: number, list: FormError[]) =>
          signInPage(r, { errors: list, email, next, sso }, status);
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
        // Issue 19: a password alone opens no role that reads record-level data or approves.
        // The session waits for the second factor; until then there is none.
        if (await needsSecondFactor(deps.store, result.user)) {
          const onward = await toSecondFactor(r, result.user, next);
          if (onward) return onward;
          // Too many wrong codes lately: answered as a wrong password, so it says nothing of it.
          limiter.failed(email, address);
          return again(401, [{ text: 'Enter a correct email address and password', href: '#email' }]);
        }
        await beginSession(r.c, result.user.id);
        return r.redirect(result.user.mustChangePassword ? '/account/password' : next);
      },
    }),
    publicPage({
      method: 'GET',
      path: '/sign-in/sso',
      summary: 'Sign in with your organisation’s account (OpenID Connect)',
      handle: async (r) => {
        if (r.principal) return r.redirect('/');
        const { url, state } = await beginSsoSignIn(deps.store, safeNext(r.query('next')), now());
        setCookie(r.c, SSO_COOKIE, state, sessionCookieOptions(10 * 60));
        return r.c.redirect(url, 302);
      },
    }),
    publicPage({
      method: 'GET',
      path: '/sign-in/sso/callback',
      summary: 'Back from the identity provider',
      handle: async (r) => {
        const outcome = await finishSsoSignIn(
          deps.store,
          {
            state: r.query('state') ?? '',
            code: r.query('code') ?? '',
            error: r.query('error'),
            browserState: getCookie(r.c, SSO_COOKIE) ?? '',
          },
          now(),
        );
        clearCookie(r.c, SSO_COOKIE);
        // 403, not 401: the person may well be signed in at the provider; Kernel refuses
        // what came back (RFC 9110 §15.5.4).
        const refused = (message: string) =>
          signInPage(r, { next: '/', sso: true, errors: [{ text: message, href: '#sso' }] }, 403);
        if (!outcome.ok) return refused(outcome.message);
        // A provider that says it checked more than a password (RFC 8176 amr) is the second
        // factor; otherwise a role that needs one gives Kernel's own, as after a password.
        if (!outcome.multiFactor && (await needsSecondFactor(deps.store, outcome.user))) {
          const onward = await toSecondFactor(r, outcome.user, outcome.next);
          if (onward) return onward;
          return refused('Too many wrong codes. Wait ten minutes and sign in again');
        }
        await beginSession(r.c, outcome.user.id, outcome.multiFactor ? 'identity-provider' : undefined);
        return r.redirect(outcome.next);
      },
    }),
    publicPage({
      method: 'GET',
      path: '/sign-in/two-factor',
      summary: 'Second step of signing in: the authenticator code, or setting the authenticator up',
      handle: async (r) => {
        if (r.principal) return r.redirect('/');
        const pendingId = getCookie(r.c, PENDING_COOKIE);
        if (!pendingId) return r.redirect('/sign-in');
        return twoFactorPage(r, pendingId, safeNext(r.query('next')));
      },
    }),
    publicPage({
      method: 'POST',
      path: '/sign-in/two-factor',
      summary: 'Give the authenticator code (or a recovery code)',
      handle: async (r) => {
        const form = await r.form();
        const next = safeNext(form.next);
        const pendingId = getCookie(r.c, PENDING_COOKIE);
        if (!pendingId) return r.redirect('/sign-in');
        const code = formText(form.code).trim();
        if (!code) {
          return twoFactorPage(r, pendingId, next, [{ text: 'Enter the code', href: '#code' }], 400);
        }
        let outcome;
        try {
          outcome = await giveSecondFactor(deps.store, pendingId, code, now());
        } catch (error) {
          if (!(error instanceof KernelError)) throw error;
          outcome = { ok: false as const, reason: 'expired' as const };
        }
        if (!outcome.ok) {
          if (outcome.reason === 'expired') {
            clearCookie(r.c, PENDING_COOKIE);
            return signInPage(
              r,
              { next, errors: [{ text: 'Your sign-in has expired. Sign in again', href: '#email' }] },
              401,
            );
          }
          return twoFactorPage(
            r,
            pendingId,
            next,
            [{ text: 'Enter the code your authenticator app shows now', href: '#code' }],
            401,
          );
        }
        await beginSession(r.c, outcome.user.id, outcome.secondFactor);
        const after = outcome.user.mustChangePassword ? '/account/password' : next;
        if (outcome.recoveryCodes) return recoveryCodesPage(r, outcome.recoveryCodes, after);
        return r.redirect(after);
      },
    }),
    accountPage({
      method: 'GET',
      path: '/account/security',
      summary: 'Your sign-in: authenticator, recovery codes and active sessions',
      handle: (r) => securityPage(r, { ended: r.query('ended') === '1' }),
    }),
    accountPage({
      method: 'POST',
      path: '/account/sessions/end',
      summary: 'Sign out one of your sessions',
      handle: async (r) => {
        const principal = accountOf(r);
        const handle = formText((await r.form()).session);
        await endSessionByHandle(deps.store, principal.userId, handle, r.actor);
        const current = r.c.get('sessionId') as string | undefined;
        if (current && sessionHandle(current) === handle) {
          return signedOut(r);
        }
        return r.redirect('/account/security?ended=1');
      },
    }),
    accountPage({
      method: 'POST',
      path: '/account/sessions/end-all',
      summary: 'Sign out everywhere',
      handle: async (r) => {
        const principal = accountOf(r);
        await endAllSessions(deps.store, principal.userId, r.actor);
        return signedOut(r);
      },
    }),
    accountPage({
      method: 'POST',
      path: '/account/recovery-codes',
      summary: 'New recovery codes (the old ones stop working)',
      handle: async (r) => {
        const principal = accountOf(r);
        const code = formText((await r.form()).code).trim();
        // A session left open is not enough to replace the codes: the authenticator is asked again.
        // Digits only, so a recovery code typed here by mistake is not used up.
        const given = /^\d[\d\s]*$/.test(code)
          ? await checkSecondFactor(deps.store, principal.userId, code, now())
          : undefined;
        if (given !== 'totp') {
          return securityPage(
            r,
            { errors: [{ text: 'Enter the code your authenticator app shows now', href: '#code' }] },
            400,
          );
        }
        const codes = await renewRecoveryCodes(deps.store, principal.userId, r.actor, now());
        return recoveryCodesPage(r, codes, '/account/security');
      },
    }),
    accountPage({
      method: 'GET',
      path: '/sign-out',
      summary: 'Confirm signing out',
      handle: (r) => r.render('sign-out.njk', { title: 'Sign out' }),
    }),
    accountPage({
      method: 'POST',
      path: '/sign-out',
      summary: 'Sign out',
      handle: async (r) => {
        const sessionId = r.c.get('sessionId') as string | undefined;
        if (sessionId && r.principal) await endSession(deps.store, sessionId, r.principal);
        return signedOut(r);
      },
    }),
    accountPage({
      method: 'GET',
      path: '/account/password',
      summary: 'Change your password',
      handle: (r) => r.render('change-password.njk', { title: 'Change your password' }),
    }),
    accountPage({
      method: 'POST',
      path: '/account/password',
      summary: 'Change your password',
      handle: async (r) => {
        const form = await r.form();
        const current = formText(form.current);
        const password = formText(form.password);
        const confirm = formText(form.confirm);
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
    }),
  ];
}
