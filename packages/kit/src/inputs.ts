import * as z from 'zod';
import { inputProblem, UserError } from './errors.js';

/** Reads one raw input: '' when the caller did not set it. */
export type InputSource = (name: string) => string;

export type InputSpec = Record<string, z.ZodType>;
export type Inputs<S extends InputSpec> = { [K in keyof S]: z.output<S[K]> };

/**
 * Validates every input before anything else happens. All bad inputs are reported together, one line each,
 * naming the input, what was wrong and what would be right.
 */
export function parseInputs<S extends InputSpec>(spec: S, source: InputSource): Inputs<S> {
  const values: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, schema] of Object.entries(spec)) {
    const raw = source(name).trim();
    const result = schema.safeParse(raw);
    if (result.success) {
      values[name] = result.data;
    } else {
      problems.push(inputProblem(name, result.error.issues.map((issue) => issue.message).join('; ')));
    }
  }
  if (problems.length > 0) throw new UserError(problems.join('\n'));
  return values as Inputs<S>;
}

/** Shows a value inside an error message: quoted, control characters escaped, and cut short. */
export function show(value: string): string {
  const shown = JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  return shown;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/;

/**
 * A single value never holds a newline or another control character: printed in a log line, a newline would
 * start a line the runner reads as a workflow command. List inputs are split on newlines first.
 */
export function controlProblem(value: string): string | undefined {
  if (!CONTROL.test(value)) return undefined;
  return `${show(value)} holds a newline or another control character; give one value per line`;
}

const TRUE = ['true', 'True', 'TRUE'];
const FALSE = ['false', 'False', 'FALSE'];

/** A boolean input in the YAML 1.2 core schema spelling that @actions/core accepts. */
export function booleanInput(defaultValue: boolean) {
  return z.string().transform((raw, ctx) => {
    if (raw === '') return defaultValue;
    if (TRUE.includes(raw)) return true;
    if (FALSE.includes(raw)) return false;
    ctx.addIssue({ code: 'custom', message: `must be true or false, got ${show(raw)}` });
    return z.NEVER;
  });
}

/** A whole number within [min, max]; '' gives the default. */
export function integerInput(defaultValue: number, min: number, max: number) {
  return z.string().transform((raw, ctx) => {
    if (raw === '') return defaultValue;
    const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      ctx.addIssue({ code: 'custom', message: `must be a whole number from ${min} to ${max}, got ${show(raw)}` });
      return z.NEVER;
    }
    return value;
  });
}

export function requiredString(what: string) {
  return checkedString(() => undefined, what);
}

/** A free-form optional string: '' means unset. */
export function optionalString() {
  return optionalCheckedString(() => undefined);
}

export function enumInput<const T extends readonly [string, ...string[]]>(values: T, defaultValue: T[number]) {
  return z.string().transform((raw, ctx) => {
    if (raw === '') return defaultValue;
    const found = values.find((v) => v === raw);
    if (found === undefined) {
      ctx.addIssue({ code: 'custom', message: `must be one of ${values.join(', ')}, got ${show(raw)}` });
      return z.NEVER;
    }
    return found as T[number];
  });
}

/** Splits a newline- or comma-separated list; entries are trimmed and blank entries dropped. */
export function splitList(raw: string): string[] {
  return raw
    .split(/[\n,]/)
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

/** Splits a newline-separated list only (for values that may contain commas, such as build args). */
export function splitLines(raw: string): string[] {
  return raw
    .split('\n')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

/** A list input whose every entry must pass `check`, which returns a problem or undefined. */
export function listInput(options: {
  required?: string;
  lines?: boolean;
  check?: (entry: string) => string | undefined;
  defaultValue?: string[];
}) {
  return z.string().transform((raw, ctx) => {
    const entries = options.lines ? splitLines(raw) : splitList(raw);
    if (entries.length === 0) {
      if (options.required) {
        ctx.addIssue({ code: 'custom', message: `is required: ${options.required}` });
        return z.NEVER;
      }
      return options.defaultValue ?? [];
    }
    for (const entry of entries) {
      const problem = controlProblem(entry) ?? options.check?.(entry);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }
    return entries;
  });
}

/** A required string input checked by `check`, which returns a problem or undefined. */
export function checkedString(check: (value: string) => string | undefined, required: string) {
  return z.string().transform((raw, ctx) => {
    const problem = raw === '' ? `is required: ${required}` : (controlProblem(raw) ?? check(raw));
    if (problem) {
      ctx.addIssue({ code: 'custom', message: problem });
      return z.NEVER;
    }
    return raw;
  });
}

/** An optional string input ('' is unset) checked by `check` when given. */
export function optionalCheckedString(check: (value: string) => string | undefined) {
  return z.string().transform((raw, ctx) => {
    if (raw === '') return undefined;
    const problem = controlProblem(raw) ?? check(raw);
    if (problem) {
      ctx.addIssue({ code: 'custom', message: problem });
      return z.NEVER;
    }
    return raw;
  });
}
