import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ActionContext, lastLines, UserError } from '@golden-image/kit';
import { parseOsvJson } from './osv-report.js';
import { scannerEnv } from './scanner-env.js';

export interface OsvRun {
  /** undefined when osv-scanner found no package sources (exit 128): not a failure, but noted. */
  report?: unknown;
  noPackages: boolean;
}

export interface OsvScanOptions {
  path: string;
  output: string;
  config?: string;
  /**
   * An offline vulnerability DB (`osv-scalibr/<Ecosystem>/all.zip` for 2.5+, `osv-scanner/<Ecosystem>/all.zip` up to
   * 2.4): `--offline`, so nothing is sent anywhere and manifests are not resolved transitively.
   */
  offlineDb?: string;
  /** Go call analysis (govulncheck, needs the Go toolchain); off, nothing of the tree is built or run. */
  callAnalysis: boolean;
  /** Scratch directory: the working directory and private HOME of the run. */
  workDir: string;
}

/** Go's module settings reach the Go toolchain that call analysis runs, so it resolves modules as the job's build does. */
const GO_MODULE_ENV = [
  'GOPROXY',
  'GOPRIVATE',
  'GONOPROXY',
  'GONOSUMDB',
  'GOFLAGS',
  'GOTOOLCHAIN',
  'GOMODCACHE',
  'GOPATH',
];

/** `osv-scanner scan source -r --format json --output-file F [--config C] [--offline] DIR` (2.4+ for --output-file). */
export async function osvScan(ctx: ActionContext, osv: string, options: OsvScanOptions): Promise<OsvRun> {
  const args = ['scan', 'source', '-r', '--format', 'json', '--output-file', options.output];
  if (options.config) args.push('--config', options.config);
  if (options.offlineDb) args.push('--offline');
  args.push(options.callAnalysis ? '--call-analysis=go' : '--no-call-analysis=all');
  args.push(options.path);
  const own: Record<string, string> = {};
  if (options.offlineDb) {
    // 2.4 and 2.5.1+ read the first, 2.5.0+ the second; each adds its own subdirectory.
    own.OSV_SCANNER_LOCAL_DB_CACHE_DIRECTORY = options.offlineDb;
    own.OSV_SCALIBR_LOCAL_DB_CACHE_DIRECTORY = options.offlineDb;
  }
  if (options.callAnalysis) for (const name of GO_MODULE_ENV) if (ctx.env[name]) own[name] = ctx.env[name] as string;
  const env = scannerEnv(ctx.env, join(options.workDir, 'home'), own);
  const result = await ctx.runner.run(osv, args, { env, cwd: options.workDir });
  if (result.exitCode === 128) {
    ctx.info(`OSV-Scanner found no lockfiles or package sources under ${options.path} (exit 128); nothing to gate.`);
    return { noPackages: true };
  }
  if (options.offlineDb) missingOfflineDb(result.stderr, options.offlineDb, result.exitCode);
  if (result.exitCode !== 0 && result.exitCode !== 1) throw osvFailure(result.exitCode, result.stderr, options);
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

function osvFailure(exitCode: number, stderr: string, options: OsvScanOptions): UserError {
  // 2.6.0: a --config file that does not parse is "Failed to read config file: …" and exit 127; an osv-scanner.toml
  // found beside a lockfile that does not parse is ignored ("Ignored invalid config file at P because: …"), exit 130.
  const named = /Failed to read config file: (.*)/.exec(stderr);
  if (named && options.config)
    return new UserError(
      `The OSV-Scanner config ${options.config} is not valid (${named[1]?.trim()}); OSV-Scanner stopped (exit code ${exitCode}). Fix the file, or name another one with osv-config.`,
    );
  const ignored = /Ignored invalid config file at (.*?) because: (.*)/.exec(stderr);
  if (ignored)
    return new UserError(
      `The OSV-Scanner config ${ignored[1]} is not valid (${ignored[2]?.trim()}); OSV-Scanner would have scanned without it, so its ignores would not apply (exit code ${exitCode}). Fix the file.`,
    );
  const why = OSV_EXIT[exitCode] ?? 'error';
  return new UserError(`OSV-Scanner failed on ${options.path} (exit code ${exitCode}: ${why}): ${lastLines(stderr)}`);
}

/**
 * Offline, an ecosystem without its all.zip is logged ("could not load db for Go ecosystem: …") and its packages go
 * unchecked; OSV-Scanner still exits 1 when another ecosystem has findings, so the exit code cannot be trusted.
 */
function missingOfflineDb(stderr: string, db: string, exitCode: number): void {
  const missing = [...stderr.matchAll(/could not load db for (\S+) ecosystem: (.*)/g)];
  if (missing.length === 0) return;
  const ecosystems = [...new Set(missing.map((m) => m[1] as string))];
  throw new UserError(
    `OSV-Scanner has no offline database for ${ecosystems.join(', ')} in osv-offline-db ${db} (${missing[0]?.[2]?.trim()}; exit code ${exitCode}): those packages would go unchecked. Add ${ecosystems.map((e) => `osv-scalibr/${e}/all.zip`).join(', ')} (osv-scanner/… for OSV-Scanner 2.4).`,
  );
}

const OSV_EXIT: Record<number, string> = {
  127: 'general error, such as a bad flag',
  129: 'the osv.dev API could not be reached; on an air-gapped runner use osv-offline-db',
};
