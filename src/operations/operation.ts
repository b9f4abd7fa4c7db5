/**
 * The operation registry's declaration format. An operation — register an organisation,
 * approve a use case, list the reads of a controller's data — is declared once: its input
 * and output as zod schemas, who may run it, and a domain function that receives the
 * principal. The CLI's commands (`src/cli/operation-commands.ts`), the API's routes
 * (`src/server/operation-routes.ts`), input validation, error messages and the OpenAPI
 * document are all generated from the declaration, so they cannot disagree.
 *
 * See docs/engineering.md, "Adding an operation", for a worked example.
 */
import { z } from 'zod';
import type { KernelConfig } from '../config/config.ts';
import { KernelError } from '../errors.ts';
import type { Store } from '../store/store.ts';
import { actorOf, mayUse, type Access, type Principal } from './principal.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** What an operation's domain function receives besides its input. */
export interface OperationContext {
  store: Store;
  principal: Principal;
  /** the audit log's name for the principal: `user:<email>`, `token:<id>`, `cli:<user>` */
  actor: string;
  config?: KernelConfig;
  /** the clock, where the entry point has its own (a server under test passes a fixed one) */
  now?: () => Date;
}

/** How an operation appears in the CLI: `kernel usecases approve <id> --org RWF`. */
export interface CliShape<Input, Output> {
  /** the command's words, e.g. `['usecases', 'approve']` */
  command: readonly string[];
  /** input fields taken as positional arguments, in order: `['id']` → `approve <id>` */
  args?: readonly (keyof Input & string)[];
  /**
   * a field's flag when it is not the field's name in kebab case (`datasets` → `dataset`,
   * repeatable); `negate` makes a boolean that defaults to true a flag that sets it false
   */
  flags?: Partial<Record<keyof Input & string, string | { flag: string; negate: true }>>;
  description?: string;
  /** the group runs this command when given no other (`kernel plan` lists the plan) */
  isDefault?: true;
  /** the human-readable lines; `--json` prints `json(output)` instead */
  print(output: Output): string;
  /** what `--json` prints, when the CLI has always printed less than the API answers */
  json?(output: Output): unknown;
}

/** How an operation appears in the API: `POST /api/v1/use-cases/{id}/approve`. */
export interface HttpShape {
  method: HttpMethod;
  /** Hono path syntax; each `:param` is an input field */
  path: string;
  /** 201 for operations that create something */
  status?: 200 | 201;
  /** concrete path parameters, for the route × role test and the docs */
  example?: Record<string, string>;
}

/** An operation but for its OpenAPI tag and who may run it, which a module may share (`operationsOf`). */
export interface OperationBody<I extends z.ZodObject = z.ZodObject, O extends z.ZodType = z.ZodType> {
  /** stable dotted name, e.g. `use-cases.approve` */
  name: string;
  /** one line, plain English: the OpenAPI summary and the command's description */
  summary: string;
  input: I;
  output: O;
  http?: HttpShape;
  cli?: CliShape<z.output<I>, z.output<O>>;
  run(context: OperationContext, input: z.output<I>): Promise<z.input<O>> | z.input<O>;
}

export interface Operation<
  I extends z.ZodObject = z.ZodObject,
  O extends z.ZodType = z.ZodType,
> extends OperationBody<I, O> {
  /** the OpenAPI grouping */
  tag: string;
  access: Access;
}

/** Declares an operation; the types of `run`, `print` and the schemas are checked together. */
export function defineOperation<I extends z.ZodObject, O extends z.ZodType>(
  operation: Operation<I, O>,
): Operation<I, O> {
  return operation;
}

/**
 * Declares a module's operations, which share an OpenAPI tag and (unless one says otherwise)
 * who may run them: `const define = operationsOf({ tag: 'programme', access: TEAM })`.
 */
export function operationsOf(defaults: { tag: string; access: Access }) {
  return <I extends z.ZodObject, O extends z.ZodType>(
    operation: OperationBody<I, O> & { access?: Access },
  ): Operation<I, O> => ({ ...defaults, ...operation });
}

/**
 * The fields the caller gave, for a domain function whose options are left out rather than
 * undefined: `listInvoices(store, givenFields({ year, org }))`. Empty text (a form's blank
 * field) counts as not given.
 */
export function givenFields<T extends Record<string, unknown>>(input: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(input).filter(([, v]) => v !== undefined && v !== ''),
  ) as Partial<T>;
}

/** The common type of a list of operations of different schemas. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyOperation = Operation<any, any>;

/** How an entry point names an input field in a message: `"org"` in the API, `--org` in the CLI. */
export type FieldNamer = (field: string) => string;

export const apiFieldName: FieldNamer = (field) => `"${field}"`;

/**
 * Checks the principal may run it, validates the input, and runs it. Every entry point
 * comes through here, so none can skip a check.
 */
export async function runOperation<I extends z.ZodObject, O extends z.ZodType>(
  operation: Operation<I, O>,
  context: Omit<OperationContext, 'actor'>,
  raw: Record<string, unknown>,
  nameOf: FieldNamer = apiFieldName,
): Promise<z.output<O>> {
  const { principal } = context;
  if (!mayUse(operation.access, principal)) {
    throw new KernelError(
      'forbidden',
      `Your role (${principal.role}) may not ${refusedAction(operation.summary)}`,
      {
        // The operator is an administrator already: asking one would go round in a circle.
        hint:
          principal.via === 'operator'
            ? 'At the command line you act as the operator; to act as a user whose role may, set KERNEL_TOKEN to their API token (kernel tokens new)'
            : 'Ask an administrator if you need it',
      },
    );
  }
  const input = parseInput(operation.input, raw, nameOf);
  const output = await operation.run({ ...context, actor: actorOf(principal) }, input);
  return output as z.output<O>;
}

/**
 * The verbs a summary that says what an operation does begins with ("Approve a use case"); a
 * summary beginning with any other word names what it answers ("One saved cohort").
 */
const IMPERATIVE_VERBS = new Set(
  (
    'add approve ask cancel change check close confirm count create delete download draft echo end ' +
    'export generate give grant import invite issue list load make mark open propose publish raise ' +
    'read record refuse register reinstate reject release remove reopen replace request return ' +
    'revoke rotate run save send set show sign submit suspend update upload verify withdraw'
  ).split(' '),
);

/**
 * What a refused caller may not do, to end "Your role (viewer) may not …": the summary before
 * any colon or closing aside (the rest explains the operation, not the refusal) when it is a
 * verb phrase; "see …" before a noun phrase; "ask …" before a question.
 */
export function refusedAction(summary: string): string {
  const phrase = (summary.split(':')[0] ?? summary).replace(/\s*\([^)]*\)\s*$/, '').trim();
  const first = phrase.split(/[\s,]/)[0] ?? '';
  // Only a first word in plain lower case after its capital is lowered: SELECT, API and
  // Kernel stay as written.
  const lowered =
    /^[A-Z][a-z-]*$/.test(first) && first !== 'Kernel'
      ? phrase.charAt(0).toLowerCase() + phrase.slice(1)
      : phrase;
  if (IMPERATIVE_VERBS.has(first.toLowerCase())) return lowered;
  if (phrase.endsWith('?')) return `ask “${phrase}”`;
  return `see ${lowered}`;
}

/** Validates `raw` against `schema`, with a message that names the field as the caller wrote it. */
export function parseInput<I extends z.ZodObject>(
  schema: I,
  raw: Record<string, unknown>,
  nameOf: FieldNamer = apiFieldName,
): z.output<I> {
  // reportInput: a message can then tell a missing field from one of the wrong type.
  const parsed = schema.safeParse(raw, { reportInput: true });
  if (parsed.success) return parsed.data;
  const [issue] = parsed.error.issues;
  if (issue?.code === 'unrecognized_keys' && issue.path.length === 0) {
    // A strict input (`.strict()`): a field it does not have is a mistake, named as written.
    const [first] = issue.keys;
    throw new KernelError('usage', `${issue.keys.map(nameOf).join(', ')}: not a field Kernel knows here`, {
      where: { field: first ?? '' },
      hint: `Leave ${issue.keys.length === 1 ? 'it' : 'them'} out; the fields are ${Object.keys(schema.shape).map(nameOf).join(', ')}`,
    });
  }
  const field = issue?.path.map(String).join('.') ?? '';
  // A nested field is named by the top-level one the caller wrote (`--rule`, `"source"`).
  const top = issue?.path[0] === undefined ? '' : String(issue.path[0]);
  throw new KernelError('usage', describeIssue(issue, top ? nameOf(top) : 'The input'), {
    ...(field ? { where: { field } } : {}),
  });
}

function describeIssue(issue: z.core.$ZodIssue | undefined, name: string): string {
  if (!issue) return `${name} is not valid`;
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined || issue.input === null || issue.input === ''
        ? `${name} is required`
        : `${name} must be ${article(issue.expected)}`;
    case 'invalid_value':
      return `${name} must be one of: ${issue.values.map(String).join(', ')}`;
    case 'too_small':
      if (issue.minimum === 1 && issue.origin === 'string') return `${name} is required`;
      if (issue.minimum === 1 && issue.origin === 'array') return `${name} must list at least one`;
      return `${name}: ${issue.message}`;
    case 'invalid_union': {
      const discriminator = (issue as { discriminator?: string }).discriminator;
      const options = (issue as { options?: unknown[] }).options ?? [];
      if (!discriminator) return `${name}: ${issue.message}`;
      const given = (issue.input as Record<string, unknown> | undefined)?.[discriminator];
      // Echo what was given only when it is plainly a word, never something that could identify.
      const shown = typeof given === 'string' && /^[A-Za-z-]{1,30}$/.test(given) ? ` "${given}"` : '';
      return `${name}: unknown ${discriminator}${shown}; expected ${options.map(String).join(', ')}`;
    }
    case 'unrecognized_keys':
      return `${name} has fields Kernel does not know: ${issue.keys.join(', ')}`;
    default:
      // zod's own message says the rule (too small, wrong format…); name the field before it.
      return `${name}: ${issue.message}`;
  }
}

function article(expected: string): string {
  if (expected === 'array') return 'a list';
  if (expected === 'object') return 'an object';
  if (expected === 'int') return 'a whole number';
  return `a ${expected}`;
}

/** JSON Schema (2020-12, as OpenAPI 3.1 uses) for a request or a response body. */
export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  delete json.$schema;
  return json;
}

/** The zod type name under optional, default and nullable wrappers: 'string', 'number', 'array'… */
export function baseTypeOf(schema: z.ZodType): string {
  let current = schema as z.core.$ZodType;
  for (;;) {
    const def = current._zod.def as { type: string; innerType?: z.core.$ZodType; in?: z.core.$ZodType };
    if (def.innerType) current = def.innerType;
    else if (def.type === 'pipe' && def.in) current = def.in;
    else return def.type;
  }
}

/**
 * Input that arrives as text — command-line flags, query strings, path parameters — turned
 * into what the schema expects (a number, a list), so one schema serves every entry point.
 * A value that cannot be converted is passed on as it is, for the schema to refuse by name.
 */
export function fromText(schema: z.ZodObject, raw: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    const fieldSchema = schema.shape[field] as z.ZodType | undefined;
    const type = fieldSchema ? baseTypeOf(fieldSchema) : 'unknown';
    if (typeof value === 'string' && type === 'number') {
      const number = Number(value.replace(/[,_]/g, ''));
      out[field] = value.trim() !== '' && Number.isFinite(number) ? number : value;
    } else if (typeof value === 'string' && type === 'boolean') {
      out[field] = value === 'true' ? true : value === 'false' ? false : value;
    } else if (typeof value === 'string' && type === 'array') {
      out[field] = value
        .split(',')
        .map((v) => v.trim())
        .filter(Boolean);
    } else {
      out[field] = value;
    }
  }
  return out;
}
