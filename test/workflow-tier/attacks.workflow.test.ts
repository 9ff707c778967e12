// The builder's boundary, attacked through real workflow runs (act, its own artifact and cache servers): what a
// writer of the calling repository, another job of the same run, or the caller's Dockerfile can try, and what the
// reusable workflow does about it. docs/security.md has the threat model.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  goldenImageSnapshot,
  startWorkflowEnvironment,
  tempDir,
  type WorkflowEnvironment,
} from '@golden-image/testkit';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import {
  caller,
  callerOf,
  expectSucceeded,
  RegistryView,
  reportedOutputs,
  results,
  run,
  sampleImageFiles,
  waitForArtifactStep,
} from './scenario.js';

// biome-ignore lint/suspicious/noTemplateCurlyInString: the workflow expression, as a caller writes it
const REGISTRY = '${{ vars.REGISTRY }}';

const indented = (text: string, by: string) =>
  text
    .split('\n')
    .map((line) => `${by}${line}`)
    .join('\n');

let env: WorkflowEnvironment;
const view = new RegistryView();
beforeAll(async () => {
  env = await startWorkflowEnvironment();
});
afterAll(async () => {
  await env?.stop();
});
const imageOf = (name: string) => `${env.registry.host}/acme/${name}`;

const PINNED = {
  upload: 'actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02',
  download: 'actions/download-artifact@d3f86a106a0bac45b974a628896c90dbdf5c8093',
  checkout: 'actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683',
};

describe('1. the caller cannot choose the code that signs', () => {
  test("the old inputs pointing at a fork are not taken: golden-image's own commit runs, the fork's sign-digest never does", async () => {
    // A fork whose sign-digest would sign anything, leaving a mark where the test can see it.
    const mark = join(tempDir('golden-image-fork-mark-'), 'the-fork-ran');
    const fork = tempDir('golden-image-evil-fork-');
    cpSync(goldenImageSnapshot().dir, fork, { recursive: true });
    writeFileSync(
      join(fork, 'actions', 'sign-digest', 'action.yml'),
      'name: sign-digest\nruns:\n  using: node20\n  main: evil.js\n',
    );
    writeFileSync(
      join(fork, 'actions', 'sign-digest', 'evil.js'),
      `require('fs').writeFileSync(${JSON.stringify(mark)}, 'signed without a scan');\n`,
    );
    const git = (...args: string[]) => execFileSync('git', ['-C', fork, ...args], { stdio: 'ignore' });
    git('add', '-A');
    git('-c', 'user.name=evil', '-c', 'user.email=evil@example.invalid', 'commit', '-q', '-m', 'sign anything');

    const repo = caller(
      callerOf({
        on: '[push]',
        with: [
          `image: ${REGISTRY}/acme/fork-attack`,
          'platforms: linux/amd64',
          'scan-repo: false',
          'golden-image-repository: evil/golden-image',
          'golden-image-ref: main',
        ].join('\n'),
      }),
    );
    const result = await run(env, repo, 'push', {
      standIns: { ...env.standIns, repositories: { 'evil/golden-image': fork } },
    });
    expectSucceeded(result);
    expect(existsSync(mark)).toBe(false);
    const sign = result.job(/\/sign /);
    expect(sign.log.join('\n')).toContain(`golden-image at ${goldenImageSnapshot().sha}, as this job's token says`);
    expect(reportedOutputs(result)['verify-command']).toContain(
      '--certificate-identity https://github.com/golden-image/golden-image/.github/workflows/docker-publish.yml@refs/tags/v1',
    );
  });
});

describe('3. artifacts cannot carry their own digest', () => {
  test('another job of the run replaces a platform layout (and its digest file) after upload: refused before anything is pushed', async () => {
    // The attacker: a job of the same run that waits for the layout artifact, builds an image of its own with the
    // suite's public build action, and uploads it under the same name with a matching digest file.
    const evil = {
      'evil/Dockerfile': 'FROM scratch\nCOPY payload /payload\n',
      'evil/payload': 'not what was scanned\n',
    };
    const repo = caller(
      callerOf({
        on: '[push]',
        with: `image: ${REGISTRY}/acme/artifact-attack`,
        jobs: `
attacker:
  runs-on: ubuntu-24.04
  permissions: {}
  steps:
    - uses: ${PINNED.checkout}
${indented(waitForArtifactStep('test("-layout-linux-amd64")'), '    ')}
    - uses: docker/setup-buildx-action@e468171a9de216ec08956ac3ada2f0791b6bd435
    - name: Build an image of its own
      id: evil
      uses: golden-image/golden-image/actions/build-oci@v1
      with:
        context: evil
        platforms: linux/amd64
        layout-path: \${{ runner.temp }}/forged
        cache-from: none
        cache-to: none
    - name: With a digest file that matches it
      env:
        DIGEST: \${{ steps.evil.outputs.digest }}
      run: printf '%s\\n' "$DIGEST" > "$RUNNER_TEMP/forged/digest"
    - uses: ${PINNED.upload}
      with:
        name: \${{ steps.wait.outputs.name }}
        path: \${{ runner.temp }}/forged
        overwrite: true
`,
      }),
      { ...sampleImageFiles(), ...evil },
    );
    const result = await run(env, repo, 'push');
    expect(result.job('attacker').result).toBe('success');
    const image = result.job(/\/merge, scan, push$/);
    expect(image.result).toBe('failure');
    expect(image.log.join('\n')).toMatch(/merge-layouts|does not|digest/i);
    expect(Object.keys(results(result)).filter((name) => /^(sign|promote) /.test(name))).toEqual([]);
    expect(view.tags(imageOf('artifact-attack'))).toEqual([]);
  });

  test('the evidence replaced between the image job and the sign job: nothing is attached or signed from it', async () => {
    const repo = caller(
      callerOf({
        on: '[push]',
        with: `image: ${REGISTRY}/acme/evidence-attack\nplatforms: linux/amd64\nscan-repo: false`,
        jobs: `
attacker:
  runs-on: ubuntu-24.04
  permissions: {}
  steps:
${indented(waitForArtifactStep('endswith("-evidence")', 0.2), '    ')}
    - uses: ${PINNED.download}
      with:
        name: \${{ steps.wait.outputs.name }}
        path: evidence
    - name: Zero findings
      run: |
        for file in $(grep -rl '"CRITICAL"' evidence); do
          jq '(.. | objects | select(has("CRITICAL")) | .CRITICAL) = 0' "$file" > "$file.tmp" && mv "$file.tmp" "$file"
        done
        echo forged >> "$(find evidence -type f | head -n 1)"
    - uses: ${PINNED.upload}
      with:
        name: \${{ steps.wait.outputs.name }}
        path: evidence
        overwrite: true
`,
      }),
    );
    const result = await run(env, repo, 'push');
    expect(result.job('attacker').result).toBe('success');
    const sign = result.job(/\/sign /);
    // The attacker replaces the evidence while the sign job checks out and signs (seconds before it downloads).
    expect(sign.result).toBe('failure');
    expect(sign.log.join('\n')).toContain('the evidence artifact is not what the image job made');
    expect(view.tags(imageOf('evidence-attack')).filter((tag) => tag.endsWith('.att'))).toEqual([]);
  });
});

describe('4. signatures are made only for release refs, and say which ref', () => {
  test('a pull request with push: true is refused before anything is built; a feature branch publishes nothing', async () => {
    const withPush = caller(
      callerOf({
        on: '[push, pull_request]',
        with: `image: ${REGISTRY}/acme/ref-attack\nplatforms: linux/amd64\nscan-repo: false\npush: 'true'`,
      }),
      sampleImageFiles(),
      'feature/login',
    );
    const pr = await run(env, withPush, 'pull_request');
    expect(pr.status).not.toBe(0);
    const plan = pr.job(/\/plan /);
    expect(plan.result).toBe('failure');
    expect(plan.log.join('\n')).toContain('push is true, but pull_request events never publish or sign');
    const branch = await run(env, withPush, 'push');
    expect(branch.status).not.toBe(0);
    expect(branch.job(/\/plan /).log.join('\n')).toContain('refs/heads/feature/login is not a release ref');
    expect(view.tags(imageOf('ref-attack'))).toEqual([]);
  });
});

describe("7. no job that runs the caller's Dockerfile can mint the signing identity", () => {
  test('the build job holds no id-token: only plan and sign were given a token, and the build ran in the build job alone', async () => {
    const repo = caller(
      callerOf({
        on: '[push]',
        with: `image: ${REGISTRY}/acme/build-boundary\nplatforms: linux/amd64\nscan-repo: false`,
      }),
    );
    const before = env.issuer.tokenLog.length;
    const result = await run(env, repo, 'push');
    expectSucceeded(result);
    const asked = env.issuer.tokenLog.slice(before);
    expect([...new Set(asked.filter((entry) => entry.granted).map((entry) => entry.job))].sort()).toEqual([
      'plan',
      'sign',
    ]);
    expect(asked.filter((entry) => entry.job === 'build')).toEqual([]);
    const buildSteps = result.jobs.filter((job) => job.steps.some((step) => /into an OCI layout/.test(step.name)));
    expect(buildSteps.map((job) => job.id)).toEqual(['build']);
  });
});
