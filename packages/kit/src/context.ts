import * as core from '@actions/core';
import { ExecRunner, type ToolRunner } from './runner.js';

/**
 * Everything an action's main() touches in the outside world. The runner's implementation comes from
 * @actions/core; tests pass their own (see createTestContext) and so see every output, log line and summary.
 */
export interface ActionContext {
  /** The raw input value, '' when unset. */
  input(name: string): string;
  output(name: string, value: string): void;
  /** Appends markdown to the job summary. */
  summary(markdown: string): Promise<void>;
  /** Registers a value that must never be printed (the runner masks it in logs). */
  secret(value: string): void;
  info(message: string): void;
  warning(message: string, where?: { file?: string; line?: number; title?: string }): void;
  error(message: string, where?: { file?: string; line?: number; title?: string }): void;
  group<T>(name: string, fn: () => Promise<T>): Promise<T>;
  runner: ToolRunner;
  env: NodeJS.ProcessEnv;
  /** A directory for this run's temporary files (RUNNER_TEMP on a runner). */
  tempDir: string;
}

export function createActionsContext(): ActionContext {
  return {
    input: (name) => core.getInput(name),
    output: (name, value) => core.setOutput(name, value),
    summary: async (markdown) => {
      if (!process.env.GITHUB_STEP_SUMMARY) return;
      // The summary reports work already done (a push, a signature): failing to write it must not fail the step.
      try {
        await core.summary.addRaw(markdown, true).write();
      } catch (error) {
        core.summary.emptyBuffer();
        core.warning(`The job summary could not be written (${(error as Error).message}); the step's work is done.`);
      }
    },
    secret: (value) => core.setSecret(value),
    info: (message) => core.info(message),
    warning: (message, where) => core.warning(message, toProps(where)),
    error: (message, where) => core.error(message, toProps(where)),
    group: (name, fn) => core.group(name, fn),
    runner: new ExecRunner(),
    env: process.env,
    tempDir: process.env.RUNNER_TEMP || process.env.TMPDIR || '/tmp',
  };
}

function toProps(where?: { file?: string; line?: number; title?: string }): core.AnnotationProperties | undefined {
  if (!where) return undefined;
  return { file: where.file, startLine: where.line, title: where.title };
}

/** Registers the values of secret inputs (passwords, tokens) before anything can print them. */
export function maskSecretInputs(ctx: ActionContext, ...names: string[]): void {
  for (const name of names) {
    const value = ctx.input(name).trim();
    if (value) ctx.secret(value);
  }
}

/**
 * A context for running one action's main() inside another (the root action runs the whole chain this way):
 * inputs come from `inputs`, outputs are captured for the next step, everything else goes to the parent.
 */
export function stepContext(
  parent: ActionContext,
  inputs: Record<string, string>,
): { ctx: ActionContext; outputs: Record<string, string> } {
  const outputs: Record<string, string> = {};
  const ctx: ActionContext = {
    ...parent,
    input: (name) => inputs[name] ?? '',
    output: (name, value) => {
      outputs[name] = value;
    },
  };
  return { ctx, outputs };
}
