// A minimal ActionContext for running the suite's installer from a script, off a runner.
import { mkdirSync } from 'node:fs';
import { type ActionContext, ExecRunner } from '@golden-image/kit';

export function scriptContext(tempDir: string): ActionContext {
  mkdirSync(tempDir, { recursive: true });
  return {
    input: () => '',
    output: () => undefined,
    summary: async () => undefined,
    secret: () => undefined,
    info: (message) => console.log(`    ${message}`),
    warning: (message) => console.warn(`    warning: ${message}`),
    error: (message) => console.error(`    error: ${message}`),
    group: (_name, fn) => fn(),
    runner: new ExecRunner(),
    env: process.env,
    tempDir,
  };
}
