// Runs small workflows through the real nektos/act binary on the host with the stand-ins, for the stand-ins' own
// tests. Every run has its own directory: a git repository holding the workflow, a HOME, act's action cache, and the
// artifact and cache servers' storage, both on 127.0.0.1 (the artifact server on a free port of its own).
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { freePort, tempDir } from '@golden-image/testkit';
import type { StandInConfig } from '../src/act/stand-in-config.js';
import { bundleStandIns } from '../src/act/stand-ins.js';

export const actBinary = join(homedir(), '.cache', 'golden-image', 'tools', 'bin', 'act');

export interface StandInBundle {
  dir: string;
  configPath: string;
  localRepositories: string[];
}

/** Bundles every stand-in once, with the config path every run rewrites. */
export async function bundle(): Promise<StandInBundle> {
  const dir = tempDir('gi-standins-');
  const configPath = join(dir, 'stand-in-config.json');
  const { localRepositories } = await bundleStandIns(join(dir, 'actions'), configPath);
  return { dir, configPath, localRepositories };
}

export interface ActOptions {
  /** The workflow, as YAML text. */
  workflow: string;
  event?: string;
  eventPayload?: Record<string, unknown>;
  config?: Partial<StandInConfig>;
  /** --env for every step (ACTIONS_ID_TOKEN_REQUEST_URL, ...). */
  env?: Record<string, string>;
  secrets?: Record<string, string>;
  /** Files committed in the repository act runs in (its GITHUB_SHA is that commit). */
  files?: Record<string, string>;
  /** Reuse this directory's artifact storage (a second act run of the same workflow run). */
  artifactDir?: string;
  /** owner/name of the repository act runs in (default acme/app). */
  repository?: string;
}

export interface ActResult {
  code: number;
  output: string;
  root: string;
  repo: string;
  home: string;
  artifactDir: string;
}

function git(cwd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd, env: gitEnv(cwd) });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.stderr.on('data', (chunk) => {
      out += chunk;
    });
    child.on('close', (code) =>
      code === 0 ? resolve(out.trim()) : reject(new Error(`git ${args.join(' ')}: ${out}`)),
    );
  });
}

const gitEnv = (home: string): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  HOME: home,
  GIT_AUTHOR_NAME: 'golden-image test',
  GIT_AUTHOR_EMAIL: 'test@example.invalid',
  GIT_COMMITTER_NAME: 'golden-image test',
  GIT_COMMITTER_EMAIL: 'test@example.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
});

/** A git repository with these files committed on main; more commits and tags with `commit`. */
export async function gitRepo(dir: string, files: Record<string, string>): Promise<{ sha: string }> {
  mkdirSync(dir, { recursive: true });
  await git(dir, ['init', '-q', '-b', 'main']);
  return { sha: await commit(dir, files) };
}

export async function commit(dir: string, files: Record<string, string>, tag?: string): Promise<string> {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  await git(dir, ['add', '-A']);
  await git(dir, ['commit', '-q', '-m', `commit ${Object.keys(files).join(' ')}`]);
  if (tag) await git(dir, ['tag', tag]);
  return git(dir, ['rev-parse', 'HEAD']);
}

export { git };

export async function runAct(standIns: StandInBundle, options: ActOptions): Promise<ActResult> {
  const root = tempDir('gi-act-');
  const repo = join(root, 'repo');
  const home = join(root, 'home');
  mkdirSync(home, { recursive: true });
  await gitRepo(repo, { '.github/workflows/test.yml': options.workflow, ...(options.files ?? {}) });
  // act names the run's repository (GITHUB_REPOSITORY) after the origin remote.
  await git(repo, ['remote', 'add', 'origin', `https://github.com/${options.repository ?? 'acme/app'}.git`]);
  const artifactDir = options.artifactDir ?? join(root, 'artifacts');
  const config: StandInConfig = {
    registries: {},
    sarifDir: join(root, 'sarif'),
    ...options.config,
    // The run's own repository is there to check out, as on GitHub.
    repositories: { [options.repository ?? 'acme/app']: repo, ...options.config?.repositories },
  };
  writeFileSync(standIns.configPath, JSON.stringify(config, null, 2));
  const event = options.event ?? 'push';
  const args = [
    event,
    '-W',
    join(repo, '.github', 'workflows', 'test.yml'),
    '-C',
    repo,
    '-P',
    'ubuntu-24.04=-self-hosted',
    '--no-skip-checkout',
    '--artifact-server-addr',
    '127.0.0.1',
    '--artifact-server-port',
    String(await freePort()),
    '--artifact-server-path',
    artifactDir,
    '--cache-server-addr',
    '127.0.0.1',
    '--cache-server-port',
    '0',
    '--cache-server-path',
    join(root, 'cache'),
    '--action-cache-path',
    join(root, 'action-cache'),
    '--env-file',
    join(root, 'none.env'),
    '--secret-file',
    join(root, 'none.secrets'),
    '--var-file',
    join(root, 'none.vars'),
  ];
  if (options.eventPayload) {
    const eventPath = join(root, 'event.json');
    writeFileSync(eventPath, JSON.stringify(options.eventPayload));
    args.push('-e', eventPath);
  }
  for (const local of standIns.localRepositories) args.push('--local-repository', local);
  for (const [key, value] of Object.entries(options.env ?? {})) args.push('--env', `${key}=${value}`);
  for (const [key, value] of Object.entries(options.secrets ?? {})) args.push('-s', `${key}=${value}`);
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home, LANG: 'C.UTF-8', TMPDIR: join(root, 'tmp') };
  mkdirSync(join(root, 'tmp'), { recursive: true });
  return new Promise((resolve, reject) => {
    const child = spawn(actBinary, args, { cwd: repo, env });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, output, root, repo, home, artifactDir }));
  });
}
