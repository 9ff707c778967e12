// npm-publish.yml run by act as examples/workflows/npm-publish.yml calls it: one tarball packed, scanned and
// published to a real registry (Verdaccio), then read back.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startWorkflowEnvironment, type WorkflowEnvironment } from '@golden-image/testkit';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { NPM_FIXTURES } from '../fixtures/npm/fixtures.js';
import { caller, expectSucceeded, REPORT_JOB, reportedOutputs, run } from './scenario.js';

let env: WorkflowEnvironment;
beforeAll(async () => {
  env = await startWorkflowEnvironment({ npm: true, images: false });
});
afterAll(async () => {
  await env?.stop();
});

/** examples/workflows/npm-publish.yml, with the registry and token of this machine. */
const CALLER = `
name: npm-release
on:
  push:
    tags: ['v*']
  workflow_dispatch:
jobs:
  release:
    permissions:
      contents: read
      id-token: write
    uses: golden-image/golden-image/.github/workflows/npm-publish.yml@v1
    with:
      path: .
      registry: \${{ vars.NPM_REGISTRY }}
      node-version: '20'
      install-command: ''
      environment: npm
    secrets:
      npm-token: \${{ secrets.NPM_TOKEN }}
${REPORT_JOB('release')}`;

function packageFiles(): Record<string, string> {
  const dir = join(NPM_FIXTURES, 'simple');
  return Object.fromEntries(readdirSync(dir).map((name) => [name, readFileSync(join(dir, name), 'utf8')]));
}

describe('npm-publish.yml', () => {
  test('packs once, scans that tarball, publishes it to the registry and reads it back', async () => {
    const repo = caller(CALLER, packageFiles());
    const result = await run(env, repo, 'workflow_dispatch', { secrets: { NPM_TOKEN: env.npm?.token ?? '' } });
    expectSucceeded(result);
    const outputs = reportedOutputs(result);
    expect(outputs).toMatchObject({ name: 'golden-fixture-simple', version: '1.0.0', published: 'true' });
    const served = (await (await fetch(new URL('golden-fixture-simple', env.npm?.url))).json()) as {
      versions: Record<string, { dist: { integrity: string } }>;
    };
    expect(served.versions['1.0.0']?.dist.integrity).toBe(outputs.integrity);
  });
});
