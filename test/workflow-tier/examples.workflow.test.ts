// The workflows of examples/workflows/, run by act as they are written: their registries (GHCR, ECR, Artifact
// Registry) are local TLS registries answering to those names inside the run's own hosts file, and the cloud logins
// are the stand-ins of the providers' actions, fed by the same GitHub OIDC token endpoint.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type CloudRegistries,
  callerRepository,
  repoRoot,
  startImpersonatedRegistries,
  startWorkflowEnvironment,
  type WorkflowEnvironment,
} from '@golden-image/testkit';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { expectSucceeded, payload, RegistryView, results, run, sampleImageFiles } from './scenario.js';

const EXAMPLES = join(repoRoot, 'examples', 'workflows');
const ECR = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const GAR = 'europe-west1-docker.pkg.dev';

/** Examples that need what this machine cannot give, and why; every other example runs below. */
const CANNOT_RUN: Record<string, string> = {
  'from-build-push-action.yml':
    "the root action in the caller's job downloads the pinned tools from GitHub releases (install-tools defaults to true, and nothing here reaches github.com); its configuration is run by the real tier (test/rerun-registries.test.ts)",
  'npm-publish.yml':
    "npm trusted publishing exchanges the job's OIDC token at registry.npmjs.org, which Verdaccio does not implement; npm-publish.workflow.test.ts runs the same workflow with a token",
};

let env: WorkflowEnvironment;
let cloud: CloudRegistries;
beforeAll(async () => {
  env = await startWorkflowEnvironment();
  cloud = await startImpersonatedRegistries([
    { names: ['ghcr.io'] },
    { names: [ECR], auth: { username: 'AWS', password: 'ecr-authorization-token' } },
    { names: [GAR], auth: { username: 'oauth2accesstoken', password: 'gcp-access-token' } },
  ]);
});
afterAll(async () => {
  await cloud?.stop();
  await env?.stop();
});

const example = (file: string) => readFileSync(join(EXAMPLES, file), 'utf8');
/** Reads a registry that answers to a real name, over its loopback address. */
const viewOf = (name: string, auth?: { username: string; password: string }) =>
  new RegistryView(auth, cloud.hosts[name]);

function runExample(file: string, repository: string, event: string, extra: Parameters<typeof run>[3] = {}) {
  const repo = callerRepository(repository, { ...sampleImageFiles(), [`.github/workflows/${file}`]: example(file) });
  return {
    repo,
    result: run(env, repo, event, {
      workflow: file,
      payload: payload(event, repo),
      hosts: cloud.hosts,
      runnerEnv: cloud.runnerEnv,
      standIns: {
        ...env.standIns,
        registries: { ...env.standIns.registries, ...cloud.standIns },
        aws: { accountId: '123456789012', region: 'eu-west-1' },
        gcp: {
          workloadIdentityProvider: 'projects/123456789/locations/global/workloadIdentityPools/github/providers/github',
          serviceAccount: 'pusher@my-project.iam.gserviceaccount.com',
        },
        githubToken: 'ghs_workflowtiertoken',
      },
      secrets: { GITHUB_TOKEN: 'ghs_workflowtiertoken' },
      ...extra,
    }),
  };
}

describe('examples/workflows', () => {
  test('every example either runs here or says why it cannot', () => {
    const files = readdirSync(EXAMPLES).filter((file) => file.endsWith('.yml'));
    const run = ['publish.yml', 'cloud-registries.yml'];
    expect(files.filter((file) => !run.includes(file) && !CANNOT_RUN[file])).toEqual([]);
  });

  test('publish.yml on a push to main: ghcr.io/my-fork/app built, scanned, pushed, signed and promoted', async () => {
    const { repo, result } = runExample('publish.yml', 'my-fork/app', 'push');
    const ran = await result;
    expectSucceeded(ran);
    const ghcr = viewOf('ghcr.io');
    const digest = ghcr.digest('ghcr.io/my-fork/app:latest');
    expect(digest).toMatch(/^sha256:/);
    expect(ghcr.digest(`ghcr.io/my-fork/app:sha-${repo.sha.slice(0, 7)}`)).toBe(digest);
    expect(ran.job('show').log.join('\n')).toContain(`Released ghcr.io/my-fork/app@${digest}`);
  });

  test('cloud-registries.yml, its reusable-workflow job: the cloud logins come first and the GitHub token is never offered to ECR', async () => {
    const { repo, result } = runExample('cloud-registries.yml', 'acme/cloud', 'push', { job: 'reusable' });
    const ran = await result;
    expectSucceeded(ran);
    const ecr = viewOf(ECR, { username: 'AWS', password: 'ecr-authorization-token' });
    const gar = viewOf(GAR, { username: 'oauth2accesstoken', password: 'gcp-access-token' });
    const digest = ecr.digest(`${ECR}/app:latest`);
    expect(digest).toMatch(/^sha256:/);
    expect(gar.digest(`${GAR}/my-project/images/app:latest`)).toBe(digest);
    expect(ecr.digest(`${ECR}/app:sha-${repo.sha.slice(0, 7)}`)).toBe(digest);
    // No default login ran anywhere: the caller gave no registry secrets and the registry is not GHCR.
    for (const job of ran.jobs)
      expect(
        `${job.name}: ${job.steps.filter((step) => /^Log in to (?!Amazon|Google)/.test(step.name) && step.stage === 'Main').length}`,
      ).toBe(`${job.name}: 0`);
    expect(Object.keys(results(ran)).filter((job) => /^(sign|promote) /.test(job)).length).toBe(4);
  });
});
