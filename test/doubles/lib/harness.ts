// Test-side helpers for tool doubles: put them first on PATH and read back what they recorded.
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const DOUBLES_BIN = fileURLToPath(new URL('../bin', import.meta.url));
export const THIRD_PARTY = fileURLToPath(new URL('../../fixtures/third-party/', import.meta.url));

export interface Invocation {
  tool: string;
  argv: string[];
  cwd: string;
  [key: string]: unknown;
}

/** Every call the doubles appended to `log` (one JSON line each). */
export function readInvocations(log: string): Invocation[] {
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Invocation);
}

/**
 * ExecRunner and ensureTool(install: false) look tools up on this process's PATH, so the doubles go first there.
 * Returns a function that restores PATH.
 */
export function useDoublesOnPath(): () => void {
  const saved = process.env.PATH;
  process.env.PATH = `${DOUBLES_BIN}:${saved ?? ''}`;
  return () => {
    process.env.PATH = saved;
  };
}

/**
 * Scanners run with an environment the suite controls (scannerEnv), so a double's settings (OSV_DOUBLE_FIXTURE,
 * DOUBLE_LOG...) cannot travel in the job's environment. This writes a directory of wrappers, one per double, that
 * set `env` and run the double; put it first on the job's PATH (the one scannerEnv hands on).
 */
export function doublesWithEnv(env: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'golden-image-doubles-'));
  const quote = (value: string) => `'${value.replaceAll("'", `'\\''`)}'`;
  const exports = Object.entries(env)
    .map(([name, value]) => `export ${name}=${quote(value)}\n`)
    .join('');
  for (const tool of readdirSync(DOUBLES_BIN)) {
    const wrapper = join(dir, tool);
    writeFileSync(wrapper, `#!/bin/sh\n${exports}exec ${quote(join(DOUBLES_BIN, tool))} "$@"\n`);
    chmodSync(wrapper, 0o755);
  }
  return dir;
}
