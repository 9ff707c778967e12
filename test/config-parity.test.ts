// The root action and the reusable workflow take the same configuration under the same names with the same
// defaults, and split tags by the same rule: the workflow's names step (bash, as the runner runs it) is checked
// against the root action's TypeScript (releaseTags) case by case.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { releaseTags, splitTags } from '@golden-image/oci';
import { parseOutputFile, repoRoot, tempDir, toolAvailable } from '@golden-image/testkit';
import { describe, expect, test } from '@jest/globals';
import { parse } from 'yaml';

type Input = { default?: string | boolean; required?: boolean };
const root = parse(readFileSync(join(repoRoot, 'action.yml'), 'utf8')) as { inputs: Record<string, Input> };
const workflow = parse(readFileSync(join(repoRoot, '.github/workflows/docker-publish.yml'), 'utf8')) as {
  on: { workflow_call: { inputs: Record<string, Input>; secrets: Record<string, unknown> } };
  jobs: Record<string, { steps: { id?: string; run?: string }[] }>;
};
const call = workflow.on.workflow_call;

/** Inputs of the root action only, with why the workflow has none. */
const ROOT_ONLY: Record<string, string> = {
  sign: 'the workflow always signs keylessly (its identity is the reusable workflow)',
  key: 'the workflow signs keylessly; a key would be a secret of the caller',
  'tag-race-window-ms':
    "the workflow serialises each image's pushes with a concurrency group, so its push-layout runs with the window off (0)",
  'kyverno-policy-kind':
    'the workflow signs keylessly, and only a ClusterPolicy binds a keyless signature to the source repository (an ImageValidatingPolicy is refused for keyless): the workflow writes that, as auto does',
  'tls-verify': 'for local test registries; the workflow publishes to real ones',
  username: 'a secret in the workflow: registry-username',
  password: 'a secret in the workflow: registry-password',
  'build-secrets': 'a secret in the workflow, of the same name',
  ssh: "the workflow's build jobs hold no SSH agent or key of the caller; a key would be a secret of the caller",
  'certificate-chain':
    "a file path in the caller's job; the workflow takes the PEM from the variable GOLDEN_IMAGE_CERTIFICATE_CHAIN",
  'trusted-root':
    "a file path in the caller's job; the workflow takes the chain (GOLDEN_IMAGE_CERTIFICATE_CHAIN) instead",
};
/** Inputs of the workflow only, with why the root action has none. */
const WORKFLOW_ONLY: Record<string, string> = {
  runners: "the workflow builds each platform on its own runner; the root action runs in the caller's job",
  'runs-on': "the root action runs on the caller's runner",
  'upload-sarif': 'github/codeql-action upload-sarif is an action: the root action outputs the SARIF files instead',
  'aws-role-to-assume': "the caller of the root action logs in with the cloud provider's action before it",
  'aws-region': 'as aws-role-to-assume',
  'gcp-workload-identity-provider': 'as aws-role-to-assume',
  'gcp-service-account': 'as aws-role-to-assume',
  environment:
    "a job's environment is a key of the caller's own job, where the root action runs: the caller writes environment: there",
  'release-refs':
    "the workflow signs as golden-image's own workflow for the caller, so it decides which refs may sign; the root action signs as the caller's own workflow",
};
/** Shared inputs whose defaults differ on purpose. */
const DEFAULTS_DIFFER: Record<string, string> = {
  'transparency-log': "the workflow's empty default reads the variable GOLDEN_IMAGE_TRANSPARENCY_LOG, else true",
  'ct-log': "the workflow's empty default reads the variable GOLDEN_IMAGE_CT_LOG, else true",
  'install-tools': "the workflow's empty default reads the caller's variable GOLDEN_IMAGE_INSTALL_TOOLS, else true",
  'cache-from':
    "the workflow builds releases from no cache unless asked (docs/security.md); the root action, in the caller's own job, uses the GitHub Actions cache",
  'cache-to': 'as cache-from',
  image: "the root action is told where to publish; the workflow defaults to the caller's GHCR package",
  platforms:
    'the workflow builds each platform on a native runner (two by default); the root action runs in one job, where a second platform needs QEMU',
};

describe('the root action and the reusable workflow take the same configuration', () => {
  test('the configuration a real project needs exists on both, under the same names', () => {
    for (const name of [
      'target',
      'labels',
      'annotations',
      'cache-from',
      'cache-to',
      'provenance',
      'sbom',
      'allow-overwrite',
      'push',
      'tags',
      'rolling-tags',
      'db-repository',
      'java-db-repository',
    ]) {
      expect(`${name}: ${name in root.inputs ? 'root' : '-'} ${name in call.inputs ? 'workflow' : '-'}`).toBe(
        `${name}: root workflow`,
      );
    }
    expect(Object.keys(root.inputs)).toContain('build-secrets');
    expect(Object.keys(call.secrets)).toContain('build-secrets');
    expect(Object.keys(call.inputs)).not.toContain('immutable-tags');
  });

  test('every input is on both, or on one for a stated reason', () => {
    for (const name of Object.keys(root.inputs))
      if (!(name in call.inputs))
        expect(`${name}: ${ROOT_ONLY[name] ? 'explained' : 'missing'}`).toBe(`${name}: explained`);
    // The list of inputs still to be added to the workflow shrinks as they are added, and names only root inputs.
    for (const name of Object.keys(call.inputs))
      if (!(name in root.inputs))
        expect(`${name}: ${WORKFLOW_ONLY[name] ? 'explained' : 'missing'}`).toBe(`${name}: explained`);
  });

  test('shared inputs have the same default', () => {
    const shared = Object.keys(root.inputs).filter((name) => name in call.inputs && !DEFAULTS_DIFFER[name]);
    expect(shared.length).toBeGreaterThan(15);
    for (const name of shared) {
      const fromRoot = String(root.inputs[name]?.default ?? '');
      const fromWorkflow = String(call.inputs[name]?.default ?? '');
      expect(`${name}: ${fromWorkflow}`).toBe(`${name}: ${fromRoot}`);
    }
  });
});

/** Runs the workflow's names step with bash, as the runner does. */
function namesStep(env: Record<string, string>) {
  const script = workflow.jobs.plan?.steps.find((step) => step.id === 'names')?.run ?? '';
  const dir = tempDir('golden-image-names-');
  const output = join(dir, 'output');
  writeFileSync(output, '');
  const result = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], {
    env: { PATH: process.env.PATH, GITHUB_OUTPUT: output, ...ON_MAIN, ...env },
    encoding: 'utf8',
  });
  expect(result.stderr).toBe('');
  const outputs: Record<string, string> = parseOutputFile(readFileSync(output, 'utf8'));
  return { ...outputs, stdout: result.stdout, status: String(result.status) } as Record<string, string>;
}

const SHA = '0123456789abcdef0123456789abcdef01234567';
/** A push to the default branch, with an OIDC token (the code step found golden-image's commit) and no secrets. */
const ON_MAIN = {
  REF: 'refs/heads/main',
  DEFAULT_BRANCH: 'main',
  RELEASE_REFS: '',
  DEFAULT_REGISTRY: '',
  CODE_SHA: SHA,
  HAS_REGISTRY_AUTH: 'false',
  HAS_CREDENTIALS: 'false',
};
const bare = (entries: string[]) =>
  entries.map((entry) => (entry.includes('/') ? entry.slice(entry.lastIndexOf(':') + 1) : entry));

const CASES: { name: string; image?: string; tags?: string; rolling?: string; event?: string }[] = [
  { name: 'nothing given' },
  { name: 'nothing given, on a schedule', event: 'schedule' },
  {
    name: 'metadata-action output, two images',
    image: 'ghcr.io/o/app\ndocker.io/o/app',
    tags: ['ghcr.io/o/app', 'docker.io/o/app']
      .flatMap((i) =>
        ['main', 'sha-0123456', '1.2.3', '1.2', '1', 'pr-7', 'v2.0.0-rc.1', 'latest'].map((t) => `${i}:${t}`),
      )
      .join('\n'),
  },
  { name: 'only rolling tags given', tags: 'main,latest' },
  { name: 'bare tags and rolling-tags', tags: 'v1.2.3, edge', rolling: 'nightly-{date}\nstable' },
  {
    name: 'look-alikes stay rolling',
    tags: 'sha-abc\nsha-0123456-arm64\nv1.2\n01.2.3\n1.2.3.4\nSHA-0123456\nsha-0123456789',
  },
  {
    name: 'a port in the registry',
    image: 'localhost:5000/o/app',
    tags: 'localhost:5000/o/app:1.0.0\nlocalhost:5000/o/app:dev',
  },
];

describe('the workflow splits tags exactly as the root action does', () => {
  if (!toolAvailable('jq')) {
    test.skip('jq is not installed here', () => {});
    return;
  }
  test.each(CASES)('$name', ({ image = '', tags = '', rolling = '', event = 'push' }) => {
    const outputs = namesStep({
      IMAGE: image,
      TAGS: tags,
      ROLLING: rolling,
      PUSH: 'auto',
      EVENT: event,
      REPOSITORY: 'My-Org/App',
      SHA,
    });
    const images = (outputs.image ?? '').split('\n');
    expect(JSON.parse(outputs.images ?? '[]')).toEqual(images);
    const list = (raw: string) =>
      raw
        .split(/[\n,]/)
        .map((entry) => entry.trim())
        .filter(Boolean);
    const expected = releaseTags(
      { tags: list(tags), rollingTags: list(rolling) },
      images,
      { GITHUB_SHA: SHA, GITHUB_EVENT_NAME: event },
      new Date(),
    );
    // The workflow hands rolling templates to promote-tags unexpanded; the root action expands them itself.
    const date = new Date().toISOString().slice(0, 10).replaceAll('-', '');
    const rollingOut = bare(list(outputs.rolling ?? '')).map((tag) => tag.replaceAll('{date}', date));
    expect(new Set(bare(list(outputs.immutable ?? '')))).toEqual(new Set(expected.immutable));
    expect(new Set(rollingOut)).toEqual(new Set(expected.rolling));
    // And every tag the rule calls immutable is in the immutable list, nothing else.
    expect(splitTags(expected.immutable).rolling).toEqual([]);
  });

  test("the default image is the caller's GHCR package, lowercased", () => {
    expect(
      namesStep({ IMAGE: '', TAGS: '', ROLLING: '', PUSH: 'auto', EVENT: 'push', REPOSITORY: 'My-Org/App', SHA }).image,
    ).toBe('ghcr.io/my-org/app');
  });

  test.each([
    ['auto', 'push', 'true'],
    ['auto', 'schedule', 'true'],
    ['auto', 'pull_request', 'false'],
    ['auto', 'pull_request_target', 'false'],
    ['false', 'push', 'false'],
  ])('push: %s on %s -> %s, as the root action decides', (push, event, expected) => {
    const outputs = namesStep({
      IMAGE: 'ghcr.io/o/app',
      TAGS: '',
      ROLLING: '',
      PUSH: push,
      EVENT: event,
      REPOSITORY: 'o/app',
      SHA,
    });
    expect(outputs.push).toBe(expected);
  });
});

describe("the workflow's own rules: it signs as golden-image's workflow, so it decides where", () => {
  if (!toolAvailable('jq')) {
    test.skip('jq is not installed here', () => {});
    return;
  }
  const names = (env: Record<string, string>) =>
    namesStep({
      IMAGE: 'ghcr.io/o/app',
      TAGS: '',
      ROLLING: '',
      PUSH: 'auto',
      EVENT: 'push',
      REPOSITORY: 'o/app',
      SHA,
      ...env,
    });

  test('push: true on a pull request is refused: pull_request events never publish or sign', () => {
    const outputs = names({ PUSH: 'true', EVENT: 'pull_request', REF: 'refs/pull/7/merge' });
    expect(outputs.status).toBe('1');
    expect(outputs.stdout).toContain('::error title=push::push is true, but pull_request events never publish or sign');
  });

  test.each([
    ['a feature branch', { REF: 'refs/heads/feature/login' }, 'false', ''],
    ['a merge queue', { EVENT: 'merge_group', REF: 'refs/heads/gh-readonly-queue/main/pr-7-abc' }, 'false', ''],
    ['workflow_dispatch on a feature branch', { EVENT: 'workflow_dispatch', REF: 'refs/heads/feature/x' }, 'false', ''],
    ['workflow_dispatch on main', { EVENT: 'workflow_dispatch' }, 'true', 'latest'],
    ['a release tag', { REF: 'refs/tags/v1.2.3' }, 'true', ''],
    ['a widened release ref', { REF: 'refs/heads/release/2.x', RELEASE_REFS: 'refs/heads/release/*' }, 'true', ''],
    [
      'a schedule (its payload names no default branch)',
      { EVENT: 'schedule', DEFAULT_BRANCH: '' },
      'true',
      'latest nightly nightly-{date}',
    ],
  ])('%s: push %s, rolling "%s"', (_, env, push, rolling) => {
    const outputs = names(env);
    expect(outputs.push).toBe(push);
    expect((outputs.rolling ?? '').split('\n').filter(Boolean).join(' ')).toBe(rolling);
    if (push === 'false') expect(outputs['why-not']).toMatch(/is not a release ref \(release-refs: /);
  });

  test('without an OIDC token nothing publishes: auto builds and scans, true is refused naming the fix', () => {
    expect(names({ CODE_SHA: '' })).toMatchObject({
      push: 'false',
      'why-not': expect.stringContaining('grant id-token: write'),
    });
    const refused = names({ CODE_SHA: '', PUSH: 'true' });
    expect(refused.status).toBe('1');
    expect(refused.stdout).toContain('grant id-token: write in the calling job');
  });

  test.each([
    ['ghcr.io/o/app', {}, 'github'],
    ['registry.example.com/o/app', {}, 'none'],
    ['123456789012.dkr.ecr.eu-west-1.amazonaws.com/app', {}, 'none'],
    ['registry.example.com/o/app', { HAS_CREDENTIALS: 'true' }, 'credentials'],
    ['ghcr.io/o/app', { HAS_REGISTRY_AUTH: 'true', HAS_CREDENTIALS: 'true' }, 'registry-auth'],
  ])('login for %s with %j: %s (only GHCR gets the job token when nothing is given)', (image, env, login) => {
    expect(names({ IMAGE: image, ...env }).login).toBe(login);
  });

  test("the default image's registry is the caller's variable REGISTRY when set", () => {
    expect(names({ IMAGE: '', REPOSITORY: 'My-Org/App', DEFAULT_REGISTRY: 'registry.example.com' }).image).toBe(
      'registry.example.com/my-org/app',
    );
  });
});
