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
  'tls-verify': 'for local test registries; the workflow publishes to real ones',
  username: 'a secret in the workflow: registry-username',
  password: 'a secret in the workflow: registry-password',
  'build-secrets': 'a secret in the workflow, of the same name',
  'install-tools': 'the workflow always installs the pinned tools',
  ssh: "the workflow's build jobs hold no SSH agent or key of the caller; a key would be a secret of the caller",
  'fulcio-url':
    'the workflow signs keylessly with the public-good instance; a private one is for the root action and the actions',
  'rekor-url': 'as fulcio-url',
  'transparency-log': 'as fulcio-url',
  'ct-log': 'as fulcio-url',
  'certificate-chain': 'as fulcio-url',
  'trusted-root': 'as fulcio-url',
};
/**
 * Inputs of the root action that the reusable workflow takes too, under the same name and default, but that are
 * not in docker-publish.yml yet: added to the workflow by the lead. An input that the workflow has now must leave
 * this list (the test below says so), and then the checks of names and defaults apply to it.
 */
const ADDED_TO_WORKFLOW_BY_LEAD: string[] = [
  'secret-files', // added to the workflow by the lead
  'build-contexts', // added to the workflow by the lead
  'no-cache', // added to the workflow by the lead
  'pull', // added to the workflow by the lead
  'trivyignores', // added to the workflow by the lead
  'skip-dirs', // added to the workflow by the lead
  'scanners', // added to the workflow by the lead
  'scan-repo-path', // added to the workflow by the lead
  'block-uncalled', // added to the workflow by the lead
  'osv-offline-db', // added to the workflow by the lead
  'attest', // added to the workflow by the lead
];
/** Inputs of the workflow only, with why the root action has none. */
const WORKFLOW_ONLY: Record<string, string> = {
  runners: "the workflow builds each platform on its own runner; the root action runs in the caller's job",
  'runs-on': "the root action runs on the caller's runner",
  'upload-sarif': 'github/codeql-action upload-sarif is an action: the root action outputs the SARIF files instead',
  'aws-role-to-assume': "the caller of the root action logs in with the cloud provider's action before it",
  'aws-region': 'as aws-role-to-assume',
  'gcp-workload-identity-provider': 'as aws-role-to-assume',
  'gcp-service-account': 'as aws-role-to-assume',
  'golden-image-repository': 'the workflow checks the actions out; the root action is them',
  'golden-image-ref': 'as golden-image-repository',
};
/** Shared inputs whose defaults differ on purpose. */
const DEFAULTS_DIFFER: Record<string, string> = {
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
        expect(
          `${name}: ${ROOT_ONLY[name] ? 'explained' : ADDED_TO_WORKFLOW_BY_LEAD.includes(name) ? 'explained' : 'missing'}`,
        ).toBe(`${name}: explained`);
    // The list of inputs still to be added to the workflow shrinks as they are added, and names only root inputs.
    for (const name of ADDED_TO_WORKFLOW_BY_LEAD) {
      expect(`${name}: ${name in root.inputs ? 'on the root action' : 'not an input of the root action'}`).toBe(
        `${name}: on the root action`,
      );
      expect(
        `${name}: ${name in call.inputs ? 'on the workflow now: remove it from ADDED_TO_WORKFLOW_BY_LEAD' : 'to add'}`,
      ).toBe(`${name}: to add`);
    }
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
  const script = workflow.jobs.image?.steps.find((step) => step.id === 'names')?.run ?? '';
  const dir = tempDir('golden-image-names-');
  const output = join(dir, 'output');
  writeFileSync(output, '');
  const result = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], {
    env: { PATH: process.env.PATH, GITHUB_OUTPUT: output, ...env },
    encoding: 'utf8',
  });
  expect(result.stderr).toBe('');
  return parseOutputFile(readFileSync(output, 'utf8'));
}

const SHA = '0123456789abcdef0123456789abcdef01234567';
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
    ['true', 'pull_request', 'true'],
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
