// The git repositories a workflow run sees: golden-image itself (this checkout, as one commit) and the caller's.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { repoRoot, tempDir } from '../fixtures.js';

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'golden-image tests',
      GIT_AUTHOR_EMAIL: 'tests@golden-image.invalid',
      GIT_COMMITTER_NAME: 'golden-image tests',
      GIT_COMMITTER_EMAIL: 'tests@golden-image.invalid',
      GIT_AUTHOR_DATE: '2026-01-01T00:00:00Z',
      GIT_COMMITTER_DATE: '2026-01-01T00:00:00Z',
    },
  }).trim();

export interface Snapshot {
  /** A git work tree holding the commit; act reads workflows from it, the checkout stand-in fetches from it. */
  dir: string;
  /** The commit, as GitHub would name it in job_workflow_sha. */
  sha: string;
  /** The tags that point at it: v<package.json version> (the reusable workflows' own release) and v1. */
  tags: string[];
}

let snapshot: Snapshot | undefined;

/**
 * This checkout as it is now (tracked and untracked files that git does not ignore, uncommitted changes included),
 * committed once per process into a repository of its own: what `golden-image/golden-image@<ref>` is in a run.
 */
export function goldenImageSnapshot(): Snapshot {
  if (snapshot) return snapshot;
  const dir = tempDir('golden-image-snapshot-');
  const files = git(repoRoot, 'ls-files', '-co', '--exclude-standard', '-z').split('\0').filter(Boolean);
  for (const file of files) {
    try {
      cpSync(join(repoRoot, file), join(dir, file), { preserveTimestamps: false });
    } catch (error) {
      // a file deleted in the work tree but still tracked
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'golden-image snapshot for the workflow tier');
  const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
  const tags = [`v${version}`, 'v1'];
  for (const tag of tags) git(dir, 'tag', tag);
  snapshot = { dir, sha: git(dir, 'rev-parse', 'HEAD'), tags };
  return snapshot;
}

export interface CallerRepository {
  dir: string;
  /** owner/name, from the origin remote act reads. */
  repository: string;
  branch: string;
  sha: string;
}

/**
 * A caller's repository: `files` (path -> content) committed on `branch` with an origin on github.com, so act
 * names the run's repository, ref and sha as GitHub would.
 */
export function callerRepository(
  repository: string,
  files: Record<string, string | Buffer>,
  options: { branch?: string; copyFrom?: string } = {},
): CallerRepository {
  const dir = tempDir('golden-image-caller-');
  if (options.copyFrom) cpSync(options.copyFrom, dir, { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  const branch = options.branch ?? 'main';
  git(dir, 'init', '-q', '-b', branch);
  git(dir, 'remote', 'add', 'origin', `https://github.com/${repository}.git`);
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'caller');
  return { dir, repository, branch, sha: git(dir, 'rev-parse', 'HEAD') };
}

/** Commits the work tree's changes (a second push to the same branch). */
export function commitAll(caller: CallerRepository, message: string): CallerRepository {
  git(caller.dir, 'add', '-A');
  git(caller.dir, 'commit', '-q', '--allow-empty', '-m', message);
  return { ...caller, sha: git(caller.dir, 'rev-parse', 'HEAD') };
}
