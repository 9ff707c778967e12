import { spawnSync } from 'node:child_process';

export interface Ran {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs a program (no shell), its output captured; `check` throws with its stderr when it fails. */
export function run(
  file: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; check?: boolean } = {},
): Ran {
  const result = spawnSync(file, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    input: options.input,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw result.error;
  const ran = { status: result.status ?? 1, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
  if (options.check !== false && ran.status !== 0) {
    throw new Error(`${file} ${args.join(' ')} failed (${ran.status}): ${ran.stderr.trim() || ran.stdout.trim()}`);
  }
  return ran;
}
