import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ActionContext, ExecRunner, type ToolRunner } from '@golden-image/kit';
import { DoubleControlsRunner } from './double-controls.js';

/** What a test context recorded: every output, log line, annotation and summary an action wrote. */
export interface Recorded {
  outputs: Record<string, string>;
  logs: string[];
  warnings: string[];
  errors: string[];
  summary: string;
  secrets: string[];
  /** The command lines and output of the tools the step ran, as the job log would show them. */
  toolOutput: string;
}

/**
 * An ActionContext for tests: inputs from a plain object, a real ExecRunner unless another runner is given,
 * and everything the action writes recorded for assertions. The runner hands the tool doubles' controls of the
 * test's env (TRIVY_DOUBLE_FIXTURE, DOUBLE_LOG, …) to tools the suite gives a private environment (scanners).
 */
export function createTestContext(
  inputs: Record<string, string>,
  options: { runner?: ToolRunner; env?: NodeJS.ProcessEnv; tempDir?: string } = {},
): { ctx: ActionContext; recorded: Recorded } {
  const recorded: Recorded = {
    outputs: {},
    logs: [],
    warnings: [],
    errors: [],
    summary: '',
    secrets: [],
    toolOutput: '',
  };
  const ctx: ActionContext = {
    input: (name) => inputs[name] ?? '',
    output: (name, value) => {
      recorded.outputs[name] = value;
    },
    summary: async (markdown) => {
      recorded.summary += markdown;
    },
    secret: (value) => recorded.secrets.push(value),
    info: (message) => recorded.logs.push(message),
    warning: (message) => recorded.warnings.push(message),
    error: (message) => recorded.errors.push(message),
    group: async (name, fn) => {
      recorded.logs.push(`::group::${name}`);
      return fn();
    },
    runner: new DoubleControlsRunner(
      options.runner ??
        new ExecRunner((text) => {
          recorded.toolOutput += text.toString();
        }),
      () => ctx.env,
    ),
    env: options.env ?? process.env,
    tempDir: options.tempDir ?? mkdtempSync(join(tmpdir(), 'golden-image-test-')),
  };
  return { ctx, recorded };
}

/** Everything the action printed or wrote, tools' output included, for "no secret leaked" checks. */
export function everythingPrinted(recorded: Recorded): string {
  return [
    ...recorded.logs,
    recorded.toolOutput,
    ...recorded.warnings,
    ...recorded.errors,
    recorded.summary,
    ...Object.values(recorded.outputs),
  ].join('\n');
}
