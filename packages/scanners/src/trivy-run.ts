import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ActionContext, lastLines, UserError } from '@golden-image/kit';
import { restoreCacheBestEffort, saveCacheBestEffort } from '@golden-image/tools';
import { scannerEnv } from './scanner-env.js';
import { parseTrivyJson } from './trivy-report.js';

/** One of Trivy's two databases: the vulnerability DB (db/) and the Java index DB (java-db/, for JARs). */
interface TrivyDb {
  label: string;
  dir: string;
  files: [string, string];
  /** The flag that downloads only this DB, and the one naming its repositories. */
  downloadFlag: string;
  repositoryFlag: string;
  /** The action input that names its repositories. */
  input: string;
  repositories: string[];
  cacheKey: string;
  restoredKey?: string;
}

export interface TrivySession {
  trivy: string;
  cacheDir: string;
  /** A scratch working directory: keeps a caller's ./trivy.yaml and ./.trivyignore out of the scan. */
  workDir: string;
  /** An empty ignore file: the suite applies ignore files itself. */
  emptyIgnore: string;
  cacheDb: boolean;
  /** The scanner's whole environment (scannerEnv): no TRIVY_* variable of the job reaches Trivy. */
  env: NodeJS.ProcessEnv;
  db: TrivyDb;
  javaDb: TrivyDb;
  /** The Java DB download of this job, once (scans run in parallel). */
  javaDbReady?: Promise<void>;
}

export interface TrivySessionOptions {
  dbRepository: string[];
  javaDbRepository?: string[];
  cacheDb: boolean;
  now?: Date;
}

/**
 * The databases of one job: restored from the actions cache, the vulnerability DB downloaded (or refreshed) once,
 * then every scan skips both updates. The Java DB is fetched only when a scan meets a JAR.
 */
export async function openTrivySession(
  ctx: ActionContext,
  trivy: string,
  options: TrivySessionOptions,
): Promise<TrivySession> {
  const root = join(ctx.tempDir, 'golden-image-trivy');
  const cacheDir = join(root, 'cache');
  const day = (options.now ?? new Date()).toISOString().slice(0, 10);
  const session: TrivySession = {
    trivy,
    cacheDir,
    workDir: join(root, 'work'),
    emptyIgnore: join(root, 'work', 'empty.trivyignore'),
    cacheDb: options.cacheDb,
    env: scannerEnv(ctx.env, join(root, 'home')),
    db: {
      label: "Trivy's vulnerability DB",
      dir: join(cacheDir, 'db'),
      files: ['trivy.db', 'metadata.json'],
      downloadFlag: '--download-db-only',
      repositoryFlag: '--db-repository',
      input: 'db-repository',
      repositories: options.dbRepository,
      cacheKey: `golden-image-trivy-db-v2-${day}`,
    },
    javaDb: {
      label: "Trivy's Java DB",
      dir: join(cacheDir, 'java-db'),
      files: ['trivy-java.db', 'metadata.json'],
      downloadFlag: '--download-java-db-only',
      repositoryFlag: '--java-db-repository',
      input: 'java-db-repository',
      repositories: options.javaDbRepository ?? [],
      cacheKey: `golden-image-trivy-java-db-v1-${day}`,
    },
  };
  await mkdir(session.cacheDir, { recursive: true });
  await mkdir(session.workDir, { recursive: true });
  await writeFile(session.emptyIgnore, '');
  if (session.cacheDb) {
    for (const db of [session.db, session.javaDb]) {
      db.restoredKey = await restoreCacheBestEffort(ctx, db.label, [db.dir], db.cacheKey, [
        db.cacheKey.slice(0, -day.length),
      ]);
    }
  }
  await updateDb(ctx, session, session.db);
  // A Java DB restored from the cache is refreshed now; without one, the first scan that meets a JAR fetches it.
  if (hasDb(session.javaDb)) session.javaDbReady = updateDb(ctx, session, session.javaDb);
  return session;
}

/** Downloads or refreshes one DB; when that fails, a cached copy is used with a warning, and no copy is an error. */
async function updateDb(ctx: ActionContext, session: TrivySession, db: TrivyDb): Promise<void> {
  const current = await currentUntil(db);
  if (current) {
    ctx.info(`${db.label}: the cached copy is current until ${current} (Trivy's own rule); not asking for an update.`);
    return;
  }
  const args = ['image', db.downloadFlag, '--cache-dir', session.cacheDir, ...offlineSafe(), '--no-progress'];
  if (db.repositories.length > 0) args.push(db.repositoryFlag, db.repositories.join(','));
  const result = await ctx.runner.run(session.trivy, args, { env: session.env, cwd: session.workDir });
  if (result.exitCode === 0) return;
  const why = trivyError(result.stderr);
  const from = db.repositories.length > 0 ? db.repositories.join(', ') : "Trivy's default repositories";
  if (hasDb(db)) {
    ctx.warning(
      `${db.label}: could not update it from ${from} (${why}); scanning with the cached copy (${await age(db)}).`,
    );
    return;
  }
  throw new UserError(
    `${db.label}: could not download it from ${from} and no cached copy exists: ${why}. Set ${db.input} to a reachable mirror, or retry later (the download is rate-limited).`,
  );
}

/** Saves both DBs to the actions cache; call it in a finally so they are saved even when the gate fails. */
export async function closeTrivySession(ctx: ActionContext, session: TrivySession): Promise<void> {
  if (!session.cacheDb) return;
  for (const db of [session.db, session.javaDb]) {
    if (!hasDb(db)) continue;
    if (db.restoredKey === db.cacheKey) {
      ctx.info(`${db.label}: the actions cache already holds ${db.cacheKey}.`);
      continue;
    }
    await saveCacheBestEffort(ctx, db.label, [db.dir], db.cacheKey);
  }
}

function hasDb(db: TrivyDb): boolean {
  return db.files.every((file) => existsSync(join(db.dir, file)));
}

/**
 * When Trivy itself would not download (pkg/db NeedsUpdate, pkg/javadb Update): both files there, the schema
 * version it reads, and NextUpdate ahead or the last download recent (an hour for the vulnerability DB, a day for
 * the Java DB). Returns until when, or undefined; saves starting Trivy for nothing.
 */
async function currentUntil(db: TrivyDb): Promise<string | undefined> {
  if (!hasDb(db)) return undefined;
  let meta: { Version?: number; NextUpdate?: string; DownloadedAt?: string };
  try {
    meta = JSON.parse(await readFile(join(db.dir, 'metadata.json'), 'utf8'));
  } catch {
    return undefined;
  }
  const java = db.downloadFlag === '--download-java-db-only';
  if (meta.Version !== (java ? 1 : 2)) return undefined;
  const downloaded = Date.parse(meta.DownloadedAt ?? '');
  // A DB that Trivy never stamped (DownloadedAt zero) is re-downloaded by Trivy.
  if (!java && !(downloaded > 0)) return undefined;
  const until = Math.max(Date.parse(meta.NextUpdate ?? '') || 0, (downloaded || 0) + (java ? 86_400_000 : 3_600_000));
  return Date.now() < until ? new Date(until).toISOString() : undefined;
}

async function age(db: TrivyDb): Promise<string> {
  try {
    const meta = JSON.parse(await readFile(join(db.dir, 'metadata.json'), 'utf8')) as { UpdatedAt?: string };
    return meta.UpdatedAt ? `updated ${meta.UpdatedAt}` : 'age unknown';
  } catch {
    return 'age unknown';
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
    session.javaDbReady ??= updateDb(ctx, session, session.javaDb);
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
