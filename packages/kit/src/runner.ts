import * as exec from '@actions/exec';
import * as io from '@actions/io';
import { UserError } from './errors.js';

export interface RunOptions {
  /** Full environment for the child; defaults to this process's environment. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Do not echo the command line and its output to the log. */
  silent?: boolean;
}

export interface RunResult {
  exitCode: number;
  stdout: Buffer;
  stderr: string;
}

/**
 * The one door through which the suite runs tools: an argv array, never a shell string.
 * Tests replace it with a recording fake or put tool doubles first on PATH.
 */
export interface ToolRunner {
  run(tool: string, args: readonly string[], options?: RunOptions): Promise<RunResult>;
}

export class ExecRunner implements ToolRunner {
  async run(tool: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const path = await io.which(tool, false);
    if (!path) {
      throw new UserError(`"${tool}" was not found on PATH. Install it on the runner before this step.`);
    }
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const exitCode = await exec.exec(path, [...args], {
      ignoreReturnCode: true,
      silent: options.silent ?? false,
      env: (options.env ?? process.env) as Record<string, string>,
      cwd: options.cwd,
      // A closed stdin: a tool that prompts (cosign without --yes) fails instead of hanging.
      input: Buffer.alloc(0),
      listeners: {
        stdout: (chunk) => stdout.push(chunk),
        stderr: (chunk) => stderr.push(chunk),
      },
    });
    return { exitCode, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr).toString('utf8') };
  }
}

/** Runs a tool and throws a UserError naming the tool and its stderr when it exits non-zero. */
export async function runChecked(
  runner: ToolRunner,
  tool: string,
  args: readonly string[],
  what: string,
  options?: RunOptions,
): Promise<RunResult> {
  const result = await runner.run(tool, args, options);
  if (result.exitCode !== 0) {
    throw new UserError(`${what} failed: ${tool} exited with code ${result.exitCode}: ${lastLines(result.stderr)}`);
  }
  return result;
}

/** The tail of a tool's stderr, enough to explain a failure without flooding the error. */
export function lastLines(text: string, count = 5): string {
  const lines = text.trim().split('\n').filter(Boolean);
  return lines.slice(-count).join('\n') || '(no output on stderr)';
}
