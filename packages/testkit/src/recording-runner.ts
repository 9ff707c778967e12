import { ExecRunner, type RunOptions, type RunResult, type ToolRunner } from '@golden-image/kit';

/** Runs tools for real and records every call, for assertions on what ran and in which order. */
export class RecordingRunner implements ToolRunner {
  readonly calls: { tool: string; args: string[]; exitCode: number; stdout: string; stderr: string }[] = [];

  constructor(private readonly inner: ToolRunner = new ExecRunner()) {}

  async run(tool: string, args: readonly string[], options?: RunOptions): Promise<RunResult> {
    const result = await this.inner.run(tool, args, { ...options, silent: true });
    this.calls.push({
      tool,
      args: [...args],
      exitCode: result.exitCode,
      stdout: result.stdout.toString(),
      stderr: result.stderr,
    });
    return result;
  }

  /** The calls of one subcommand, e.g. calls('skopeo', 'copy'). */
  of(tool: string, subcommand?: string): { tool: string; args: string[] }[] {
    return this.calls.filter((call) => call.tool.endsWith(tool) && (!subcommand || call.args.includes(subcommand)));
  }
}
