import { readFile } from 'node:fs/promises';
import { type ActionContext, lastLines, UserError } from '@golden-image/kit';
import { parseOsvJson } from './osv-report.js';

export interface OsvRun {
  /** undefined when osv-scanner found no package sources (exit 128): not a failure, but noted. */
  report?: unknown;
  noPackages: boolean;
}

/** `osv-scanner scan source -r --format json --output-file F [--config C] DIR` (the v2 form, 2.4+ for --output-file). */
export async function osvScan(
  ctx: ActionContext,
  osv: string,
  options: { path: string; output: string; config?: string },
): Promise<OsvRun> {
  const args = ['scan', 'source', '-r', '--format', 'json', '--output-file', options.output];
  if (options.config) args.push('--config', options.config);
  args.push(options.path);
  const result = await ctx.runner.run(osv, args, { env: ctx.env });
  if (result.exitCode === 128) {
    ctx.info(`OSV-Scanner found no lockfiles or package sources under ${options.path} (exit 128); nothing to gate.`);
    return { noPackages: true };
  }
  if (result.exitCode !== 0 && result.exitCode !== 1) {
    const why = OSV_EXIT[result.exitCode] ?? 'error';
    throw new UserError(
      `OSV-Scanner failed on ${options.path} (exit code ${result.exitCode}: ${why}): ${lastLines(result.stderr)}`,
    );
  }
  let text: string;
  try {
    text = await readFile(options.output, 'utf8');
  } catch {
    throw new UserError(
      `OSV-Scanner exited ${result.exitCode} but wrote no report to ${options.output}; the gate cannot pass without one.`,
    );
  }
  return { report: parseOsvJson(text, options.output), noPackages: false };
}

const OSV_EXIT: Record<number, string> = {
  127: 'general error, such as a bad flag',
  129: 'the osv.dev API failed',
  130: 'the osv-scanner.toml config could not be parsed',
};
