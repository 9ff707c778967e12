import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withDoubleShims } from './double-controls.js';
import { repoRoot } from './fixtures.js';

export interface StepResult {
  exitCode: number;
  outputs: Record<string, string>;
  summary: string;
  /** stdout and stderr of the action, as the runner's log would show them. */
  log: string;
}

/**
 * Runs a bundled action (dist/<name>/index.js) the way the GitHub runner does: inputs as INPUT_<NAME>
 * environment variables, outputs and the job summary through the GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files.
 */
export async function runBundledAction(
  action: string,
  inputs: Record<string, string>,
  options: {
    env?: NodeJS.ProcessEnv;
    echo?: boolean /** another bundle to run (a benchmark's baseline) */;
    entry?: string;
  } = {},
): Promise<StepResult> {
  const dir = mkdtempSync(join(tmpdir(), `golden-image-step-${action}-`));
  const outputFile = join(dir, 'output');
  const summaryFile = join(dir, 'summary');
  writeFileSync(outputFile, '');
  writeFileSync(summaryFile, '');
  // The doubles' controls reach scanners (which the suite gives a private environment) through shims on PATH.
  const env: NodeJS.ProcessEnv = withDoubleShims({
    ...process.env,
    RUNNER_TEMP: dir,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    ...options.env,
  });
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
  const entry =
    options.entry ??
    (action === '.' ? join(repoRoot, 'dist', 'chain', 'index.js') : join(repoRoot, 'dist', action, 'index.js'));
  const child = spawn(process.execPath, [entry], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const collect = (chunk: Buffer) => {
    log += chunk.toString();
    if (options.echo) process.stdout.write(chunk);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exitCode = await new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
  return {
    exitCode,
    outputs: parseOutputFile(readFileSync(outputFile, 'utf8')),
    summary: readFileSync(summaryFile, 'utf8'),
    log,
  };
}

/** Parses the runner's GITHUB_OUTPUT file: `name<<DELIMITER\nvalue\nDELIMITER` blocks (and plain `name=value`). */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name = '', delimiter] = heredoc;
      const value: string[] = [];
      for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i] ?? '');
      outputs[name] = value.join('\n');
    } else if (line.includes('=')) {
      outputs[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
    }
  }
  return outputs;
}
