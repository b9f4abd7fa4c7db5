/**
 * How a portal page answers a form: read its text fields, run an operation and go on to the
 * page of what it changed.
 */
import type { z } from 'zod';
import type { Operation } from '../operations/operation.ts';
import type { FormFields, FormValue } from './request-body.ts';
import type { RouteRequest } from './routes.ts';

/** A form field's text; a field the form left out (or a file) reads as blank. */
export function formText(value: FormValue | undefined): string {
  return typeof value === 'string' ? value : '';
}

/**
 * A form that runs one operation, then redirects to the page of what it changed (POST,
 * redirect, GET: reloading that page does not send the form again). A mistake stands as the
 * portal's error page.
 */
export function runThenRedirect<O>(
  operation: Operation<z.ZodObject, z.ZodType<O>>,
  inputOf: (r: RouteRequest, form: FormFields) => Record<string, unknown>,
  next: (output: O) => string,
): (r: RouteRequest) => Promise<Response> {
  return async (r) => r.redirect(next(await r.run(operation, inputOf(r, await r.form()))));
}

/**
 * A reviewer's decision form on the item at `:id` (an output checker's, a re-identification
 * approver's): its `decision` and `comment` to the operation, then back to the item's page.
 */
export function decisionOnItem<O extends { id: string }>(
  operation: Operation<z.ZodObject, z.ZodType<O>>,
  itemsPath: string,
): (r: RouteRequest) => Promise<Response> {
  return runThenRedirect(
    operation,
    (r, form) => ({ id: r.param('id'), decision: formText(form.decision), comment: formText(form.comment) }),
    (item) => `${itemsPath}/${encodeURIComponent(item.id)}`,
  );
}
