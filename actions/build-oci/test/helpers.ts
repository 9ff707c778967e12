import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExecRunner, type RunOptions, type RunResult, type ToolRunner } from '@golden-image/kit';
import { repoRoot } from '@golden-image/testkit';

export const doublesBin = join(repoRoot, 'test', 'doubles', 'bin');
export const sampleImage = join(repoRoot, 'test', 'fixtures', 'sample-image');

/**
 * Runs tools for real, except those with a double in test/doubles/bin, which run in their place.
 * (@actions/io resolves a tool on this process's PATH, not the child's env, so a PATH in ctx.env is not enough.)
 */
export class DoublesRunner implements ToolRunner {
  readonly calls: { tool: string; args: string[]; env?: NodeJS.ProcessEnv }[] = [];
  private readonly inner = new ExecRunner();

  async run(tool: string, args: readonly string[], options?: RunOptions): Promise<RunResult> {
    this.calls.push({ tool, args: [...args], env: options?.env });
    const double = join(doublesBin, tool);
    return this.inner.run(existsSync(double) ? double : tool, args, { ...options, silent: true });
  }
}

/** The double's log: one entry per invocation. */
export function readDoubleLog(
  file: string,
): { argv: string[]; ghaCache?: { flag: string; scope: string; used: boolean }[] }[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

/** The values given to a repeated flag, in order (`--flag value` form). */
export function flagValues(argv: readonly string[], flag: string): string[] {
  const values: string[] = [];
  argv.forEach((arg, i) => {
    if (arg === flag && i + 1 < argv.length) values.push(argv[i + 1] as string);
  });
  return values;
}
