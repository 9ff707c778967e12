import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ActionContext, lastLines, UserError } from '@golden-image/kit';
import { restoreCacheBestEffort, saveCacheBestEffort } from '@golden-image/tools';
import { parseTrivyJson } from './trivy-report.js';

export interface TrivySession {
  trivy: string;
  cacheDir: string;
  /** A scratch working directory: keeps a caller's ./trivy.yaml and ./.trivyignore out of the scan. */
  workDir: string;
  /** An empty ignore file: the suite applies ignore files itself. */
  emptyIgnore: string;
  dbRepository: string[];
  cacheDb: boolean;
  env: NodeJS.ProcessEnv;
  cacheKey: string;
  restoredKey?: string;
}

/** The vulnerability DB of one job: restored from the actions cache, downloaded once, then every scan skips the update. */
export async function openTrivySession(
  ctx: ActionContext,
  trivy: string,
  options: { dbRepository: string[]; cacheDb: boolean; now?: Date },
): Promise<TrivySession> {
  const root = join(ctx.tempDir, 'golden-image-trivy');
  const session: TrivySession = {
    trivy,
    cacheDir: join(root, 'cache'),
    workDir: join(root, 'work'),
    emptyIgnore: join(root, 'work', 'empty.trivyignore'),
    dbRepository: options.dbRepository,
    cacheDb: options.cacheDb,
    env: { ...ctx.env },
    cacheKey: `golden-image-trivy-db-v2-${(options.now ?? new Date()).toISOString().slice(0, 10)}`,
  };
  await mkdir(session.cacheDir, { recursive: true });
  await mkdir(session.workDir, { recursive: true });
  await writeFile(session.emptyIgnore, '');
  if (session.cacheDb) {
    session.restoredKey = await restoreCacheBestEffort(
      ctx,
      'Trivy DB',
      [join(session.cacheDir, 'db')],
      session.cacheKey,
      ['golden-image-trivy-db-v2-'],
    );
  }
  const args = ['image', '--download-db-only', '--cache-dir', session.cacheDir, '--no-progress'];
  if (session.dbRepository.length > 0) args.push('--db-repository', session.dbRepository.join(','));
  const result = await ctx.runner.run(trivy, args, { env: session.env, cwd: session.workDir });
  if (result.exitCode !== 0) {
    const why = lastLines(result.stderr, 3);
    const from = session.dbRepository.length > 0 ? session.dbRepository.join(', ') : "Trivy's default DB repositories";
    if (hasDb(session)) {
      ctx.warning(
        `Trivy could not update its vulnerability DB from ${from} (${why}); scanning with the cached DB (${await dbAge(session)}).`,
      );
    } else {
      throw new UserError(
        `Trivy could not download its vulnerability DB from ${from} and no cached DB exists: ${why}. Set db-repository to a reachable mirror, or retry later (the DB download is rate-limited).`,
      );
    }
  }
  return session;
}

/** Saves the DB to the actions cache; call it in a finally so it is saved even when the gate fails. */
export async function closeTrivySession(ctx: ActionContext, session: TrivySession): Promise<void> {
  if (!session.cacheDb || !hasDb(session)) return;
  if (session.restoredKey === session.cacheKey) {
    ctx.info(`Trivy DB: the actions cache already holds ${session.cacheKey}.`);
    return;
  }
  await saveCacheBestEffort(ctx, 'Trivy DB', [join(session.cacheDir, 'db')], session.cacheKey);
}

function hasDb(session: TrivySession): boolean {
  return (
    existsSync(join(session.cacheDir, 'db', 'trivy.db')) && existsSync(join(session.cacheDir, 'db', 'metadata.json'))
  );
}

async function dbAge(session: TrivySession): Promise<string> {
  try {
    const meta = JSON.parse(await readFile(join(session.cacheDir, 'db', 'metadata.json'), 'utf8')) as {
      UpdatedAt?: string;
    };
    return meta.UpdatedAt ? `updated ${meta.UpdatedAt}` : 'age unknown';
  } catch {
    return 'age unknown';
  }
}

/** Flags every scan shares: JSON to a file, vulnerabilities only, the job's DB without update, no ignore file. */
function commonArgs(session: TrivySession, output: string): string[] {
  return [
    '--format',
    'json',
    '--output',
    output,
    '--cache-dir',
    session.cacheDir,
    '--skip-db-update',
    '--scanners',
    'vuln',
    '--list-all-pkgs=false',
    '--ignorefile',
    session.emptyIgnore,
    '--no-progress',
  ];
}

/** `trivy image --input DIR`: DIR must name exactly one platform manifest. Returns the parsed report. */
export async function trivyImage(
  ctx: ActionContext,
  session: TrivySession,
  layoutDir: string,
  output: string,
): Promise<unknown> {
  return runScan(
    ctx,
    session,
    ['image', '--input', layoutDir, ...commonArgs(session, output)],
    output,
    `the image layout ${layoutDir}`,
  );
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

async function runScan(
  ctx: ActionContext,
  session: TrivySession,
  args: string[],
  output: string,
  what: string,
): Promise<unknown> {
  const result = await ctx.runner.run(session.trivy, args, { env: session.env, cwd: session.workDir });
  // The gate comes from the JSON, never from the exit code; but a non-zero exit without --exit-code is a crash.
  if (result.exitCode !== 0) {
    throw new UserError(`Trivy failed to scan ${what} (exit code ${result.exitCode}): ${lastLines(result.stderr)}`);
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
