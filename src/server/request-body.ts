import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import busboy from 'busboy';
import { looksLikeIdentifier } from '../audit/audit-log.ts';
import { KernelError } from '../errors.ts';

/**
 * Request bodies, bounded (issue 23, H2: a 300 MB form sent to `/sign-in` once took the server
 * from 278 MB to 1.2 GB and never gave it back). Every body is refused past its limit before
 * it is read whole: at once when `Content-Length` says so, and otherwise as soon as the
 * stream passes it. Forms are small; uploads stream to a private temporary folder on disk,
 * so a file of any allowed size costs the server a buffer, not its size in memory.
 */

/** A form of text fields (sign-in, governance forms, the API's JSON): far more than any needs. */
export const FORM_LIMIT_BYTES = 256 * 1024;

/** A file field of a multipart upload, on disk as it arrived. */
export interface UploadedFile {
  kind: 'file';
  /** where it was written, in a folder only this process uses */
  path: string;
  /** the name the sender's browser gave it (display only: never used as a path) */
  name: string;
  size: number;
}

export type FormValue = string | UploadedFile;
export type FormFields = Record<string, FormValue>;

export function isUploadedFile(value: FormValue | undefined): value is UploadedFile {
  return typeof value === 'object' && value !== null && value.kind === 'file';
}

export function tooLarge(limitBytes: number): KernelError {
  return new KernelError('too-large', `The request is larger than the ${describeBytes(limitBytes)} allowed`, {
    hint:
      limitBytes > FORM_LIMIT_BYTES
        ? 'Send a smaller file, or ask the administrator to raise uploadLimitMb'
        : 'Send less: a form this size is not one Kernel made',
  });
}

function describeBytes(bytes: number): string {
  return bytes >= 1024 * 1024
    ? `${Math.round(bytes / (1024 * 1024))} MiB`
    : `${Math.round(bytes / 1024)} KiB`;
}

/**
 * The media type a request says its body is: `type/subtype` in lower case, without its
 * parameters (RFC 9110 §8.3.1); undefined when it sends no Content-Type.
 */
export function mediaTypeOf(request: Request): string | undefined {
  const essence = (request.headers.get('Content-Type') ?? '').split(';')[0]?.trim().toLowerCase();
  return essence ? essence : undefined;
}

/** JSON: `application/json`, or a type with the `+json` suffix (RFC 6839 §3.1). */
export function isJsonMediaType(type: string): boolean {
  return type === 'application/json' || /^application\/[^/]+\+json$/.test(type);
}

/**
 * A body of a type other than the JSON an API operation reads (RFC 9110 §15.5.16). The type
 * sent is repeated only when it is a plain media type: the header is the caller's text, and
 * could hold anything.
 */
export function unsupportedMediaType(sent: string): KernelError {
  const named =
    /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$/.test(sent) &&
    !looksLikeIdentifier(sent);
  return new KernelError(
    'unsupported-media-type',
    named
      ? `The request body is ${sent}, and this operation takes application/json`
      : 'The request body is not application/json, which this operation takes',
    { hint: 'Send the body as JSON, with Content-Type: application/json' },
  );
}

/** Refuses at once a body whose declared length is over the limit. */
export function checkDeclaredLength(request: Request, limitBytes: number): void {
  const declared = Number(request.headers.get('Content-Length') ?? '');
  if (Number.isFinite(declared) && declared > limitBytes) throw tooLarge(limitBytes);
}

/** The body as text, read up to the limit and no further. */
export async function readTextBody(request: Request, limitBytes: number = FORM_LIMIT_BYTES): Promise<string> {
  checkDeclaredLength(request, limitBytes);
  if (!request.body) return '';
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > limitBytes) {
      await request.body.cancel().catch(() => undefined);
      throw tooLarge(limitBytes);
    }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * A form's fields: url-encoded or multipart. Multipart files are streamed into `folder`
 * (made on first use and given to `onFolder`, so the caller removes it when the request is
 * done); without `folder`, a multipart form may carry no file.
 */
export async function readForm(
  request: Request,
  options: { limitBytes: number; uploads?: () => string },
): Promise<FormFields> {
  const type = request.headers.get('Content-Type') ?? '';
  if (/^multipart\/form-data/i.test(type)) return readMultipart(request, type, options);
  const text = await readTextBody(request, Math.min(options.limitBytes, FORM_LIMIT_BYTES));
  const fields: FormFields = {};
  // The first value of a repeated field wins, as the form's own order gives it.
  for (const [key, value] of new URLSearchParams(text)) if (!(key in fields)) fields[key] = value;
  return fields;
}

async function readMultipart(
  request: Request,
  type: string,
  options: { limitBytes: number; uploads?: () => string },
): Promise<FormFields> {
  checkDeclaredLength(request, options.limitBytes);
  if (!request.body) return {};
  const fields: FormFields = {};
  const writes: Promise<void>[] = [];
  let received = 0;
  let failure: unknown;
  let parser: ReturnType<typeof busboy>;
  try {
    parser = busboy({
      headers: { 'content-type': type },
      limits: {
        fieldSize: FORM_LIMIT_BYTES,
        fields: 64,
        files: options.uploads ? 4 : 0,
        fileSize: options.limitBytes,
      },
    });
  } catch (error) {
    // busboy throws at once on a multipart type with no boundary (or an empty one).
    throw new KernelError('usage', 'The upload is not a valid form: its Content-Type gives no boundary', {
      where: { field: 'Content-Type' },
      hint: 'Send it as multipart/form-data with a boundary, as a browser or FormData does',
      cause: error,
    });
  }
  const fail = (error: unknown): void => {
    failure ??= error;
    parser.destroy();
  };
  parser.on('field', (name, value) => {
    if (!(name in fields)) fields[name] = value;
  });
  parser.on('file', (name, stream, info) => {
    if (options.uploads && isUploadedFile(fields[name])) {
      // Two files under one name: which was meant cannot be told, so neither is taken. The
      // form is read to its end (within the limit) and then refused.
      failure ??= new KernelError('usage', 'The form carries more than one file in a field', {
        ...(/^[a-z_]{1,40}$/i.test(name) ? { where: { field: name } } : {}),
        hint: 'Send one file in each field',
      });
      stream.resume();
      return;
    }
    if (!options.uploads || name in fields) {
      stream.resume();
      return;
    }
    const file = path.join(options.uploads(), `field-${Object.keys(fields).length}`);
    const entry: UploadedFile = { kind: 'file', path: file, name: info.filename ?? '', size: 0 };
    fields[name] = entry;
    stream.on('data', (chunk: Buffer) => (entry.size += chunk.length));
    stream.on('limit', () => fail(tooLarge(options.limitBytes)));
    writes.push(pipeline(stream, createWriteStream(file, { mode: 0o600 })).catch(fail));
  });
  parser.on('filesLimit', () => fail(new KernelError('usage', 'The form carries more files than it takes')));
  parser.on('error', fail);
  const body = Readable.fromWeb(request.body as unknown as WebReadableStream<Uint8Array>);
  body.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received > options.limitBytes) {
      fail(tooLarge(options.limitBytes));
      body.destroy();
    }
  });
  await new Promise<void>((resolve) => {
    parser.on('close', resolve);
    body.on('error', (error) => {
      fail(error);
      resolve();
    });
    body.on('close', () => {
      if (failure) resolve();
    });
    body.pipe(parser);
  });
  await Promise.all(writes);
  if (failure) {
    throw failure instanceof KernelError
      ? failure
      : new KernelError('usage', 'The upload could not be read: it was cut short or is not a form', {
          hint: 'Send it again',
        });
  }
  return fields;
}

/** A private temporary folder for one request's uploads, made on first use. */
export function uploadFolder(): { folder: () => string; remove: () => void } {
  let dir: string | undefined;
  return {
    folder: () => (dir ??= mkdtempSync(path.join(os.tmpdir(), 'kernel-upload-'))),
    remove: () => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
