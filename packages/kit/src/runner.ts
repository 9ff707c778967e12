import { spawn } from 'node:child_process';
import { constants as osConstants } from 'node:os';
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

/** Where a runner echoes command lines and tool output: the job log (this process's stdout and stderr). */
export type EchoSink = (text: string | Buffer, stream: 'stdout' | 'stderr') => void;

const toJobLog: EchoSink = (text, stream) => {
  (stream === 'stdout' ? process.stdout : process.stderr).write(text);
};

export class ExecRunner implements ToolRunner {
  /** echo: where command lines and tool output go (tests keep them with what the step recorded). */
  constructor(private readonly echoTo: EchoSink = toJobLog) {}

  async run(tool: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const path = await io.which(tool, false);
    if (!path) {
      throw new UserError(`"${tool}" was not found on PATH. Install it on the runner before this step.`);
    }
    const echo = !(options.silent ?? false);
    if (echo) this.echoTo(`[command]${path} ${args.join(' ')}\n`, 'stdout');
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    // stdin is /dev/null: a tool that prompts (cosign without --yes) reads end-of-file and fails instead of
    // hanging, and a tool that exits at once cannot break our write to its stdin (EPIPE, as @actions/exec's
    // `input` did).
    const child = spawn(path, [...args], {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (chunk: Buffer) => {
      stdout.push(chunk);
      if (echo) this.echoTo(chunk, 'stdout');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr.push(chunk);
      if (echo) this.echoTo(chunk, 'stderr');
    });
    const exitCode = await new Promise<number>((resolve, reject) => {
      child.on('error', reject);
      // 'close' waits for the output streams to end, so nothing the tool wrote is lost.
      child.on('close', (code, signal) => resolve(code ?? (signal ? 128 + (osConstants.signals[signal] ?? 0) : 1)));
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
