// The `environment` input: act reads a job's environment key but has no protection rules, so which job enters which
// environment is evaluated here by act's own expression engine, from the workflow files as they are. (The Quick
// start's schedule run and the npm run give the input too, so act runs the workflows with it.)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluateTemplate, repoRoot } from '@golden-image/testkit';
import { describe, expect, test } from '@jest/globals';
import { parse } from 'yaml';

type Workflow = { jobs: Record<string, { environment?: string }> };
const read = (name: string) => parse(readFileSync(join(repoRoot, '.github/workflows', name), 'utf8')) as Workflow;
const docker = read('docker-publish.yml');
const npm = read('npm-publish.yml');

const named = (workflow: Workflow) =>
  Object.entries(workflow.jobs)
    .filter(([, job]) => job.environment !== undefined)
    .map(([name]) => name);

describe('environment: one protected job per publishing run, none when nothing is published', () => {
  test('docker-publish.yml: only the image job (the push) names it; sign and promote wait on that job', async () => {
    expect(named(docker)).toEqual(['image']);
    const environment = (push: string, environment: string) =>
      evaluateTemplate(docker.jobs.image?.environment ?? '', {
        inputs: { environment },
        needs: { plan: { outputs: { push }, result: 'success' } },
      });
    expect(await environment('true', 'production')).toBe('production');
    // a pull request (or push: false) builds and scans: it never waits for a reviewer or a deployment branch rule
    expect(await environment('false', 'production')).toBe('');
    expect(await environment('true', '')).toBe('');
  });

  test('npm-publish.yml: only the publish job names it, and not for a dry run', async () => {
    expect(named(npm)).toEqual(['publish']);
    const environment = (dryRun: boolean, environment: string) =>
      evaluateTemplate(npm.jobs.publish?.environment ?? '', { inputs: { 'dry-run': dryRun, environment } });
    expect(await environment(false, 'npm')).toBe('npm');
    expect(await environment(true, 'npm')).toBe('');
    expect(await environment(false, '')).toBe('');
  });
});
