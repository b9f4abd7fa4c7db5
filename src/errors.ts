/**
 * One error type for every mistake Kernel reports to a person or a program.
 *
 * A `KernelError` carries a stable `code`; the code alone decides the CLI exit code and
 * the HTTP status (mapped once, below). Its message says what was wrong, `where` says
 * where (file, line, column, field), and `hint` says what to do. Never put an identifier,
 * a key or a token-to-identity map in any of them.
 */
export type ErrorCode =
  | 'usage' // the command or request was malformed
  | 'config' // configuration is missing or invalid
  | 'not-found' // the thing named does not exist
  | 'conflict' // it exists already, or the state forbids the change
  | 'invalid-input' // a file or value failed validation
  | 'too-large' // a request body beyond the limit
  | 'headers-too-large' // a request's header fields beyond the HTTP server's limit
  | 'method-not-allowed' // the address exists, but does not take this HTTP method
  | 'unsupported-media-type' // a request body of a type the route does not take
  | 'refused' // a policy refused it (identifiers present, no agreement, unsigned…)
  | 'unauthenticated' // no valid session or token
  | 'forbidden' // signed in, but the access policy says no
  | 'store' // the database failed
  | 'busy' // the store is held by another process
  | 'internal'; // a bug: never the user's fault

export interface ErrorLocation {
  file?: string;
  line?: number;
  column?: number;
  field?: string;
}

export class KernelError extends Error {
  readonly code: ErrorCode;
  readonly where: ErrorLocation | undefined;
  readonly hint: string | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { where?: ErrorLocation; hint?: string; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KernelError';
    this.code = code;
    this.where = options.where;
    this.hint = options.hint;
  }
}

// sysexits(3) where one fits, so scripts can tell a usage mistake from a data problem.
const EXIT_CODES: Record<ErrorCode, number> = {
  usage: 64,
  'invalid-input': 65,
  'too-large': 65,
  'headers-too-large': 65,
  'method-not-allowed': 64,
  'unsupported-media-type': 64,
  'not-found': 66,
  refused: 67,
  unauthenticated: 77,
  forbidden: 77,
  conflict: 75,
  busy: 75,
  config: 78,
  store: 74,
  internal: 70,
};

const HTTP_STATUSES: Record<ErrorCode, number> = {
  usage: 400,
  'invalid-input': 422,
  'too-large': 413,
  // RFC 6585 §5
  'headers-too-large': 431,
  // RFC 9110 §15.5.6 and §15.5.16
  'method-not-allowed': 405,
  'unsupported-media-type': 415,
  'not-found': 404,
  refused: 422,
  unauthenticated: 401,
  forbidden: 403,
  conflict: 409,
  busy: 503,
  config: 500,
  store: 500,
  internal: 500,
};

export function exitCodeFor(error: unknown): number {
  return error instanceof KernelError ? EXIT_CODES[error.code] : EXIT_CODES.internal;
}

export function httpStatusFor(error: unknown): number {
  return error instanceof KernelError ? HTTP_STATUSES[error.code] : HTTP_STATUSES.internal;
}

export function formatWhere(where: ErrorLocation | undefined): string {
  if (!where) return '';
  const parts: string[] = [];
  if (where.file) parts.push(where.file);
  if (where.line !== undefined) parts.push(`line ${where.line}`);
  if (where.column !== undefined) parts.push(`column ${where.column}`);
  if (where.field) parts.push(`field ${where.field}`);
  return parts.join(', ');
}

/** The one line a person sees: what, where, what to do. */
export function describeError(error: unknown): string {
  if (error instanceof KernelError) {
    const where = formatWhere(error.where);
    return [error.message + (where ? ` (${where})` : ''), error.hint].filter(Boolean).join('. ');
  }
  return 'Kernel hit an internal error; run again with --debug to see where, and report it';
}

/** A JSON body for the API: the same facts, machine-readable. */
export function errorBody(error: unknown): {
  error: { code: ErrorCode; message: string; where?: ErrorLocation; hint?: string };
} {
  if (error instanceof KernelError) {
    return {
      error: {
        code: error.code,
        message: error.message,
        ...(error.where ? { where: error.where } : {}),
        ...(error.hint ? { hint: error.hint } : {}),
      },
    };
  }
  return { error: { code: 'internal', message: 'Internal error' } };
}
