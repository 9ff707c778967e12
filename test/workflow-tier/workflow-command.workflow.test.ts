// `npm run workflow -- <caller.yml> [event]`, as the README tells a team to try the reusable workflow on its own
// Dockerfile: run from a repository of its own, with nothing but the caller file.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { repoRoot, tempDir } from '@golden-image/testkit';
import { describe, expect, test } from '@jest/globals';
import { sampleImageFiles } from './scenario.js';

/** The README's Quick start, as a team would paste it. */
const QUICK_START = `name: publish
on:
  push:
    branches: [main]
jobs:
  publish:
    permissions: { contents: read, packages: write, id-token: write }
    uses: golden-image/golden-image/.github/workflows/docker-publish.yml@v1
`;

function teamRepository(files: Record<string, string>): string {
  const dir = tempDir('golden-image-team-');
  for (const [path, content] of Object.entries({ ...files, '.github/workflows/publish.yml': QUICK_START })) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  const git = (...args: string[]) => spawnSync('git', ['-C', dir, ...args], { encoding: 'utf8' });
  git('init', '-q', '-b', 'main');
  git('remote', 'add', 'origin', 'git@github.com:acme/try.git');
  return dir;
}

function workflowCommand(repo: string) {
  return spawnSync('npm', ['run', '-s', 'workflow', '--', join(repo, '.github', 'workflows', 'publish.yml')], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 1_500_000,
  });
}

describe('npm run workflow', () => {
  test("runs a team's caller on its own Dockerfile: every job's result, and the image pushed with its digest and tags", () => {
    const result = workflowCommand(teamRepository(sampleImageFiles()));
    expect({ status: result.status, stderr: result.status ? result.stderr.slice(-2000) : '' }).toEqual({
      status: 0,
      stderr: '',
    });
    expect(result.stdout).toMatch(/Jobs:\n(.*: success\n)+/);
    expect(result.stdout).toMatch(
      /Images pushed:\n {2}localhost:\d+\/acme\/try@sha256:[0-9a-f]{64} {2}latest, sha-[0-9a-f]{7}\n/,
    );
  });

  test('exits non-zero when the run fails, and says which job failed', () => {
    const result = workflowCommand(teamRepository(sampleImageFiles({ vulnerable: ['linux/arm64'] })));
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/merge, scan, push: failure/);
    expect(result.stdout).toMatch(/Images pushed:\n*$/);
  });
});
