import { KernelError } from '../errors.ts';

/** A SQL identifier, double-quoted (SQL standard; both engines). */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A SQL string literal, single-quoted. Only for values no parameter can carry (file paths in read_csv). */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * Database errors normalised in one place (after Medplum's normalizeDatabaseError): a
 * broken uniqueness rule is a `conflict`, a lock held elsewhere is `busy`, anything else a
 * `store` error. The message names the operation, never the values bound to it.
 */
export function toStoreError(error: unknown, operation: string): KernelError {
  if (error instanceof KernelError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: string }).code;
  const short = operation.replace(/\s+/g, ' ').slice(0, 120);
  if (code === '23505' || /duplicate key|unique constraint|primary key constraint/i.test(message)) {
    return new KernelError('conflict', `That record already exists (${firstLine(message)})`, {
      cause: error,
    });
  }
  if (code === '40001' || code === '40P01' || /conflict on tuple|write-write conflict/i.test(message)) {
    return new KernelError('busy', 'Another change to the same records ran at the same time', {
      hint: 'Try again',
      cause: error,
    });
  }
  return new KernelError('store', `The store refused "${short}": ${firstLine(message)}`, { cause: error });
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}
