// The reusable workflow spreads platforms over runners: its structure, and its two shell steps run for real with
// bash and jq (as the runner runs them), the second one feeding merge-layouts.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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
  const result = runStep(step('plan', 'plan').run ?? '', env);
  const matrix = result.outputs.matrix
    ? (JSON.parse(result.outputs.matrix) as { include: Record<string, string>[] })
    : undefined;
  return { ...result, matrix };
}

describe('the reusable workflow builds each platform on its own runner', () => {
  test('plan -> build (matrix, one job per platform) -> image (download, merge, scan, push, sign, promote)', () => {
    expect(job('build').needs).toBe('plan');
    expect(job('build').if).toBe("needs.plan.outputs.multi == 'true'");
    expect(job('build')['runs-on']).toBe(expr('matrix.runner'));
    expect(job('build').strategy?.matrix).toBe(expr('fromJSON(needs.plan.outputs.matrix)'));
    expect(uses('build', 'build-oci').with?.platforms).toBe(expr('matrix.platform'));
    expect(uses('build', 'upload-artifact').uses).toMatch(/^actions\/upload-artifact@[0-9a-f]{40}$/);
    expect(uses('build', 'upload-artifact').with?.overwrite).toBe(true);
    // The release job waits for every build, and still runs when the matrix is skipped (one platform).
    expect(job('image').needs).toEqual(['repo-gates', 'plan', 'build']);
    expect(job('image').if).toContain("needs.build.result == 'skipped'");
    expect(job('image').if).toContain('!cancelled()');
    const order = job('image').steps.map((s) => s.uses?.replace(/@.*/, '') ?? s.id ?? s.name);
    const at = (name: string) => order.findIndex((entry) => entry?.includes(name));
    expect(at('download-artifact')).toBeLessThan(at('layouts'));
    expect(at('layouts')).toBeLessThan(at('merge-layouts'));
    expect(at('merge-layouts')).toBeLessThan(at('scan-layout'));
    expect(at('scan-layout')).toBeLessThan(at('push-layout'));
    // Signing and promotion are jobs of their own after the push (re-runs of failed jobs resume there).
    expect(job('sign').needs).toBe('image');
    expect(job('promote').needs).toEqual(['image', 'sign']);
    expect(uses('image', 'download-artifact').uses).toMatch(/^actions\/download-artifact@[0-9a-f]{40}$/);
    expect(uses('image', 'download-artifact').with?.pattern).toBe(`${expr('needs.plan.outputs.artifact')}-*`);
    // The merged layout (or the single build's) is what is scanned and pushed.
    for (const action of ['scan-layout', 'push-layout'])
      expect(uses('image', action).with?.['layout-path']).toBe(
        expr('steps.build.outputs.layout-path || steps.merge.outputs.layout-path'),
      );
    expect(uses('image', 'scan-layout').with?.digest).toBe(
      expr('steps.build.outputs.digest || steps.merge.outputs.digest'),
    );
    // One platform keeps the single-job path: the build step runs in the release job only then.
    expect(step('image', 'build').if).toBe("needs.plan.outputs.multi != 'true'");
    expect(step('image', 'merge').if).toBe("needs.plan.outputs.multi == 'true'");
  });

  test('QEMU only where the runner cannot run the platform natively', () => {
    const native = `fromJSON('{"X64":"linux/amd64","ARM64":"linux/arm64"}')[runner.arch] != `;
    expect(uses('build', 'setup-qemu-action').if).toContain(`${native}matrix.platform`);
    expect(uses('image', 'setup-qemu-action').if).toContain(
      `${native}fromJSON(needs.plan.outputs.matrix).include[0].platform`,
    );
    expect(uses('image', 'setup-qemu-action').if).toContain("needs.plan.outputs.multi != 'true'");
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
      { platform: 'linux/amd64', runner: 'ubuntu-24.04', slug: 'linux-amd64' },
      { platform: 'linux/arm64', runner: 'ubuntu-24.04-arm', slug: 'linux-arm64' },
    ]);
    expect(result.outputs).toMatchObject({ multi: 'true', count: '2', registry: 'ghcr.io' });
    expect(result.outputs.artifact).toMatch(/^golden-image-layout-[0-9a-f]{12}$/);
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

  test('one platform: no matrix, the single-job path', () => {
    const result = plan({ PLATFORMS: 'linux/arm64' });
    expect(result.outputs).toMatchObject({ multi: 'false', count: '1' });
  });

  test('two calls in one run (different images) get different artifact names', () => {
    const a = plan({ IMAGE: 'ghcr.io/org/a' }).outputs.artifact;
    const b = plan({ IMAGE: 'ghcr.io/org/b' }).outputs.artifact;
    expect(a).not.toBe(b);
    expect(plan({ IMAGE: 'registry.example.com:5000/org/a' }).outputs.registry).toBe('registry.example.com:5000');
  });

  test.each([
    ['runners', { RUNNERS: 'linux/arm64' }],
    ['runners', { RUNNERS: 'linux/arm64=ubuntu 24.04;rm -rf /' }],
    ['runners', { RUNNERS: 'linux/arm64=$(id)' }],
    ['platforms', { PLATFORMS: 'linux/amd64,linux;id' }],
    ['platforms', { PLATFORMS: ' , ' }],
  ])('a bad %s entry stops the run with an error annotation', (input, overrides) => {
    const result = plan(overrides);
    expect(result.status).toBe(1);
    expect(result.log).toContain(`::error title=${input}::`);
    expect(result.outputs.matrix).toBeUndefined();
  });
});

describe('the release job lists the downloaded layouts and merges them', () => {
  if (!toolAvailable('jq')) return;

  test('each artifact directory holds layout/ and digest; the listing feeds merge-layouts', async () => {
    const downloads = tempDir('golden-image-downloads-');
    const built: Record<string, { digest: string; platforms: Record<string, string> }> = {};
    for (const platform of ['linux/amd64', 'linux/arm64']) {
      const artifact = join(downloads, `golden-image-layout-0123456789ab-${platform.replace('/', '-')}`);
      mkdirSync(artifact);
      built[platform] = await buildLayout(join(artifact, 'layout'), { platforms: [platform], seed: 'workflow' });
      writeFileSync(join(artifact, 'digest'), `${built[platform]?.digest}\n`);
    }
    const listing = runStep(step('image', 'layouts').run ?? '', { DIR: downloads, EXPECTED: '2' });
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

    const short = runStep(step('image', 'layouts').run ?? '', { DIR: downloads, EXPECTED: '3' });
    expect(short.status).toBe(1);
    expect(short.log).toContain('::error::expected 3 platform layouts, downloaded 2');
  });
});
