/**
 * The row rules a load checks, as SQL conditions over the file's values as text, so
 * validation runs inside the engine at column speed rather than row by row in JavaScript.
 * The conditions (and `castValue`) read a relation of trimmed values, `trimmedValue` of
 * each column, so each value is trimmed once however many rules look at it.
 *
 * Rule ids (stable; senders see them in reports):
 * - `required`   a mandatory value is missing
 * - `type`       not a valid value of the field's type (a date that does not exist, a
 *                number that is not one, text longer than the field allows)
 * - `code`       not in the field's code list
 * - `date-order` an end before its start
 * - `duplicate`  a row repeated within the file (counted and dropped; see load/repeats.ts)
 * - `nhs-number` an invalid or missing NHS number, counted at source (from the manifest)
 * - `birth-date` a date of birth given but not read, counted at source (from the manifest)
 */
import { anchored } from '../catalogue/catalogue.ts';
import type { CodeList, FieldType } from '../catalogue/dataset-spec.ts';
import type { AcceptedColumn, DeidPlan } from '../privacy/deid-plan.ts';
import type { Dialect } from '../store/dialect.ts';
import { quoteIdentifier, quoteLiteral } from '../store/sql.ts';

/** `control-total`: the load disagrees with a total the sender's own system computed (manifest). */
export const RULE_IDS = [
  'required',
  'type',
  'code',
  'date-order',
  'days-within',
  'duplicate',
  'nhs-number',
  'control-total',
  'birth-date',
] as const;
export type RuleId = (typeof RULE_IDS)[number];

export interface RowCheck {
  rule: Exclude<RuleId, 'duplicate' | 'nhs-number' | 'control-total' | 'birth-date'>;
  field: string;
  /** true where the row fails */
  condition: string;
  /**
   * Set where another check of the same row fails wherever this one does (ICD-10's length
   * beside its shape), so whether a row fails any check need not ask this one (anyCheckFails).
   */
  covered?: true;
}

/**
 * True where a row fails any of `checks`, for a write that needs only whether a row fails,
 * not which rule it failed first: a check another one covers is left out.
 */
export function anyCheckFails(checks: readonly RowCheck[]): string {
  const asked = checks.filter((c) => !c.covered);
  return asked.length ? asked.map((c) => `(${c.condition})`).join(' OR ') : 'FALSE';
}

/**
 * A column's value as the rules see it: trimmed of spaces, with empty text as missing.
 * TRIM only where there is a space to trim: most values have none, and testing the ends
 * costs a third of what TRIM does on every value (DuckDB, a million 32-column rows).
 */
export function trimmedValue(column: string, prefix = ''): string {
  const c = `${prefix}${quoteIdentifier(column)}`;
  return `CASE WHEN ${c} LIKE ' %' OR ${c} LIKE '% ' THEN NULLIF(TRIM(${c}), '') ELSE ${emptyAsNull(column, prefix)} END`;
}

/** The same for a value known to have no space at either end: empty text as missing. */
export function emptyAsNull(column: string, prefix = ''): string {
  return `NULLIF(${prefix}${quoteIdentifier(column)}, '')`;
}

/** A column of the trimmed relation. */
function valueOf(column: string, prefix = ''): string {
  return `${prefix}${quoteIdentifier(column)}`;
}

/**
 * The typed value of each column that has a type to cast to (integer, decimal, date,
 * datetime), computed once in the relation the checks read, as a column of its own beside
 * the text: the type check, the date-order and days-within checks and the stored value then
 * share one parse. Without it a date with order rules is parsed for its type check, once
 * for each rule it is in (the SUS APC's admission date, in 26) and again for its cast.
 * Maps a column's name to its typed column's.
 */
export type TypedValues = ReadonlyMap<string, string>;

export function typedValues(plan: DeidPlan): TypedValues {
  return new Map(
    plan.columns
      .filter(
        (c) => c.type === 'integer' || c.type === 'decimal' || c.type === 'date' || c.type === 'datetime',
      )
      .map((c, i) => [c.name, `kernel_typed_${i}`]),
  );
}

function typedName(typed: TypedValues, name: string): string {
  return typed.get(name) as string;
}

/** The typed columns' definitions, for a SELECT over the trimmed relation (aliased `prefix`). */
export function typedColumns(plan: DeidPlan, typed: TypedValues, dialect: Dialect, prefix = ''): string[] {
  return plan.columns.flatMap((c) => {
    const name = typed.get(c.name);
    const cast = name ? tryCastOf(c.type, valueOf(c.name, prefix), dialect) : undefined;
    return name && cast ? [`${cast} AS ${quoteIdentifier(name)}`] : [];
  });
}

/** Past this many globs a shape keeps its regular expression (shapeGlobs). */
const MAX_GLOBS = 8;

/**
 * The strings a simple shape matches, as globs of one character class or literal a
 * character, with each glob's length: for a shape that is a sequence of ASCII letters,
 * digits and classes of them, each repeated a bounded number of times
 * (`[A-Z][0-9]{2}[0-9A-Z]{0,3}`, ICD-10's). Such a glob matches a string exactly where the
 * shape matches it whole: each class takes one byte, and no byte of a non-ASCII character is
 * in any class. Undefined for any other shape, or one that would take more than MAX_GLOBS.
 */
export function shapeGlobs(pattern: string): { glob: string; length: number }[] | undefined {
  const item = /(\[(?:[A-Za-z0-9]-[A-Za-z0-9]|[A-Za-z0-9])+\]|[A-Za-z0-9])(?:(\?)|\{(\d+)(?:,(\d+))?\})?/y;
  let globs = [{ glob: '', length: 0 }];
  item.lastIndex = 0;
  while (item.lastIndex < pattern.length) {
    const [, unit = '', optional, from, to] = item.exec(pattern) ?? [];
    // a range the wrong way round is an error in a regular expression, not an empty class
    const ranges = [...unit.matchAll(/([A-Za-z0-9])-([A-Za-z0-9])/g)];
    if (!unit || ranges.some(([, lo = '', hi = '']) => lo > hi)) return undefined;
    const min = optional ? 0 : Number(from ?? 1);
    const max = optional ? 1 : Number(to ?? from ?? 1);
    if (min > max) return undefined;
    const next = new Map<string, number>();
    for (const { glob, length } of globs)
      for (let n = min; n <= max; n++) next.set(glob + unit.repeat(n), length + n);
    if (next.size > MAX_GLOBS) return undefined;
    globs = [...next].map(([glob, length]) => ({ glob, length }));
  }
  return globs;
}

/**
 * A boolean expression for a value that is not NULL (the checks test that first): it
 * matches the regular expression `pattern` whole (a field's or a code list's shape). Where
 * the engine has a glob and the shape is simple (shapeGlobs), the globs of the value's
 * length in bytes; otherwise the regular expression.
 */
function shapeMatch(v: string, pattern: string, dialect: Dialect): string {
  const globs = shapeGlobs(pattern);
  const glob = dialect.globMatch;
  if (!globs || !glob) return dialect.regexMatch(v, quoteLiteral(pattern));
  const byLength = new Map<number, string[]>();
  for (const g of globs) byLength.set(g.length, [...(byLength.get(g.length) ?? []), g.glob]);
  const any = (of: string[]): string => of.map((g) => glob(v, quoteLiteral(g))).join(' OR ');
  if (byLength.size === 1) return `(${any(globs.map((g) => g.glob))})`;
  const cases = [...byLength].map(([length, of]) => `WHEN ${length} THEN ${any(of)}`);
  return `(CASE ${dialect.byteLength(v)} ${cases.join(' ')} ELSE FALSE END)`;
}

/** The longest string a shape matches, where shapeGlobs knows it. */
function shapeMaxLength(pattern: string): number | undefined {
  const globs = shapeGlobs(pattern);
  return globs ? Math.max(...globs.map((g) => g.length)) : undefined;
}

const BOOLEAN_TEXT = ['true', 'false', 'TRUE', 'FALSE', '1', '0', 'Y', 'N', 'y', 'n'];
const TRUE_TEXT = ['true', 'TRUE', '1', 'Y', 'y'];

/** The value try-cast to its type (NULL where it is not one), for the types that have one. */
function tryCastOf(type: FieldType, v: string, dialect: Dialect): string | undefined {
  switch (type) {
    case 'integer':
      return dialect.tryInteger(v);
    case 'decimal':
      return dialect.tryNumber(v);
    case 'date':
      return dialect.tryDate(v);
    case 'datetime':
      return dialect.tryTimestamp(v);
    default:
      return undefined;
  }
}

/** `cast` is the value try-cast to its type (tryCastOf, or the relation's typed column). */
function notOfType(type: FieldType, v: string, dialect: Dialect, cast: string): string | undefined {
  switch (type) {
    case 'integer':
    case 'decimal':
    case 'datetime':
      return `${cast} IS NULL`;
    case 'date':
      // ISO 8601 calendar dates only (CCYY-MM-DD, the Data Dictionary's format).
      return `(length(${v}) <> 10 OR ${cast} IS NULL)`;
    case 'time':
      return `NOT ${dialect.regexMatch(v, quoteLiteral('([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?'))}`;
    case 'boolean':
      return `${v} NOT IN (${BOOLEAN_TEXT.map(quoteLiteral).join(', ')})`;
    case 'string':
    case 'code':
      return undefined;
  }
}

/** Every check for every accepted column, in field order: required, type, code, then date order. */
export function rowChecks(
  plan: DeidPlan,
  codeList: (listId: string) => CodeList | undefined,
  dialect: Dialect,
  typed?: TypedValues,
): RowCheck[] {
  const checks: RowCheck[] = [];
  const typeOf = new Map<string, FieldType>();
  /** a column's try-cast value: the relation's own column where it has one (TypedValues) */
  const tryCast = (name: string, type: FieldType, v = valueOf(name)): string =>
    typed?.has(name) ? valueOf(typedName(typed, name)) : (tryCastOf(type, v, dialect) ?? v);
  for (const column of plan.columns) {
    typeOf.set(column.name, column.type);
    const v = valueOf(column.name);
    const field = column.kind === 'copy' ? column.field : undefined;
    if (column.required) checks.push({ rule: 'required', field: column.name, condition: `${v} IS NULL` });
    const conditions: string[] = [];
    const typeCondition = notOfType(column.type, v, dialect, tryCast(column.name, column.type));
    if (typeCondition) conditions.push(typeCondition);
    // A value of the field's shape is no longer than the shape allows: where that is within
    // the field's length, the shape alone says both.
    const maxLength = field?.maxLength;
    const shapeLength = field?.pattern !== undefined ? shapeMaxLength(field.pattern) : undefined;
    const lengthCheck =
      maxLength !== undefined && !(shapeLength !== undefined && shapeLength <= maxLength)
        ? `length(${v}) > ${maxLength}`
        : undefined;
    if (lengthCheck) conditions.push(lengthCheck);
    if (field?.pattern !== undefined) conditions.push(`NOT ${shapeMatch(v, field.pattern, dialect)}`);
    const numeric =
      column.type === 'integer' || column.type === 'decimal' ? tryCast(column.name, column.type) : undefined;
    if (numeric && field?.minimum !== undefined) conditions.push(`${numeric} < ${field.minimum}`);
    if (numeric && field?.maximum !== undefined) conditions.push(`${numeric} > ${field.maximum}`);
    const typeCheck: RowCheck | undefined =
      conditions.length > 0
        ? {
            rule: 'type',
            field: column.name,
            condition: `(${v} IS NOT NULL AND (${conditions.join(' OR ')}))`,
          }
        : undefined;
    if (typeCheck) checks.push(typeCheck);
    const list = field?.codeList ? codeList(field.codeList) : undefined;
    if (list && list.codes.length > 0) {
      // A subset list (a few codes of ICD-10, OPCS-4, SNOMED CT) also accepts any value
      // shaped like a code of the whole scheme (CodeList.subset in dataset-spec.ts). Its codes
      // of that shape are accepted by the shape alone, so only the others need listing: for
      // the SUS APC's 44 diagnosis and procedure positions, none (a fifth of the checks' time).
      const scheme = list.subset ? list.pattern : undefined;
      const schemeShape = scheme ? anchored(scheme) : undefined;
      const listed = list.codes.map((c) => c.code).filter((code) => !schemeShape?.test(code));
      const outside = listed.length ? `${v} NOT IN (${listed.map(quoteLiteral).join(', ')})` : undefined;
      const shapeCheck = scheme ? `NOT ${shapeMatch(v, scheme, dialect)}` : undefined;
      const condition = [outside, shapeCheck].filter((c) => c !== undefined).join(' AND ');
      const codeCheck: RowCheck = {
        rule: 'code',
        field: column.name,
        condition: `(${v} IS NOT NULL AND ${condition})`,
      };
      // Covered: a value too long for the field is neither listed nor of the scheme's shape,
      // when both fit the field; a value not of the scheme's shape fails the field's own
      // pattern, when that is the same shape.
      const longest = scheme ? shapeMaxLength(scheme) : 0;
      const fits =
        maxLength !== undefined &&
        longest !== undefined &&
        longest <= maxLength &&
        listed.every((code) => [...code].length <= maxLength);
      if (typeCheck && conditions.length === 1 && conditions[0] === lengthCheck && fits)
        typeCheck.covered = true;
      if (typeCheck && scheme !== undefined && field?.pattern === scheme) codeCheck.covered = true;
      checks.push(codeCheck);
    }
  }
  for (const { start, end } of plan.spec.dateOrder) {
    const startType = typeOf.get(start);
    const endType = typeOf.get(end);
    if (!startType || !endType) continue;
    const as = (name: string, type: FieldType): string =>
      tryCast(name, type === 'datetime' ? 'datetime' : 'date');
    checks.push({
      rule: 'date-order',
      field: end,
      condition: `(${as(end, endType)} < ${as(start, startType)})`,
    });
  }
  for (const { days, start, end } of plan.spec.daysWithin ?? []) {
    const startType = typeOf.get(start);
    const endType = typeOf.get(end);
    if (!typeOf.has(days) || !startType || !endType) continue;
    // The calendar day of each: a timestamp's date, so 23:00 to 01:00 next day is two days.
    const dayOf = (name: string, type: FieldType): string =>
      type === 'datetime' ? `CAST(${tryCast(name, 'datetime')} AS DATE)` : tryCast(name, 'date');
    checks.push({
      rule: 'days-within',
      field: days,
      condition: `(${tryCast(days, 'integer')} > ${dayOf(end, endType)} - ${dayOf(start, startType)} + 1)`,
    });
  }
  return checks;
}

/** The SQL type a column is stored as in `ds_<id>` (engineering.md: the shared dialect). */
export function storedType(type: FieldType): string {
  switch (type) {
    case 'integer':
      return 'BIGINT';
    case 'decimal':
      return 'DOUBLE PRECISION';
    case 'date':
      return 'DATE';
    case 'boolean':
      return 'BOOLEAN';
    case 'datetime': // ISO-8601 text, as every time in Kernel is stored
    case 'time':
    case 'string':
    case 'code':
      return 'TEXT';
  }
}

/** A validated value (from the trimmed relation) cast to its stored type. */
export function castValue(column: AcceptedColumn, prefix = '', typed?: TypedValues): string {
  const v = valueOf(column.name, prefix);
  // A value that passed its type check: its try-cast is its cast (a datetime is stored as text).
  const cast = column.type === 'datetime' ? undefined : typed?.get(column.name);
  if (cast) return valueOf(cast, prefix);
  switch (column.type) {
    case 'integer':
      return `CAST(${v} AS BIGINT)`;
    case 'decimal':
      return `CAST(${v} AS DOUBLE PRECISION)`;
    case 'date':
      return `CAST(${v} AS DATE)`;
    case 'boolean':
      return `CASE WHEN ${v} IS NULL THEN NULL WHEN ${v} IN (${TRUE_TEXT.map(quoteLiteral).join(', ')}) THEN TRUE ELSE FALSE END`;
    default:
      return v;
  }
}
