// docker-publish.yml run by act, called the way the README and examples/ call it, against real registries, the
// real tools, a real Fulcio and a GitHub-shaped OIDC token endpoint. Each scenario asserts on what reached the
// registry, the workflow's outputs and the job summaries.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  REGISTRY_USER,
  realTool,
  startWorkflowEnvironment,
  tempDir,
  type WorkflowEnvironment,
} from '@golden-image/testkit';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import {
  caller,
  callerOf,
  expectSucceeded,
  platformsOf,
  REPORT_JOB,
  RegistryView,
  reportedOutputs,
  results,
  run,
  sampleImageFiles,
  stepRan,
} from './scenario.js';

/** The README's Quick start, plus the job that shows the outputs. */
const QUICK_START = `
name: publish
on:
  push:
    branches: [main]
  pull_request:
  schedule:
    - cron: '0 3 * * *'
  workflow_dispatch:
jobs:
  publish:
    permissions: { contents: read, packages: write, id-token: write }
    uses: golden-image/golden-image/.github/workflows/docker-publish.yml@v1
${REPORT_JOB('publish')}`;

/** A caller with these `with:` lines (and `secrets:` lines, and the calling job's permissions). */
const callerWith = (withLines: string, secrets = '', permissions?: string) =>
  callerOf({ with: withLines, secrets, ...(permissions ? { permissions } : {}) });

let env: WorkflowEnvironment;
const view = new RegistryView();
beforeAll(async () => {
  env = await startWorkflowEnvironment();
});
afterAll(async () => {
  await env?.stop();
});

const imageOf = (name: string) => `${env.registry.host}/acme/${name}`;
const hexOf = (digest: string) => digest.replace('sha256:', '');
const date = () => new Date().toISOString().slice(0, 10).replaceAll('-', '');

/**
 * The verify command a run printed, run as a person would paste it (with the real cosign), in a directory holding
 * the private instance's CA chain under the name the command gives it.
 */
function verifies(command: string): { status: number | null; stderr: string } {
  const cosign = realTool('cosign', ['version']) as string;
  const dir = tempDir('golden-image-verify-');
  writeFileSync(join(dir, 'golden-image-certificate-chain.pem'), env.fulcio?.chainPem ?? '');
  const result = spawnSync('sh', ['-c', command.replace(/^cosign /, `${cosign} `)], {
    cwd: dir,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
  });
  return { status: result.status, stderr: result.status ? result.stderr : '' };
}

describe('the Quick start', () => {
  test('a push to main: two platforms built on the matrix, merged, scanned, pushed, signed keyless, attested, promoted', async () => {
    const repo = caller(QUICK_START);
    const result = await run(env, repo, 'push');
    expectSucceeded(result);
    const outputs = reportedOutputs(result);
    const digest = outputs.digest as string;
    const image = imageOf('app');
    expect(outputs).toMatchObject({ pushed: 'true', 'image-ref': `${image}@${digest}` });
    expect(view.digest(`${image}:sha-${repo.sha.slice(0, 7)}`)).toBe(digest);
    expect(view.digest(`${image}:latest`)).toBe(digest);
    expect(platformsOf(view.manifest(`${image}@${digest}`))).toEqual(['linux/amd64', 'linux/arm64']);
    expect(view.tags(image)).toEqual(
      expect.arrayContaining([`sha256-${hexOf(digest)}.sig`, `sha256-${hexOf(digest)}.att`]),
    );
    // Each platform built in a job of its own; no job but the two builds ran the Dockerfile.
    const builds = result.jobs.filter((job) => /\/build linux\//.test(job.name));
    expect(builds.map((job) => job.result)).toEqual(['success', 'success']);
    // The signature names golden-image's workflow at this ref for acme/app, and the command it prints verifies.
    expect(outputs['verify-command']).toContain('--certificate-github-workflow-repository acme/app');
    expect(outputs['verify-command']).toContain('--certificate-github-workflow-ref refs/heads/main');
    expect(verifies(outputs['verify-command'] as string)).toEqual({ status: 0, stderr: '' });
    // The summaries say what happened where.
    expect(result.job(/\/merge, scan, push$/).summary).toMatch(/linux\/amd64[\s\S]*linux\/arm64/);
  });

  test('one platform: the build job builds it, the image job scans and pushes it', async () => {
    const repo = caller(callerWith(`image: \${{ vars.REGISTRY }}/acme/one\nplatforms: linux/amd64\nscan-repo: false`));
    const result = await run(env, repo, 'push');
    expectSucceeded(result);
    const outputs = reportedOutputs(result);
    expect(platformsOf(view.manifest(`${imageOf('one')}@${outputs.digest}`))).toEqual(['linux/amd64']);
    expect(view.digest(`${imageOf('one')}:latest`)).toBe(outputs.digest);
    expect(result.jobs.filter((job) => /\/build linux\//.test(job.name)).map((job) => job.result)).toEqual(['success']);
  });
});

describe('events', () => {
  test("a fork's pull request: built and scanned; no token, no login, nothing pushed, signed or tagged; the summary says why", async () => {
    const repo = caller(QUICK_START, sampleImageFiles(), 'feature/login');
    // A fork's pull request gets no OIDC token and no secrets.
    const result = await run(env, repo, 'pull_request', { oidc: undefined });
    expectSucceeded(result);
    const jobs = results(result);
    expect(Object.entries(jobs).filter(([name]) => /^(sign|promote)/.test(name))).toEqual([]);
    const image = result.job(/\/merge, scan, push$/);
    expect(image.result).toBe('success');
    expect(stepRan(image, /^Log in/)).toBe(false);
    expect(image.summary).toContain('nothing was pushed, signed or tagged: pull_request events never publish or sign');
    expect(reportedOutputs(result).pushed).toBe('false');
    expect(view.tags(`${imageOf('app')}-pr`)).toEqual([]);
  });

  test('a schedule: latest, nightly and nightly-YYYYMMDD move to the signed digest', async () => {
    const repo = caller(
      callerWith(
        `image: \${{ vars.REGISTRY }}/acme/nightly\nplatforms: linux/amd64\nscan-repo: false\nenvironment: nightly`,
      ),
    );
    const result = await run(env, repo, 'schedule');
    expectSucceeded(result);
    const digest = reportedOutputs(result).digest;
    for (const tag of ['latest', 'nightly', `nightly-${date()}`, `sha-${repo.sha.slice(0, 7)}`])
      expect(`${tag} -> ${view.digest(`${imageOf('nightly')}:${tag}`)}`).toBe(`${tag} -> ${digest}`);
  });

  test('workflow_dispatch on a feature branch made a release ref: published under its immutable tag, and latest is not moved', async () => {
    const repo = caller(
      callerWith(
        `image: \${{ vars.REGISTRY }}/acme/branch\nplatforms: linux/amd64\nscan-repo: false\nrelease-refs: refs/heads/feature/*`,
      ),
      sampleImageFiles(),
      'feature/login',
    );
    const result = await run(env, repo, 'workflow_dispatch');
    expectSucceeded(result);
    const outputs = reportedOutputs(result);
    expect(outputs.pushed).toBe('true');
    expect(view.tags(imageOf('branch')).filter((tag) => !tag.startsWith('sha256-'))).toEqual([
      `sha-${repo.sha.slice(0, 7)}`,
    ]);
    expect(outputs['verify-command']).toContain('--certificate-github-workflow-ref refs/heads/feature/login');
  });
});

describe('releases that go wrong', () => {
  test('a failure at signing, then the run again: the release finishes, latest on a signed digest, the immutable tag kept', async () => {
    const repo = caller(
      callerWith(`image: \${{ vars.REGISTRY }}/acme/rerun\nplatforms: linux/amd64\nscan-repo: false`),
    );
    const broken = await run(env, repo, 'push', {
      vars: { ...env.vars, GOLDEN_IMAGE_FULCIO_URL: 'http://127.0.0.1:9' },
    });
    expect(broken.status).not.toBe(0);
    expect(results(broken)[`sign ${imageOf('rerun')}`]).toBe('failure');
    const first = view.digest(`${imageOf('rerun')}:sha-${repo.sha.slice(0, 7)}`);
    expect(first).toMatch(/^sha256:/);
    expect(view.digest(`${imageOf('rerun')}:latest`)).toBeUndefined();

    const again = await run(env, repo, 'push');
    expectSucceeded(again);
    const outputs = reportedOutputs(again);
    expect(view.digest(`${imageOf('rerun')}:latest`)).toBe(outputs.digest);
    expect(verifies(outputs['verify-command'] as string).status).toBe(0);
    // The immutable tag stays on the first build of this commit; the summary says it was kept.
    expect(view.digest(`${imageOf('rerun')}:sha-${repo.sha.slice(0, 7)}`)).toBe(first);
  });

  test('a blocked image: the image job fails on the finding, the summary names it, nothing is pushed, signed or tagged', async () => {
    const repo = caller(
      callerWith(`image: \${{ vars.REGISTRY }}/acme/blocked\nscan-repo: false`),
      sampleImageFiles({ vulnerable: ['linux/arm64'] }),
    );
    const result = await run(env, repo, 'push');
    expect(result.status).not.toBe(0);
    const image = result.job(/\/merge, scan, push$/);
    expect(image.result).toBe('failure');
    expect(image.summary).toMatch(/CVE-2099-1001/);
    expect(image.summary).toMatch(/linux\/arm64/);
    expect(Object.keys(results(result)).filter((name) => /^(sign|promote)/.test(name))).toEqual([]);
    expect(view.tags(imageOf('blocked'))).toEqual([]);
  });
});

describe('registries and the caller repository', () => {
  test('two images on two registries with registry-auth: the same bytes in both, signed and promoted in both', async () => {
    const other = `${env.privateRegistry.host}/acme/two`;
    const repo = caller(
      callerWith(
        `image: |\n  \${{ vars.REGISTRY }}/acme/two\n  ${other}\nplatforms: linux/amd64\nscan-repo: false`,
        `registry-auth: \${{ secrets.REGISTRY_AUTH }}`,
      ),
    );
    const registryAuth = [
      `- registry: ${env.registry.host}`,
      '  username: anyone',
      '  password: anything',
      `- registry: ${env.privateRegistry.host}`,
      `  username: ${REGISTRY_USER.username}`,
      `  password: ${REGISTRY_USER.password}`,
    ].join('\n');
    const result = await run(env, repo, 'push', { secrets: { REGISTRY_AUTH: registryAuth } });
    expectSucceeded(result);
    const digest = reportedOutputs(result).digest as string;
    const privateView = new RegistryView(REGISTRY_USER);
    expect(view.digest(`${imageOf('two')}:latest`)).toBe(digest);
    expect(privateView.digest(`${other}:latest`)).toBe(digest);
    expect(privateView.tags(other)).toContain(`sha256-${hexOf(digest)}.sig`);
    expect(result.jobs.filter((job) => /\/sign /.test(job.name)).map((job) => job.result)).toEqual([
      'success',
      'success',
    ]);
  });

  test("the caller's .trivyignore and osv-scanner.toml are honoured, and two platforms upload their SARIF to code scanning", async () => {
    const vulnerableRepo = join(process.cwd(), 'test', 'fixtures', 'repos', 'npm-vulnerable');
    const files = {
      ...sampleImageFiles({ vulnerable: ['linux/arm64'] }),
      ...Object.fromEntries(
        readdirSync(vulnerableRepo).map((name) => [name, readFileSync(join(vulnerableRepo, name), 'utf8')]),
      ),
      '.trivyignore': '# reviewed: the sample image and lockfile\nCVE-2099-1001\nCVE-2099-2001\n',
      'osv-scanner.toml': [
        '[[IgnoredVulns]]',
        'id = "GHSA-35jh-r3h4-6jhm"',
        'reason = "reviewed"',
        '[[IgnoredVulns]]',
        'id = "GHSA-xvch-5gv4-984h"',
        'reason = "reviewed"',
        '',
      ].join('\n'),
    };
    const repo = caller(
      callerWith(
        `image: \${{ vars.REGISTRY }}/acme/ignores\nupload-sarif: true`,
        '',
        'contents: read, packages: write, id-token: write, security-events: write',
      ),
      files,
    );
    const result = await run(env, repo, 'push');
    expectSucceeded(result);
    expect(reportedOutputs(result).pushed).toBe('true');
    // OSV-Scanner read the repository's osv-scanner.toml; Trivy's repository and image scans its .trivyignore.
    const gates = result.job(/repository gates/);
    for (const id of ['GHSA-35jh-r3h4-6jhm', 'GHSA-xvch-5gv4-984h'])
      expect(gates.log).toContain(`${id} and 1 alias have been filtered out because: reviewed`);
    expect(gates.summary).toContain('Suppressed (Trivy): 1 by ignore files');
    expect(result.job(/merge, scan, push/).summary).toMatch(
      /## scan-layout: passed[\s\S]*Suppressed: 1 by ignore files/,
    );
    expect(
      readdirSync(result.sarifDir)
        .filter((name) => name.endsWith('.sarif'))
        .sort(),
    ).toEqual(['golden-image__scan-layout.sarif', 'golden-image__scan-repo.sarif']);
  });
});
