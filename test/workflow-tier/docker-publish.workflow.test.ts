// docker-publish.yml run by act, called the way the README and examples/ call it, against real registries, the
// real tools, a real Fulcio and a GitHub-shaped OIDC token endpoint. Each scenario asserts on what reached the
// registry, the workflow's outputs and the job summaries.
import { spawnSync } from 'node:child_process';
import { realTool, startWorkflowEnvironment, type WorkflowEnvironment } from '@golden-image/testkit';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { caller, platformsOf, REPORT_JOB, RegistryView, reportedOutputs, results, run } from './scenario.js';

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

let env: WorkflowEnvironment;
const view = new RegistryView();
beforeAll(async () => {
  env = await startWorkflowEnvironment();
});
afterAll(async () => {
  await env?.stop();
});

const image = () => `${env.registry.host}/acme/app`;
const hexOf = (digest: string) => digest.replace('sha256:', '');

describe('the Quick start', () => {
  test('a push to main: two platforms built on the matrix, merged, scanned, pushed, signed keyless, attested, promoted', async () => {
    const repo = caller(QUICK_START);
    const result = await run(env, repo, 'push');
    expect({ status: result.status, jobs: results(result) }).toEqual({
      status: 0,
      jobs: expect.objectContaining({
        "plan (golden-image's code, the platforms, the tags)": 'success',
        'repository gates (OSV-Scanner, Trivy fs, SBOM)': 'success',
      }),
    });
    const outputs = reportedOutputs(result);
    const digest = outputs.digest as string;
    expect(outputs).toMatchObject({ pushed: 'true', 'image-ref': `${image()}@${digest}` });
    expect(view.digest(`${image()}:sha-${repo.sha.slice(0, 7)}`)).toBe(digest);
    expect(view.digest(`${image()}:latest`)).toBe(digest);
    expect(platformsOf(view.manifest(`${image()}@${digest}`))).toEqual(['linux/amd64', 'linux/arm64']);
    expect(view.tags(image())).toEqual(
      expect.arrayContaining([`sha256-${hexOf(digest)}.sig`, `sha256-${hexOf(digest)}.att`]),
    );
    // the verify command the workflow prints works as pasted
    const cosign = realTool('cosign') as string;
    const verified = spawnSync('sh', ['-c', (outputs['verify-command'] as string).replace(/^cosign /, `${cosign} `)], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
    });
    expect({ status: verified.status, stderr: verified.status ? verified.stderr : '' }).toEqual({
      status: 0,
      stderr: '',
    });
  });
});
