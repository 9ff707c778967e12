import { parseInputs, UserError } from '@golden-image/kit';
import { describe, expect, test } from '@jest/globals';
import { severityInput, severityThresholdInput } from '../src/index.js';

const read = (raw: string) => parseInputs({ severity: severityInput() }, () => raw).severity;

describe('severities are read in any case, as trivy-action takes them, and handed on as Trivy spells them', () => {
  test.each([
    ['high,critical', ['HIGH', 'CRITICAL']],
    ['High, Critical', ['HIGH', 'CRITICAL']],
    ['HIGH,CRITICAL', ['HIGH', 'CRITICAL']],
    ['medium\nhigh\nHIGH', ['MEDIUM', 'HIGH']],
    ['', ['HIGH', 'CRITICAL']],
  ])('%j -> %j', (raw, expected) => {
    expect(read(raw)).toEqual(expected);
  });

  test('a word that is no severity is refused, naming it and the five', () => {
    expect(() => read('high,severe')).toThrow(
      'Input "severity": unknown severity "severe": use a comma-separated list of UNKNOWN, LOW, MEDIUM, HIGH, CRITICAL (any case)',
    );
    expect(() => read('high,severe')).toThrow(UserError);
  });

  test('a threshold (block-severity) too', () => {
    const threshold = (raw: string) =>
      parseInputs({ 'block-severity': severityThresholdInput('HIGH') }, () => raw)['block-severity'];
    expect(threshold('critical')).toBe('CRITICAL');
    expect(threshold('')).toBe('HIGH');
    expect(() => threshold('severe')).toThrow(
      'Input "block-severity": must be one of UNKNOWN, LOW, MEDIUM, HIGH, CRITICAL (any case), got "severe"',
    );
  });
});
