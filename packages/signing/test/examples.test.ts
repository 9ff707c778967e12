// examples/kyverno/*.yaml are written by this code for a fork (your-fork/app); this test keeps them in step, and the
// real tier (actions/sign-digest/test/kyverno.real.test.ts) evaluates the same policies with the real Kyverno CLI.
// Regenerate with: UPDATE_EXAMPLES=1 node --experimental-vm-modules node_modules/jest/bin/jest.js packages/signing/test/examples.test.ts
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@jest/globals';
import { EXAMPLES, examplePolicy } from './examples.js';

const DIR = fileURLToPath(new URL('../../../examples/kyverno/', import.meta.url));

test.each(Object.keys(EXAMPLES))('examples/kyverno/%s is what sign-digest writes', (file) => {
  const generated = examplePolicy(file);
  if (process.env.UPDATE_EXAMPLES === '1' || !existsSync(`${DIR}${file}`)) writeFileSync(`${DIR}${file}`, generated);
  expect(readFileSync(`${DIR}${file}`, 'utf8')).toBe(generated);
});

test('examples/kyverno holds exactly these policies (and their -attestations copies, kept by packages/evidence)', () => {
  expect(
    readdirSync(DIR)
      .filter((f) => f.endsWith('.yaml') && !f.endsWith('-attestations.yaml'))
      .sort(),
  ).toEqual(Object.keys(EXAMPLES).sort());
});
