/**
 * CLI commands generated from operation declarations: each input field becomes a flag (or
 * a positional argument), named in kebab case unless the declaration renames it; lists are
 * repeatable and comma-separated, enums offer their choices, and required fields are
 * mandatory. The command runs the operation as the CLI's principal (the operator, or the
 * user whose API token is in KERNEL_TOKEN) and prints its lines, or JSON with --json.
 */
import { Option, type Command } from 'commander';
import { z } from 'zod';
import { baseTypeOf, fromText, type AnyOperation, type FieldNamer } from '../operations/operation.ts';
import { printJson, type CliContext } from './cli-context.ts';

const kebab = (field: string): string => field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const camel = (flag: string): string => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** Repeatable, comma-separated list options: `--dataset apc,op --dataset ecds`. */
export const listOption = (value: string, previous: string[] = []): string[] => [
  ...previous,
  ...value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean),
];

interface FlagShape {
  field: string;
  flag: string;
  negate: boolean;
}

function flagsOf(operation: AnyOperation): FlagShape[] {
  const schema = operation.input as z.ZodObject;
  const args = new Set<string>(operation.cli?.args ?? []);
  return Object.keys(schema.shape)
    .filter((field) => !args.has(field))
    .map((field) => {
      const declared: unknown = operation.cli?.flags?.[field];
      if (typeof declared === 'string') return { field, flag: declared, negate: false };
      if (declared && typeof declared === 'object' && 'flag' in declared)
        return { field, flag: String(declared.flag), negate: true };
      return { field, flag: kebab(field), negate: false };
    });
}

/** The description a field was given, under its optional and default wrappers. */
function descriptionOf(schema: z.ZodType): string {
  let current: z.core.$ZodType | undefined = schema;
  while (current) {
    const described = z.globalRegistry.get(current)?.description;
    if (described) return described;
    current = (current._zod.def as { innerType?: z.core.$ZodType }).innerType;
  }
  return '';
}

function enumValues(schema: z.ZodType): string[] | undefined {
  let current: z.core.$ZodType | undefined = schema;
  while (current) {
    const def = current._zod.def as {
      type: string;
      entries?: Record<string, string>;
      innerType?: z.core.$ZodType;
    };
    if (def.type === 'enum' && def.entries) return Object.values(def.entries);
    current = def.innerType;
  }
  return undefined;
}

function optionFor(shape: FlagShape, schema: z.ZodType): Option {
  const type = baseTypeOf(schema);
  const required = !schema.safeParse(undefined).success;
  const description = descriptionOf(schema);
  if (type === 'boolean')
    return new Option(`--${shape.flag}`, shape.negate ? `not: ${description}` : description);
  const option = new Option(`--${shape.flag} <${type === 'array' ? 'values' : 'value'}>`, description);
  if (type === 'array') option.argParser(listOption);
  const choices = enumValues(schema);
  if (choices) option.choices(choices);
  if (required) option.makeOptionMandatory();
  return option;
}

/** The command at `words`, made if it is not there yet (hand-written and generated commands share groups). */
export function commandFor(program: Command, words: readonly string[]): Command {
  let parent = program;
  for (const word of words) {
    parent = parent.commands.find((c) => c.name() === word) ?? parent.command(word);
  }
  return parent;
}

export function registerOperationCommands(
  program: Command,
  context: CliContext,
  operations: readonly AnyOperation[],
): void {
  for (const operation of operations) {
    const cli = operation.cli;
    if (!cli) continue;
    const schema = operation.input as z.ZodObject;
    const args = cli.args ?? [];
    const flags = flagsOf(operation);
    const parent = commandFor(program, cli.command.slice(0, -1));
    const command = parent
      .command([cli.command.at(-1), ...args.map((a) => `<${a}>`)].join(' '), { isDefault: cli.isDefault })
      .description(cli.description ?? operation.summary.charAt(0).toLowerCase() + operation.summary.slice(1));
    for (const shape of flags) command.addOption(optionFor(shape, schema.shape[shape.field] as z.ZodType));
    command.option('--json', 'print JSON');
    const nameOf: FieldNamer = (field) =>
      args.includes(field) ? `<${field}>` : `--${flags.find((f) => f.field === field)?.flag ?? kebab(field)}`;
    command.action(async (...given: unknown[]) => {
      const opts = given[args.length] as Record<string, unknown>;
      const raw: Record<string, unknown> = {};
      args.forEach((arg, i) => (raw[arg] = given[i]));
      for (const shape of flags) {
        const value = opts[camel(shape.flag)];
        if (value !== undefined) raw[shape.field] = shape.negate ? !value : value;
      }
      const output: unknown = await context.run(operation, fromText(schema, raw), nameOf);
      if (opts.json) return printJson(context.io, cli.json ? cli.json(output) : output);
      context.io.out(cli.print(output));
    });
  }
}
