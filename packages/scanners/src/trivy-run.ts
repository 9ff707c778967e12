import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ActionContext, lastLines, UserError } from '@golden-image/kit';
import { scannerEnv } from './scanner-env.js';
import {
  acquireTrivyDb,
  actionsDbCache,
  type DbCache,
  saveTrivyDb,
  TRIVY_DBS,
  type TrivyDbSpec,
  type TrivyDbUse,
} from './trivy-db.js';
import { parseTrivyJson } from './trivy-report.js';

/** One of Trivy's two databases in a session: where its verified bytes are kept, and what the session uses. */
interface SessionDb {
  spec: TrivyDbSpec;
  repositories: string[];
  /** The verified manifest and layer (what the actions cache holds under the exact key). */
  store: string;
  use?: TrivyDbUse;
}

export interface TrivySession {
  trivy: string;
  cacheDir: string;
  /** A scratch working directory: keeps a caller's ./trivy.yaml and ./.trivyignore out of the scan. */
  workDir: string;
  /** An empty ignore file: the suite applies ignore files itself. */
  emptyIgnore: string;
  /** undefined: cache-db is false. */
  cache?: DbCache;
  /** The scanner's whole environment (scannerEnv): no TRIVY_* variable of the job reaches Trivy. */
  env: NodeJS.ProcessEnv;
  db: SessionDb;
  javaDb: SessionDb;
  /** The Java DB of this job, fetched once, when a scan first meets a JAR (scans run in parallel). */
  javaDbReady?: Promise<void>;
}

export interface TrivySessionOptions {
  dbRepository: string[];
  javaDbRepository?: string[];
  cacheDb: boolean;
  /** The actions cache (default: the runner's, best effort). */
  cache?: DbCache;
}

/**
 * The databases of one step: the vulnerability DB resolved to a digest once and taken by that digest (this job's
 * verified copy, the actions cache under the exact key, or a download; trivy-db.ts), then every scan skips both
 * updates. The Java DB is taken the same way when a scan first meets a JAR.
 */
export async function openTrivySession(
  ctx: ActionContext,
  trivy: string,
  options: TrivySessionOptions,
): Promise<TrivySession> {
  const root = join(ctx.tempDir, 'golden-image-trivy');
  const cacheDir = join(root, 'cache');
  const session: TrivySession = {
    trivy,
    cacheDir,
    workDir: join(root, 'work'),
    emptyIgnore: join(root, 'work', 'empty.trivyignore'),
    ...(options.cacheDb ? { cache: options.cache ?? actionsDbCache(ctx, "Trivy's DB") } : {}),
    env: scannerEnv(ctx.env, join(root, 'home')),
    db: { spec: TRIVY_DBS.vuln, repositories: options.dbRepository, store: join(root, 'store', 'db') },
    javaDb: {
      spec: TRIVY_DBS.java,
      repositories: options.javaDbRepository ?? [],
      store: join(root, 'store', 'java-db'),
    },
  };
  await mkdir(session.cacheDir, { recursive: true });
  await mkdir(session.workDir, { recursive: true });
  await writeFile(session.emptyIgnore, '');
  await acquire(ctx, session, session.db);
  return session;
}

async function acquire(ctx: ActionContext, session: TrivySession, db: SessionDb): Promise<void> {
  db.use = await acquireTrivyDb(ctx, {
    spec: db.spec,
    repositories: db.repositories,
    cacheDir: session.cacheDir,
    store: db.store,
    work: join(session.workDir, 'db-download'),
    cache: session.cache,
  });
}

/** The databases this session scanned with: the vulnerability DB, and the Java DB when a JAR needed it. */
export function trivyDbsUsed(session: TrivySession): TrivyDbUse[] {
  return [session.db.use, session.javaDb.use].filter((use): use is TrivyDbUse => use !== undefined);
}

/** Saves the DBs' verified bytes under their exact keys; call it in a finally so they are saved when a gate fails. */
export async function closeTrivySession(ctx: ActionContext, session: TrivySession): Promise<void> {
  if (!session.cache) return;
  await session.javaDbReady?.catch(() => undefined);
  for (const db of [session.db, session.javaDb]) {
    if (db.use) await saveTrivyDb(ctx, db.use, db.store, session.cache);
  }
}

/** Without these two Trivy makes requests of its own in the background (version notices, telemetry). */
function offlineSafe(): string[] {
  return ['--skip-version-check', '--disable-telemetry'];
}

/**
 * Flags every scan shares, spelled once: JSON to a file, one kind of scanner, the job's DBs without update, no
 * ignore file (the suite applies ignore files itself), an in-memory scan cache (so scans of several platforms can
 * run at once; only the DBs are shared, read-only), and no request of Trivy's own.
 */
function commonArgs(session: TrivySession, output: string, scanners: readonly string[] = ['vuln']): string[] {
  return [
    '--format',
    'json',
    '--output',
    output,
    '--cache-dir',
    session.cacheDir,
    '--cache-backend',
    'memory',
    '--skip-db-update',
    '--skip-java-db-update',
    ...offlineSafe(),
    '--scanners',
    scanners.join(','),
    '--list-all-pkgs=false',
    '--ignorefile',
    session.emptyIgnore,
    '--no-progress',
  ];
}

/**
 * `trivy image --input DIR`: DIR must name exactly one platform manifest. Returns the parsed report. `scanners`
 * (default vuln): secret and misconfig also scan the image's configuration (env, history); misconfig uses the checks
 * built into the pinned Trivy (--skip-check-update: no download, the same checks every run).
 */
export async function trivyImage(
  ctx: ActionContext,
  session: TrivySession,
  layoutDir: string,
  output: string,
  options: { scanners?: readonly string[]; skipDirs?: readonly string[] } = {},
): Promise<unknown> {
  const scanners = options.scanners ?? ['vuln'];
  const args = ['image', '--input', layoutDir, ...commonArgs(session, output, scanners)];
  const configScanners = scanners.filter((scanner) => scanner === 'secret' || scanner === 'misconfig');
  if (configScanners.length > 0) args.push('--image-config-scanners', configScanners.join(','));
  if (scanners.includes('misconfig')) args.push('--skip-check-update');
  if (options.skipDirs && options.skipDirs.length > 0) args.push('--skip-dirs', options.skipDirs.join(','));
  return runScan(ctx, session, args, output, `the image layout ${layoutDir}`);
}

/** `trivy fs PATH`. Returns the parsed report. */
export async function trivyFs(
  ctx: ActionContext,
  session: TrivySession,
  path: string,
  skipDirs: string[],
  output: string,
): Promise<unknown> {
  const args = ['fs', ...commonArgs(session, output)];
  if (skipDirs.length > 0) args.push('--skip-dirs', skipDirs.join(','));
  args.push(path);
  return runScan(ctx, session, args, output, path);
}

/**
 * `trivy fs --scanners secret DIR` with Trivy's built-in rules, in the session's scratch directory and environment
 * (no trivy.yaml or trivy-secret.yaml of the job applies). Returns the parsed report.
 */
export async function trivySecretScan(
  ctx: ActionContext,
  session: TrivySession,
  dir: string,
  output: string,
): Promise<unknown> {
  return runScan(
    ctx,
    session,
    ['fs', ...commonArgs(session, output, ['secret']), dir],
    output,
    `the secrets in ${dir}`,
  );
}

/**
 * Trivy's fatal error on one line: from its last FATAL log line on (the error and its "* cause" lines), without the
 * timestamp and level; the last lines of stderr when there is none (a panic).
 */
export function trivyError(stderr: string): string {
  const lines = stderr.trim().split('\n');
  const fatal = lines.findLastIndex((line) => /\tFATAL\t|^FATAL\t/.test(line));
  if (fatal < 0) return lastLines(stderr).replace(/\s*\n\s*/g, ' ');
  return lines
    .slice(fatal)
    .map((line) => line.replace(/^(\S+\t)?FATAL\t(Fatal error\t)?/, '').trim())
    .filter(Boolean)
    .join(' ');
}

/** What Trivy says when it meets a JAR with --skip-java-db-update and no Java DB (pkg/javadb). */
const NO_JAVA_DB = "'--skip-java-db-update' cannot be specified on the first run";

async function runScan(
  ctx: ActionContext,
  session: TrivySession,
  args: string[],
  output: string,
  what: string,
): Promise<unknown> {
  await session.javaDbReady;
  let result = await ctx.runner.run(session.trivy, args, { env: session.env, cwd: session.workDir });
  if (result.exitCode !== 0 && result.stderr.includes(NO_JAVA_DB)) {
    ctx.info(`${what} holds a JAR: fetching Trivy's Java DB once for this job.`);
    session.javaDbReady ??= acquire(ctx, session, session.javaDb);
    await session.javaDbReady;
    result = await ctx.runner.run(session.trivy, args, { env: session.env, cwd: session.workDir });
  }
  // The gate comes from the JSON, never from the exit code; but a non-zero exit without --exit-code is a crash.
  if (result.exitCode !== 0) {
    throw new UserError(`Trivy failed to scan ${what} (exit code ${result.exitCode}): ${trivyError(result.stderr)}`);
  }
  let text: string;
  try {
    text = await readFile(output, 'utf8');
  } catch {
    throw new UserError(
      `Trivy exited 0 but wrote no report to ${output} while scanning ${what}; the gate cannot pass without one.`,
    );
  }
  return parseTrivyJson(text, output);
}
