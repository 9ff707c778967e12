// Test-side helpers for tool doubles: put them first on PATH and read back what they recorded.
import { existsSync, readFileSync } from 'node:fs';
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
