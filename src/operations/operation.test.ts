import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { KernelError } from '../errors.ts';
import type { Store } from '../store/store.ts';
import {
  defineOperation,
  fromText,
  jsonSchemaOf,
  parseInput,
  refusedAction,
  runOperation,
} from './operation.ts';
import { COHORT_OPERATIONS } from '../cohorts/cohort-operations.ts';
import { WORKSPACE_OPERATIONS } from '../workspace/workspace-operations.ts';
import { actorOf, operatorPrincipal, type Principal } from './principal.ts';

const input = z.object({
  title: z.string().trim().min(1),
  count: z.number().int().optional(),
  purpose: z.enum(['planning', 'research']).optional(),
  datasets: z.array(z.string()).min(1).optional(),
  rule: z
    .discriminatedUnion('kind', [
      z.object({ kind: z.literal('population') }),
      z.object({ kind: z.literal('income') }),
    ])
    .optional(),
});

function messageOf(work: () => unknown): string {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(KernelError);
    expect((error as KernelError).code).toBe('usage');
    return (error as KernelError).message;
  }
  throw new Error('expected a usage error');
}

describe('parseInput', () => {
  it('names the field as the caller wrote it, and says what is wrong', () => {
    expect(messageOf(() => parseInput(input, {}))).toBe('"title" is required');
    expect(messageOf(() => parseInput(input, { title: '  ' }))).toBe('"title" is required');
    expect(messageOf(() => parseInput(input, { title: 'x', count: 'many' }))).toBe(
      '"count" must be a number',
    );
    expect(messageOf(() => parseInput(input, { title: 'x', purpose: 'sales' }))).toBe(
      '"purpose" must be one of: planning, research',
    );
    expect(messageOf(() => parseInput(input, { title: 'x', datasets: [] }))).toBe(
      '"datasets" must list at least one',
    );
    expect(messageOf(() => parseInput(input, { title: 'x', rule: { kind: 'vibes' } }))).toBe(
      '"rule": unknown kind "vibes"; expected population, income',
    );
    expect(messageOf(() => parseInput(input, { count: 1 }, (f) => `--${f}`))).toBe('--title is required');
  });

  it('refuses a field a strict input does not have, naming it as the caller wrote it', () => {
    const strict = input.strict();
    let error: unknown;
    try {
      parseInput(strict, { title: 'x', frailty: 'severe' }, (f) => `--${f}`);
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({
      code: 'usage',
      message: '--frailty: not a field Kernel knows here',
      where: { field: 'frailty' },
      hint: expect.stringContaining('--title, --count'),
    });
    // A lenient input still leaves an unknown field out.
    expect(parseInput(input, { title: 'x', frailty: 'severe' })).toEqual({ title: 'x' });
  });

  it('never echoes a value that could identify someone', () => {
    const message = messageOf(() => parseInput(input, { title: 'x', rule: { kind: '9990000026' } }));
    expect(message).not.toContain('9990000026');
  });
});

describe('fromText', () => {
  it('turns flags and query strings into what the schema expects, and leaves the rest for it to refuse', () => {
    expect(fromText(input, { title: 't', count: '1,200', datasets: 'apc, op', purpose: undefined })).toEqual({
      title: 't',
      count: 1200,
      datasets: ['apc', 'op'],
    });
    expect(fromText(input, { count: 'lots' })).toEqual({ count: 'lots' });
  });
});

describe('runOperation', () => {
  const ran: { actor: string; title: string }[] = [];
  const operation = defineOperation({
    name: 'test.echo',
    summary: 'Echo a title',
    tag: 'test',
    access: ['admin', 'programme'],
    input,
    output: z.object({ title: z.string() }),
    run: ({ actor }, { title }) => {
      ran.push({ actor, title });
      return { title };
    },
  });
  const store = {} as Store;
  const analyst: Principal = {
    userId: 'u1',
    email: 'a@example.org',
    role: 'analyst',
    org: null,
    via: 'token',
    tokenId: 't1',
    mustChangePassword: false,
  };

  it('refuses a role the declaration does not list, before validating or running anything', async () => {
    await expect(runOperation(operation, { store, principal: analyst }, {})).rejects.toMatchObject({
      code: 'forbidden',
      message: 'Your role (analyst) may not echo a title',
    });
    expect(ran).toEqual([]);
  });

  it('says what the refused operation does without the explanation after its colon', async () => {
    const explained = { ...operation, summary: 'Echo a title: for tests, nothing more' };
    await expect(runOperation(explained, { store, principal: analyst }, {})).rejects.toMatchObject({
      code: 'forbidden',
      message: 'Your role (analyst) may not echo a title',
      hint: 'Ask an administrator if you need it',
    });
  });

  it('says what a refused caller may not do whether the summary is a verb phrase, a noun phrase or a question', () => {
    expect(refusedAction('One saved cohort: its use case, definition, who saved it and when')).toBe(
      'see one saved cohort',
    );
    expect(refusedAction('The cohorts saved under your use cases')).toBe(
      'see the cohorts saved under your use cases',
    );
    expect(refusedAction('Your own query history, newest first')).toBe(
      'see your own query history, newest first',
    );
    expect(refusedAction('Would a feed be accepted under the agreements?')).toBe(
      'ask “Would a feed be accepted under the agreements?”',
    );
    expect(refusedAction('Kernel’s public key that signs releases')).toBe(
      'see Kernel’s public key that signs releases',
    );
    expect(refusedAction('Run one SELECT in your workspace on a use case (audited)')).toBe(
      'run one SELECT in your workspace on a use case',
    );
    // Every cohort and workspace operation reads as English after "may not".
    for (const operation of [...COHORT_OPERATIONS, ...WORKSPACE_OPERATIONS])
      expect(refusedAction(operation.summary)).toMatch(/^(see|ask|[a-z]+) [a-z]/);
    expect(
      [...COHORT_OPERATIONS, ...WORKSPACE_OPERATIONS].map((o) => refusedAction(o.summary).split(' ')[0]),
    ).not.toContain('one');
  });

  it('runs as the operator at the command line, audited under their operating-system name', async () => {
    const principal = operatorPrincipal('kent');
    expect(await runOperation(operation, { store, principal }, { title: ' hello ' })).toEqual({
      title: 'hello',
    });
    expect(ran).toEqual([{ actor: 'cli:kent', title: 'hello' }]);
    expect(actorOf(analyst)).toBe('token:t1');
  });

  it('describes its input as JSON Schema with enums and required fields', () => {
    const schema = jsonSchemaOf(input, 'input') as {
      required: string[];
      properties: Record<string, { enum?: string[] }>;
    };
    expect(schema.required).toEqual(['title']);
    expect(schema.properties.purpose?.enum).toEqual(['planning', 'research']);
  });
});
