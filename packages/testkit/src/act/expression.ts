import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { projectGoTool } from '../project-go-tool.js';

const run = promisify(execFile);

/** What a template is evaluated against: the contexts GitHub gives a job's keys before it starts. */
export interface ExpressionContext {
  github?: Record<string, unknown>;
  inputs?: Record<string, unknown>;
  needs?: Record<string, { outputs: Record<string, string>; result: string }>;
  vars?: Record<string, string>;
}

/**
 * A workflow template (text with ${{ }} expressions) evaluated by act's own expression engine (programs/gha-expr):
 * for the job keys act reads but does not act on (concurrency, environment).
 */
export async function evaluateTemplate(template: string, context: ExpressionContext): Promise<string> {
  const evaluator = await projectGoTool('gha-expr');
  const child = run(evaluator, { encoding: 'utf8' });
  child.child.stdin?.end(JSON.stringify({ template, ...context }));
  return (await child).stdout;
}
