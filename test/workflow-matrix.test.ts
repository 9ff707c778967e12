// The reusable workflow spreads platforms over runners: its structure, and its two shell steps run for real with
// bash and jq (as the runner runs them), the second one feeding merge-layouts.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifyLayout } from '@golden-image/oci';
import {
  buildLayout,
  createTestContext,
  parseOutputFile,
  repoRoot,
  tempDir,
  toolAvailable,
} from '@golden-image/testkit';
import { describe, expect, test } from '@jest/globals';
import { parse } from 'yaml';
import { main as mergeLayouts } from '../actions/merge-layouts/main.js';

type Step = {
  id?: string;
  name?: string;
  if?: string;
  uses?: string;
  run?: string;
  env?: Record<string, string>;
  with?: Record<string, string>;
};
type Job = {
  needs?: string | string[];
  if?: string;
  'runs-on'?: string;
  strategy?: { matrix?: unknown; 'fail-fast'?: boolean };
  outputs?: Record<string, string>;
  steps: Step[];
};
type Workflow = {
  on: { workflow_call: { inputs: Record<string, { default?: string }> } };
  jobs: Record<string, Job>;
};

const workflow = parse(readFileSync(join(repoRoot, '.github/workflows/docker-publish.yml'), 'utf8')) as Workflow;
/** A workflow expression as written in the YAML: `${{ inner }}`. */
const expr = (inner: string) => `\${{ ${inner} }}`;
const job = (name: string) => workflow.jobs[name] as Job;
const step = (jobName: string, id: string) => job(jobName).steps.find((s) => s.id === id) as Step;
const uses = (jobName: string, action: string) => job(jobName).steps.find((s) => s.uses?.includes(action)) as Step;

/** Runs a `run:` step as the runner does (bash -eo pipefail), with its env; returns its outputs and log. */
function runStep(script: string, env: Record<string, string>) {
  const dir = tempDir('golden-image-step-');
  const output = join(dir, 'output');
  writeFileSync(output, '');
  const file = join(dir, 'step.sh');
  writeFileSync(file, script);
  const result = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', file], {
    env: { PATH: process.env.PATH, GITHUB_OUTPUT: output, RUNNER_TEMP: dir, ...env },
    encoding: 'utf8',
  });
  return {
    status: result.status,
    log: result.stdout + result.stderr,
    outputs: parseOutputFile(readFileSync(output, 'utf8')),
  };
}

const inputs = workflow.on.workflow_call.inputs;
function plan(overrides: Record<string, string> = {}) {
  const env = {
    PLATFORMS: inputs.platforms?.default ?? '',
    RUNNERS: inputs.runners?.default ?? '',
    IMAGE: '',
    REPOSITORY: 'My-Org/App',
    CONTEXT: '.',
    FILE: '',
    ...overrides,
  };
  const result = runStep(step('plan', 'platforms').run ?? '', env);
  const matrix = result.outputs.matrix
    ? (JSON.parse(result.outputs.matrix) as { include: Record<string, string>[] })
    : undefined;
  return { ...result, matrix };
}

describe('the reusable workflow builds each platform on its own runner', () => {
  test('plan -> build (matrix, one job per platform, always) -> image (download, pair with the reported digests, merge, scan, push)', () => {
    expect(job('build').needs).toBe('plan');
    expect(job('build').if).toBeUndefined();
    expect(job('build')['runs-on']).toBe(expr('matrix.runner'));
    expect(job('build').strategy?.matrix).toBe(expr('fromJSON(needs.plan.outputs.matrix)'));
    expect(uses('build', 'build-oci').with?.platforms).toBe(expr('matrix.platform'));
    expect(uses('build', 'upload-artifact').uses).toMatch(/^actions\/upload-artifact@[0-9a-f]{40}$/);
    expect(uses('build', 'upload-artifact').with?.overwrite).toBe(true);
    // Each leg reports its digest under its own output, which GitHub keeps for every leg.
    expect(Object.keys(job('build').outputs ?? {})).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((i) => `digest-${i}`));
    expect(job('image').needs).toEqual(['repo-gates', 'plan', 'build']);
    expect(job('image').if).toContain("needs.build.result == 'success'");
    expect(job('image').if).toContain('!cancelled()');
    const order = job('image').steps.map((s) => s.uses?.replace(/@.*/, '') ?? s.id ?? s.name);
    const at = (name: string) => order.findIndex((entry) => entry?.includes(name));
    expect(at('download-artifact')).toBeLessThan(at('layouts'));
    expect(at('layouts')).toBeLessThan(at('merge-layouts'));
    expect(at('merge-layouts')).toBeLessThan(at('scan-layout'));
    expect(at('scan-layout')).toBeLessThan(at('push-layout'));
    // Signing and promotion are jobs of their own after the push (re-runs of failed jobs resume there).
    expect(job('sign').needs).toEqual(['plan', 'image']);
    expect(job('promote').needs).toEqual(['plan', 'image', 'sign']);
    // Only the layouts: the SARIF artifacts of the same run must not match.
    expect(uses('image', 'download-artifact').with?.pattern).toBe(`${expr('needs.plan.outputs.artifact')}-layout-*`);
    expect(uses('build', 'upload-artifact').with?.name).toBe(
      `${expr('needs.plan.outputs.artifact')}-layout-${expr('matrix.slug')}`,
    );
    for (const action of ['scan-layout', 'push-layout'])
      expect(uses('image', action).with?.['layout-path']).toBe(
        expr('steps.merge.outputs.layout-path || steps.layouts.outputs.path'),
      );
    expect(step('image', 'merge').if).toBe("needs.plan.outputs.multi == 'true'");
    // No job but build runs build-oci.
    for (const name of Object.keys(workflow.jobs).filter((name) => name !== 'build'))
      expect(`${name}: ${JSON.stringify(job(name).steps ?? [])}`).not.toContain('actions/build-oci');
  });

  test('QEMU only where the runner cannot run the platform natively', () => {
    const native = `fromJSON('{"X64":"linux/amd64","ARM64":"linux/arm64"}')[runner.arch] != `;
    expect(uses('build', 'setup-qemu-action').if).toContain(`${native}matrix.platform`);
  });
});

describe('the plan step (bash and jq, as on the runner)', () => {
  if (!toolAvailable('jq')) {
    test.skip('jq is not installed here', () => {});
    return;
  }

  test('default: linux/amd64 on ubuntu-24.04, linux/arm64 on ubuntu-24.04-arm, one job each', () => {
    const result = plan();
    expect(result.status).toBe(0);
    expect(result.matrix?.include).toEqual([
      { index: 0, platform: 'linux/amd64', runner: 'ubuntu-24.04', slug: 'linux-amd64' },
      { index: 1, platform: 'linux/arm64', runner: 'ubuntu-24.04-arm', slug: 'linux-arm64' },
    ]);
    expect(result.outputs).toMatchObject({ multi: 'true', count: '2' });
    expect(result.outputs.artifact).toMatch(/^golden-image-[0-9a-f]{12}$/);
  });

  test('a platform without a mapped runner goes to ubuntu-24.04; duplicates and spaces are dropped', () => {
    const result = plan({
      PLATFORMS: 'linux/arm/v7, linux/amd64,linux/arm/v7\nlinux/s390x',
      RUNNERS: 'linux/amd64=ubuntu-24.04, linux/s390x = my-s390x-runner',
    });
    expect(result.status).toBe(0);
    expect(result.matrix?.include.map((entry) => `${entry.platform}@${entry.runner}`)).toEqual([
      'linux/arm/v7@ubuntu-24.04',
      'linux/amd64@ubuntu-24.04',
      'linux/s390x@my-s390x-runner',
    ]);
    expect(result.outputs.count).toBe('3');
  });

  test('one platform: a matrix of one (the build job is the only one that runs the Dockerfile)', () => {
    const result = plan({ PLATFORMS: 'linux/arm64' });
    expect(result.outputs).toMatchObject({ multi: 'false', count: '1' });
  });

  test('two calls in one run (different images) get different artifact names', () => {
    const a = plan({ IMAGE: 'ghcr.io/org/a' }).outputs.artifact;
    const b = plan({ IMAGE: 'ghcr.io/org/b' }).outputs.artifact;
    expect(a).not.toBe(b);
  });

  test.each([
    ['runners', { RUNNERS: 'linux/arm64' }],
    ['runners', { RUNNERS: 'linux/arm64=ubuntu 24.04;rm -rf /' }],
    ['runners', { RUNNERS: 'linux/arm64=$(id)' }],
    ['platforms', { PLATFORMS: 'linux/amd64,linux;id' }],
    ['platforms', { PLATFORMS: ' , ' }],
    ['platforms', { PLATFORMS: Array.from({ length: 9 }, (_, i) => `linux/arch${i}`).join(',') }],
  ])('a bad %s entry stops the run with an error annotation', (input, overrides) => {
    const result = plan(overrides);
    expect(result.status).toBe(1);
    expect(result.log).toContain(`::error title=${input}::`);
    expect(result.outputs.matrix).toBeUndefined();
  });
});

describe('the image job pairs each downloaded layout with the digest its build job reported', () => {
  if (!toolAvailable('jq')) return;
  const ARTIFACT = 'golden-image-0123456789ab';
  const MATRIX = JSON.stringify({
    include: [
      { index: 0, platform: 'linux/amd64', slug: 'linux-amd64', runner: 'ubuntu-24.04' },
      { index: 1, platform: 'linux/arm64', slug: 'linux-arm64', runner: 'ubuntu-24.04-arm' },
    ],
  });

  async function downloaded() {
    const dir = tempDir('golden-image-downloads-');
    const built: Record<string, { digest: string; platforms: Record<string, string> }> = {};
    for (const platform of ['linux/amd64', 'linux/arm64'])
      built[platform] = await buildLayout(join(dir, `${ARTIFACT}-layout-${platform.replace('/', '-')}`), {
        platforms: [platform],
        seed: 'workflow',
      });
    const reported = { 'digest-0': built['linux/amd64']?.digest, 'digest-1': built['linux/arm64']?.digest };
    return { dir, built, reported };
  }
  const pair = (dir: string, reported: Record<string, unknown>) =>
    runStep(step('image', 'layouts').run ?? '', {
      DIR: dir,
      ARTIFACT,
      MATRIX,
      REPORTED: JSON.stringify(reported),
    });

  test('the listing feeds merge-layouts with the digests of the job outputs', async () => {
    const { dir, built, reported } = await downloaded();
    const listing = pair(dir, reported);
    expect(listing.status).toBe(0);
    const { ctx, recorded } = createTestContext({
      'layout-paths': listing.outputs.paths ?? '',
      digests: listing.outputs.digests ?? '',
    });
    await mergeLayouts(ctx);
    await verifyLayout(recorded.outputs['layout-path'] as string, recorded.outputs.digest);
    expect(JSON.parse(recorded.outputs.platforms as string)).toEqual({
      ...built['linux/amd64']?.platforms,
      ...built['linux/arm64']?.platforms,
    });
  });

  test('a layout replaced after upload (with a digest file of its own) is refused by merge-layouts', async () => {
    const { dir, reported } = await downloaded();
    const target = join(dir, `${ARTIFACT}-layout-linux-arm64`);
    const forged = await buildLayout(tempDir('golden-image-forged-'), { platforms: ['linux/arm64'], seed: 'forged' });
    spawnSync('rm', ['-rf', target]);
    spawnSync('cp', ['-r', forged.path, target]);
    writeFileSync(join(target, 'digest'), `${forged.digest}\n`);
    const listing = pair(dir, reported);
    expect(listing.status).toBe(0);
    const { ctx } = createTestContext({
      'layout-paths': listing.outputs.paths ?? '',
      digests: listing.outputs.digests ?? '',
    });
    await expect(mergeLayouts(ctx)).rejects.toThrow(/sha256:/);
  });

  test('a platform whose build reported no digest, or whose layout is missing, stops the job', async () => {
    const { dir, reported } = await downloaded();
    const missing = pair(dir, { 'digest-0': reported['digest-0'] });
    expect(missing.status).toBe(1);
    expect(missing.log).toContain('::error::the build of linux/arm64 reported no digest');
    spawnSync('rm', ['-rf', join(dir, `${ARTIFACT}-layout-linux-amd64`)]);
    const gone = pair(dir, reported);
    expect(gone.status).toBe(1);
    expect(gone.log).toContain('::error::no layout was downloaded for linux/amd64');
  });
});
