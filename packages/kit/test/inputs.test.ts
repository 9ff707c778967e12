// kit: inputs are read and checked before any side effect; every problem is reported at once, one line each.
import { describe, expect, test } from '@jest/globals';
import {
  booleanInput,
  checkedString,
  controlProblem,
  enumInput,
  inputProblem,
  integerInput,
  listInput,
  optionalCheckedString,
  optionalString,
  parseInputs,
  requiredString,
  show,
  splitLines,
  splitList,
  UserError,
} from '../src/index.js';

const source = (values: Record<string, string>) => (name: string) => values[name] ?? '';

describe('parseInputs', () => {
  const spec = {
    flag: booleanInput(true),
    count: integerInput(3, 1, 10),
    mode: enumInput(['fast', 'slow'] as const, 'fast'),
    tags: listInput({}),
    name: requiredString('the name of the thing'),
    note: optionalString(),
  };

  test('defaults for unset inputs, values trimmed', () => {
    expect(parseInputs(spec, source({ name: '  app  ' }))).toEqual({
      flag: true,
      count: 3,
      mode: 'fast',
      tags: [],
      name: 'app',
      note: undefined,
    });
  });

  test('every bad input reported together, one line each, naming the input', () => {
    let error: unknown;
    try {
      parseInputs(spec, source({ flag: 'yes', count: '11', mode: 'medium', name: '' }));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message.split('\n')).toEqual([
      'Input "flag": must be true or false, got "yes"',
      'Input "count": must be a whole number from 1 to 10, got "11"',
      'Input "mode": must be one of fast, slow, got "medium"',
      'Input "name": is required: the name of the thing',
    ]);
  });
});

describe('single inputs', () => {
  const parse = (schema: { safeParse(raw: string): { success: boolean; data?: unknown } }, raw: string) =>
    schema.safeParse(raw);

  test('booleans in the spellings @actions/core accepts', () => {
    for (const raw of ['true', 'True', 'TRUE']) expect(parse(booleanInput(false), raw).data).toBe(true);
    for (const raw of ['false', 'False', 'FALSE']) expect(parse(booleanInput(true), raw).data).toBe(false);
    expect(parse(booleanInput(true), 'yes').success).toBe(false);
    expect(parse(booleanInput(true), '1').success).toBe(false);
  });

  test('integers: digits only, within bounds', () => {
    expect(parse(integerInput(5, 1, 10), '10').data).toBe(10);
    for (const raw of ['0', '11', '-1', '1.5', '1e3', ' '])
      expect(parse(integerInput(5, 1, 10), raw).success).toBe(false);
  });

  test('lists: commas and newlines, trimmed, blanks dropped; required and checked entries', () => {
    expect(splitList('a, b\n\n c ,')).toEqual(['a', 'b', 'c']);
    expect(splitLines('A=1,2\nB=3\n')).toEqual(['A=1,2', 'B=3']);
    expect(parse(listInput({ lines: true }), 'A=1,2\nB').data).toEqual(['A=1,2', 'B']);
    expect(parse(listInput({ defaultValue: ['x'] }), '').data).toEqual(['x']);
    expect(parse(listInput({ required: 'the tags' }), '').success).toBe(false);
    const checked = listInput({ check: (entry) => (entry.startsWith('v') ? undefined : `not a version: ${entry}`) });
    expect(parse(checked, 'v1,v2').data).toEqual(['v1', 'v2']);
    expect(parse(checked, 'v1,2').success).toBe(false);
  });

  test('a single value never holds a control character (a newline would start a workflow command)', () => {
    expect(controlProblem('plain value')).toBeUndefined();
    expect(controlProblem('a\n::set-output name=x::y')).toMatch(/holds a newline or another control character/);
    expect(controlProblem('tab\there')).toBeUndefined();
    expect(parse(optionalString(), 'a\u0007b').success).toBe(false);
    expect(
      parse(
        checkedString(() => undefined, 'x'),
        'a\rb',
      ).success,
    ).toBe(false);
  });

  test('checked strings: required or optional, the check runs only on a given value', () => {
    const lower = (value: string) => (value === value.toLowerCase() ? undefined : 'must be lowercase');
    expect(parse(checkedString(lower, 'an image'), 'app').data).toBe('app');
    expect(parse(checkedString(lower, 'an image'), 'App').success).toBe(false);
    expect(parse(optionalCheckedString(lower), '').data).toBeUndefined();
    expect(parse(optionalCheckedString(lower), 'App').success).toBe(false);
  });

  test('show quotes, escapes and cuts long values', () => {
    expect(show('a"b\n')).toBe('"a\\"b\\n"');
    expect(show('x'.repeat(100))).toBe(`"${'x'.repeat(80)}…"`);
    expect(inputProblem('image', 'must be lowercase')).toBe('Input "image": must be lowercase');
  });
});
