import { Hono, type Context } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { looksLikeIdentifier } from '../audit/audit-log.ts';
import { describeError, errorBody, httpStatusFor, KernelError } from '../errors.ts';
import { parseInput, runOperation } from '../operations/operation.ts';
import { actorOf } from '../operations/principal.ts';
import { credentialForToken, scopeRefusal, type TokenScope } from './auth/api-tokens.ts';
import { randomSecret, sameSecret } from './auth/secrets.ts';
import {
  FORM_LIMIT_BYTES,
  isJsonMediaType,
  mediaTypeOf,
  readForm,
  readTextBody,
  unsupportedMediaType,
  uploadFolder,
  type FormFields,
} from './request-body.ts';
import { readSession, sessionLimitsFrom } from './auth/sessions.ts';
import {
  mayUse,
  type Principal,
  type RouteDeclaration,
  type RouteRequest,
  type ServerDeps,
} from './routes.ts';
import { securityHeaders, newNonce } from './security-headers.ts';
import { refreshOrganisationNames } from './organisation-names.ts';
import { readAsset } from './static-assets.ts';
import { createViewEngine } from './view-engine.ts';

export const SESSION_COOKIE = 'kernel_session';
/** Carries the CSRF token of forms shown before sign-in (double-submit, OWASP CSRF Cheat Sheet). */
export const PRESESSION_COOKIE = 'kernel_presession';

export interface AppEnv {
  Variables: {
    nonce: string;
    principal: Principal | null;
    sessionId: string | undefined;
    /** what the bearer token may do, when the request came with one */
    tokenScope: TokenScope | undefined;
    /** the synchronizer token of this session, or of the pre-session cookie */
    csrfToken: string;
    /** pages of the navigation the principal's role admits but `mayOpen` refuses them */
    closedPages: ReadonlySet<string>;
  };
}

export interface AppOptions {
  /** the route table; `buildRouteTable(deps)` by default */
  routes: RouteDeclaration[];
  /** extra Hono routes mounted before the table (the CLI forwarding endpoint) */
  extend?: (app: Hono<AppEnv>) => void;
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Cookie attributes per RFC 6265bis: never readable by script, never sent cross-site. */
export function sessionCookieOptions(maxAgeSeconds: number) {
  return { path: '/', httpOnly: true, secure: true, sameSite: 'Lax' as const, maxAge: maxAgeSeconds };
}

/**
 * The portal and API as a plain Hono app: call `app.request(...)` in a test, or serve it
 * with `startServer`. The guard, CSRF check, security headers and error mapping all come
 * from here and the route declarations; handlers only call domain functions.
 */
export function createApp(deps: ServerDeps, options: AppOptions): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const views = createViewEngine();
  const now = deps.now ?? (() => new Date());
  const sessionLimits = sessionLimitsFrom(deps.config);

  // Request log: method, route path, status and time only — never the query string,
  // cookies, headers or bodies, where tokens and identifiers could sit.
  app.use('*', async (c, next) => {
    const started = performance.now();
    await next();
    deps.log?.(
      `${c.req.method} ${c.req.routePath === '/*' ? redactedPath(c.req.path) : c.req.routePath} ${c.res.status} ${Math.round(performance.now() - started)}ms`,
    );
  });

  app.use('*', async (c, next) => {
    const nonce = newNonce();
    c.set('nonce', nonce);
    await next();
    for (const [name, value] of Object.entries(securityHeaders(nonce))) c.res.headers.set(name, value);
    if (!c.res.headers.has('Cache-Control')) c.res.headers.set('Cache-Control', 'no-store');
  });

  app.get('/assets/*', (c) => {
    const asset = readAsset(c.req.path.slice('/assets/'.length));
    if (!asset) return c.text('Not found', 404);
    return c.body(new Uint8Array(asset.body), 200, {
      'Content-Type': asset.type,
      'Cache-Control': 'public, max-age=3600',
    });
  });

  app.use('*', async (c, next) => {
    // Pages show members' names beside their codes (issue 22, item 7).
    if (!c.req.path.startsWith('/api/') && !c.req.path.startsWith('/assets/')) {
      await refreshOrganisationNames(deps.store);
    }
    c.set('principal', null);
    c.set('sessionId', undefined);
    c.set('tokenScope', undefined);
    // An empty header, or `Bearer` with nothing after it, is no credential at all: the caller
    // is anonymous, as without the header (issue 22, item 7), rather than refused everywhere.
    const sent = c.req.header('Authorization')?.trim();
    const authorization = sent && !/^Bearer$/i.test(sent) ? sent : undefined;
    if (authorization !== undefined) {
      // RFC 6750 §2.1: `Authorization: Bearer <token>`.
      const match = /^Bearer\s+(\S+)$/i.exec(authorization);
      const credential = match ? await credentialForToken(deps.store, match[1] as string, now()) : undefined;
      if (!credential) {
        return c.json(
          errorBody(
            new KernelError(
              'unauthenticated',
              'The API token is not valid, has expired or has been revoked',
              {
                hint: 'Ask an administrator for a new token (kernel tokens new)',
              },
            ),
          ),
          401,
          { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
        );
      }
      c.set('principal', credential.principal);
      c.set('tokenScope', credential.scope);
      c.set('csrfToken', '');
    } else {
      const sessionId = getCookie(c, SESSION_COOKIE);
      const session = sessionId ? await readSession(deps.store, sessionId, now(), sessionLimits) : undefined;
      if (session && sessionId) {
        c.set('principal', session.principal);
        c.set('sessionId', sessionId);
        c.set('csrfToken', session.csrfToken);
      } else {
        let presession = getCookie(c, PRESESSION_COOKIE) ?? '';
        // The API has no forms: it gets no pre-session cookie.
        if (presession.length < 32 && !c.req.path.startsWith('/api/')) {
          presession = randomSecret();
          setCookie(c, PRESESSION_COOKIE, presession, sessionCookieOptions(3600));
        }
        c.set('csrfToken', presession);
      }
    }
    await next();
  });

  // The navigation offers only pages that open: a page whose `mayOpen` refuses this
  // principal is left out, decided once per page drawn (never for the API).
  const conditional = options.routes.filter(
    (route) => route.nav && route.mayOpen && route.kind === 'page' && route.method === 'GET',
  );
  app.use('*', async (c, next) => {
    const principal = c.get('principal');
    const closed = new Set<string>();
    if (principal && !c.req.path.startsWith('/api/')) {
      for (const route of conditional)
        if (mayUse(route.access, principal) && !(await route.mayOpen?.(principal))) closed.add(route.path);
    }
    c.set('closedPages', closed);
    await next();
  });

  options.extend?.(app);

  const render = (
    c: Context<AppEnv>,
    template: string,
    vars: Record<string, unknown> = {},
    status = 200,
  ): Response => {
    const principal = c.get('principal');
    const nav = options.routes
      .filter(
        (route) =>
          route.nav &&
          route.kind === 'page' &&
          route.method === 'GET' &&
          mayUse(route.access, principal) &&
          !c.get('closedPages')?.has(route.path),
      )
      .filter((route) => route.access !== 'public' || !principal || route.path !== '/sign-in')
      .map((route) => ({
        href: route.path,
        text: route.nav,
        current: c.req.path === route.path,
        active: route.path !== '/' && c.req.path.startsWith(`${route.path}/`),
      }));
    const errors = Array.isArray(vars.errors) ? (vars.errors as { href?: unknown; text?: unknown }[]) : [];
    const html = views.render(template, {
      // Each field's own message by field id, from the error summary's links: a field with
      // none is not drawn in the error state (issue 22, item 4).
      fieldErrors: Object.fromEntries(
        errors
          .filter((e) => typeof e.href === 'string' && typeof e.text === 'string')
          .map((e) => [(e.href as string).replace(/^#/, ''), e.text]),
      ),
      ...vars,
      principal,
      csrfToken: c.get('csrfToken'),
      cspNonce: c.get('nonce'),
      nav,
      currentPath: c.req.path,
    });
    return c.html(html, status as 200);
  };

  for (const route of options.routes) {
    app.on(route.method, route.path, async (c) => {
      const principal = c.get('principal');
      const isApi = route.kind === 'api';
      const fail = (error: unknown): Response => {
        const status = httpStatusFor(error);
        if (!(error instanceof KernelError)) {
          console.error(
            `kernel serve: ${route.method} ${route.path} failed:`,
            error instanceof Error ? error.stack : error,
          );
        }
        if (isApi) return c.json(errorBody(error), status as 400);
        return render(
          c,
          'error.njk',
          { title: titleFor(status), status, message: describeError(error) },
          status,
        );
      };

      // A scoped API token reaches only what its scope allows (issue 19).
      const scope = c.get('tokenScope');
      const refusal =
        scope && principal?.via === 'token' ? scopeRefusal(scope, route.method, route.path) : undefined;
      if (refusal) {
        return fail(
          new KernelError('forbidden', refusal, {
            hint: 'Use a token with a wider scope (kernel tokens new --scope)',
          }),
        );
      }

      if (!mayUse(route.access, principal)) {
        if (!principal) {
          if (isApi) {
            return c.json(
              errorBody(
                new KernelError('unauthenticated', 'Sign in or send an API token', {
                  hint: 'Send Authorization: Bearer <token>; get one with kernel tokens new',
                }),
              ),
              401,
              { 'WWW-Authenticate': 'Bearer' },
            );
          }
          const next = route.method === 'GET' ? `?next=${encodeURIComponent(c.req.path)}` : '';
          return c.redirect(`/sign-in${next}`, 302);
        }
        return fail(
          new KernelError(
            'forbidden',
            `Your role (${principal.role}) may not use this ${isApi ? 'API operation' : 'page'}`,
            { hint: 'Ask an administrator if you need it' },
          ),
        );
      }

      // A one-time password opens nothing but the page that replaces it: not the pages, and
      // not the API either (issue 23, M1).
      if (
        principal?.mustChangePassword &&
        principal.via === 'session' &&
        !['/account/password', '/sign-out'].includes(route.path) &&
        route.access !== 'public'
      ) {
        if (isApi) {
          return fail(
            new KernelError('forbidden', 'Choose a new password before using Kernel', {
              hint: 'You signed in with a one-time password: open /account/password in the portal and choose your own',
            }),
          );
        }
        return c.redirect('/account/password', 302);
      }

      // Bodies are bounded (issue 23, H2): a file route may take up to the upload limit, its
      // files streamed to disk; every other route a small form.
      const uploads = route.takesFile ? uploadFolder() : undefined;
      const limitBytes = route.takesFile ? deps.config.uploadLimitMb * 1024 * 1024 : FORM_LIMIT_BYTES;
      let formBody: Promise<FormFields> | undefined;
      const readFormBody = (): Promise<FormFields> =>
        (formBody ??= readForm(c.req.raw, { limitBytes, ...(uploads ? { uploads: uploads.folder } : {}) }));
      try {
        if (UNSAFE.has(route.method) && principal?.via !== 'token') {
          // OWASP CSRF Cheat Sheet: a synchronizer token per session, checked on every
          // state-changing request; SameSite cookies are the second line, not the only one.
          let sent: string | undefined;
          if (isApi) {
            sent = c.req.header('X-CSRF-Token');
          } else {
            const field = (await readFormBody()).csrf;
            sent = typeof field === 'string' ? field : undefined;
          }
          if (!sent || !sameSecret(sent, c.get('csrfToken'))) {
            return fail(
              new KernelError('forbidden', 'This form has expired or did not come from Kernel', {
                hint: 'Go back, reload the page and try again',
              }),
            );
          }
        }

        const request: RouteRequest = {
          c,
          deps,
          principal,
          actor: actorOf(principal),
          run: async (operation, input) => {
            if (!principal) throw new KernelError('unauthenticated', 'Sign in first');
            const { store, config, now } = deps;
            return runOperation(operation, { store, config, principal, ...(now ? { now } : {}) }, input);
          },
          nonce: c.get('nonce'),
          param: (name) => c.req.param(name) ?? '',
          query: (name) => {
            const value = c.req.query(name);
            return value === undefined || value === '' ? undefined : value;
          },
          form: readFormBody,
          jsonObject: async (options) => {
            let body: unknown;
            try {
              const text = await readTextBody(c.req.raw, limitBytes);
              if (options?.emptyIsObject && text.trim() === '') return {};
              // A body that says it is another type is refused, not read as JSON regardless; one
              // that says nothing is read as JSON, as scripts without the header have always had.
              const type = mediaTypeOf(c.req.raw);
              if (type && !isJsonMediaType(type)) throw unsupportedMediaType(type);
              body = JSON.parse(text);
            } catch (error) {
              if (error instanceof KernelError) throw error;
              throw new KernelError('usage', 'The request body is not JSON', {
                hint: 'Send Content-Type: application/json with a JSON object',
              });
            }
            if (typeof body !== 'object' || body === null || Array.isArray(body)) {
              throw new KernelError('usage', 'The request body must be a JSON object');
            }
            const object = body as Record<string, unknown>;
            return route.request ? parseInput(route.request, object) : object;
          },
          render: (template, vars, status) => render(c, template, vars, status),
          json: (value, status = 200) => c.json(value, status as 200),
          redirect: (location) => c.redirect(location, 303),
        };
        return await route.handle(request);
      } catch (error) {
        return fail(error);
      } finally {
        uploads?.remove();
      }
    });
  }

  const allowedAt = allowedMethods(options.routes);
  app.notFound((c) => {
    const allowed = allowedAt(c.req.path);
    if (allowed.length > 0) {
      // RFC 9110 §15.5.6: the address exists; a 405 must list the methods it takes in Allow.
      // The method is named only when it is one (an app.request can carry any word).
      const method = /^[A-Z]{1,16}$/.test(c.req.method) ? c.req.method : 'this method';
      const isApi = c.req.path.startsWith('/api/');
      const error = new KernelError('method-not-allowed', `This address does not take ${method}`, {
        hint: `Use ${allowed.join(', ').replace(/, (\w+)$/, ' or $1')}${isApi ? ': /api/docs lists every operation and its method' : ''}`,
      });
      c.header('Allow', allowed.join(', '));
      if (isApi) return c.json(errorBody(error), 405);
      return render(
        c,
        'error.njk',
        { title: titleFor(405), status: 405, message: describeError(error) },
        405,
      );
    }
    const error = new KernelError('not-found', `There is no page at ${c.req.path}`, {
      hint: 'Check the address, or start from the home page',
    });
    if (c.req.path.startsWith('/api/')) return c.json(errorBody(error), 404);
    return render(
      c,
      'error.njk',
      { title: 'Page not found', status: 404, message: describeError(error) },
      404,
    );
  });

  app.onError((error, c) => {
    console.error('kernel serve: unhandled error:', error instanceof Error ? error.stack : error);
    if (c.req.path.startsWith('/api/')) return c.json(errorBody(error), 500);
    return c.text('Sorry, there is a problem with the service', 500);
  });

  return app;
}

/**
 * A path no route matched, fit for the log (issue 23): anyone can type anything into a URL,
 * an NHS number or a postcode included, so each segment that is not a plain word is replaced.
 */
export function redactedPath(path: string): string {
  return path
    .split('/')
    .map((segment) => {
      let text = segment;
      try {
        text = decodeURIComponent(segment);
      } catch {
        return '…';
      }
      return /^[A-Za-z-]{0,40}$/.test(text) && !looksLikeIdentifier(text) ? text : '…';
    })
    .join('/');
}

/**
 * The methods the declared routes take at a path, for a 405's `Allow` (RFC 9110 §10.2.1):
 * none when no route has the path. HEAD goes with GET, which Hono answers for it.
 */
function allowedMethods(routes: readonly RouteDeclaration[]): (path: string) => string[] {
  const order = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];
  const patterns = routes.map((route) => ({
    method: route.method,
    // Hono's path syntax as declared here: literal segments and `:name` parameters.
    pattern: new RegExp(
      `^${route.path
        .split('/')
        .map((segment) =>
          segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
        )
        .join('/')}$`,
    ),
  }));
  return (path) => {
    const methods = new Set(patterns.filter((p) => p.pattern.test(path)).map((p) => p.method as string));
    if (methods.has('GET')) methods.add('HEAD');
    return order.filter((method) => methods.has(method));
  };
}

function titleFor(status: number): string {
  if (status === 401) return 'Sign in';
  if (status === 403) return 'You cannot use this page';
  if (status === 404) return 'Page not found';
  if (status < 500) return 'There is a problem';
  return 'Sorry, there is a problem with the service';
}
