// How tests reach the tool doubles' controls (TRIVY_DOUBLE_FIXTURE, DOUBLE_LOG, …) without product code knowing
// about them: the suite gives scanners a clean environment (scanners' scannerEnv), so the controls travel through
// the runner the test builds (in-process) or through shims on PATH (a bundled action run as a child process).
import { chmodSync, existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { RunOptions, RunResult, ToolRunner } from '@golden-image/kit';
import { repoRoot } from './fixtures.js';

/** The tool doubles (test/doubles/bin). */
export const DOUBLES_BIN = join(repoRoot, 'test', 'doubles', 'bin');

/** The names of the doubles' controls: DOUBLE_LOG and <TOOL>_DOUBLE_<SETTING>. No real tool reads such a name. */
export const DOUBLE_CONTROL = /^(DOUBLE_LOG|[A-Z]+_DOUBLE_[A-Z0-9_]+)$/;

export function doubleControls(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter(
      (entry): entry is [string, string] => DOUBLE_CONTROL.test(entry[0]) && entry[1] !== undefined,
    ),
  );
}

/**
 * A runner for in-process tests: every child whose environment the suite chose (a scanner's private one) also gets
 * the doubles' controls of the test's environment, read when the tool runs. Children that get the job's environment
 * have them already.
 */
export class DoubleControlsRunner implements ToolRunner {
  constructor(
    private readonly inner: ToolRunner,
    private readonly testEnv: () => NodeJS.ProcessEnv,
  ) {}

  run(tool: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    if (!options.env) return this.inner.run(tool, args, options);
    return this.inner.run(tool, args, { ...options, env: { ...doubleControls(this.testEnv()), ...options.env } });
  }
}

/**
 * A directory of shims, one per double, each exporting `controls` and then running the double; `extra` adds shell
 * lines to one tool's shim (run after the exports, before the double).
 */
export function doubleShims(controls: Record<string, string>, extra: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'golden-image-double-shims-'));
  const exports = Object.entries(controls)
    .map(([name, value]) => `export ${name}=${shellQuote(value)}\n`)
    .join('');
  for (const tool of readdirSync(DOUBLES_BIN)) {
    const body = `#!/bin/sh\n${exports}${extra[tool] ?? ''}exec ${shellQuote(join(DOUBLES_BIN, tool))} "$@"\n`;
    writeFileSync(join(dir, tool), body);
    chmodSync(join(dir, tool), 0o755);
  }
  return dir;
}

export const shellQuote = (value: string) => `'${value.replaceAll("'", `'\\''`)}'`;

/**
 * For a child process (a bundled action): the doubles' shims (doubleShims) with the controls of `env`, in front of
 * test/doubles/bin on PATH. Returns env unchanged when it holds no control or its PATH does not hold the doubles.
 */
export function withDoubleShims(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const controls = doubleControls(env);
  const path = (env.PATH ?? '').split(delimiter);
  const at = path.indexOf(DOUBLES_BIN);
  if (Object.keys(controls).length === 0 || at < 0 || !existsSync(DOUBLES_BIN)) return env;
  path.splice(at, 0, doubleShims(controls));
  return { ...env, PATH: path.join(delimiter) };
}
