// The stand-ins run for real: small workflows through nektos/act 0.2.89 on the host (act-harness.ts), each job's
// assertions in its own steps, the failures the stand-ins must produce checked in act's output. Needs act
// (npm run tools:real) and the distribution registry (apt-get install docker-registry).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  githubClaims,
  type OidcIssuer,
  realTools,
  startBuildkit,
  startOidcIssuer,
  startRegistry,
  type TestRegistry,
  tempDir,
} from '@golden-image/testkit';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { standIns as catalogue } from '../stand-ins/catalogue.js';
import { type ActResult, actBinary, bundle, commit, git, gitRepo, runAct, type StandInBundle } from './act-harness.js';

/** `uses:` of the stand-in's pinned ref (the version's, where the catalogue pins several). */
function pinned(action: string, version?: string): string {
  const standIn = catalogue.find((entry) => action === entry.repository || action.startsWith(`${entry.repository}/`));
  const ref = standIn?.refs.find((candidate) => !version || candidate.version === version);
  if (!ref) throw new Error(`no stand-in for ${action} ${version ?? ''}`);
  return `${action}@${ref.sha}`;
}

const CHECKOUT = pinned('actions/checkout');
const UPLOAD = pinned('actions/upload-artifact');
const DOWNLOAD = pinned('actions/download-artifact');
const SETUP_NODE = pinned('actions/setup-node');
const LOGIN = pinned('docker/login-action');
const AWS = pinned('aws-actions/configure-aws-credentials');
const ECR = pinned('aws-actions/amazon-ecr-login');
const GCP = pinned('google-github-actions/auth');
const SARIF = pinned('github/codeql-action/upload-sarif');
const META = pinned('docker/metadata-action');
const QEMU = pinned('docker/setup-qemu-action');
const BUILDX = pinned('docker/setup-buildx-action', 'v3.11.1');

const available = existsSync(actBinary);
const describeAct = available ? describe : describe.skip;

/** The job log lines that say why a run failed, for a readable assertion message. */
function failures(result: ActResult): string {
  const lines = result.output.split('\n');
  const failed = lines.filter((line) => /❌|::error::|Failure -|Error:/.test(line));
  return [`act exited ${result.code}`, ...failed.slice(-25)].join('\n');
}

function expectSuccess(result: ActResult): void {
  if (result.code !== 0) throw new Error(failures(result));
}

let standIns: StandInBundle;
beforeAll(async () => {
  if (available) standIns = await bundle();
});

describeAct('stand-ins run by act', () => {
  test('actions/checkout: a local repository by SHA, tag, branch and default branch into a path; the run repository; refusals', async () => {
    const source = join(tempDir('gi-src-'), 'lib');
    const first = (await gitRepo(source, { 'a.txt': 'one\n' })).sha;
    const tagged = await commit(source, { 'a.txt': 'two\n' }, 'v1.0.0');
    await git(source, ['checkout', '-q', '-b', 'feature']);
    const feature = await commit(source, { 'a.txt': 'three\n' });
    await git(source, ['checkout', '-q', 'main']);
    const workflow = `
name: checkout
on: push
jobs:
  checkout:
    runs-on: ubuntu-24.04
    steps:
      - id: sha
        uses: ${CHECKOUT}
        with: {repository: acme/lib, ref: ${first}, path: by-sha}
      - run: test "$(cat by-sha/a.txt)" = one && test "$(git -C by-sha rev-parse HEAD)" = ${first} && test "\${{ steps.sha.outputs.commit }}" = ${first}
      - id: tag
        uses: ${CHECKOUT}
        with: {repository: acme/lib, ref: v1.0.0, path: by-tag, persist-credentials: false}
      - run: test "$(cat by-tag/a.txt)" = two && test "\${{ steps.tag.outputs.commit }}" = ${tagged} && test "$(git -C by-tag rev-list --count HEAD)" = 1
      - id: branch
        uses: ${CHECKOUT}
        with: {repository: acme/lib, ref: feature, path: by-branch, fetch-depth: 0}
      - run: test "$(git -C by-branch rev-parse --abbrev-ref HEAD)" = feature && test "$(git -C by-branch rev-parse HEAD)" = ${feature} && git -C by-branch rev-parse -q --verify refs/tags/v1.0.0
      - id: default
        uses: ${CHECKOUT}
        with: {repository: acme/lib, path: by-default}
      - run: test "\${{ steps.default.outputs.ref }}" = refs/heads/main && test "$(cat by-default/a.txt)" = two
      - id: self
        uses: ${CHECKOUT}
        with: {path: self}
      - run: test "$(git -C self rev-parse HEAD)" = "$GITHUB_SHA" && test -f self/.github/workflows/test.yml
      - id: unknown
        continue-on-error: true
        uses: ${CHECKOUT}
        with: {repository: acme/nope, path: nope}
      - id: submodules
        continue-on-error: true
        uses: ${CHECKOUT}
        with: {repository: acme/lib, path: sub, submodules: true}
      - run: test "\${{ steps.unknown.outcome }}" = failure && test "\${{ steps.submodules.outcome }}" = failure
      - id: node
        uses: ${SETUP_NODE}
        with: {node-version: '20', registry-url: 'http://127.0.0.1:4873', scope: acme}
      - run: |
          set -e
          test "$NPM_CONFIG_USERCONFIG" = "$RUNNER_TEMP/.npmrc" && test "$NODE_AUTH_TOKEN" = XXXXX-XXXXX-XXXXX-XXXXX
          printf '%s\\n' '//127.0.0.1:4873/:_authToken=\${NODE_AUTH_TOKEN}' '@acme:registry=http://127.0.0.1:4873/' 'always-auth=false' > "$RUNNER_TEMP/want"
          printf '\\n' >> "$RUNNER_TEMP/.npmrc"; diff "$RUNNER_TEMP/want" "$RUNNER_TEMP/.npmrc"
          case "\${{ steps.node.outputs.node-version }}" in v20.*) ;; *) exit 1 ;; esac
      - id: meta
        uses: ${META}
        with:
          images: |
            ghcr.io/My-Org/app
            docker.io/my-org/app
          tags: |
            type=ref,event=branch
            type=sha
            type=semver,pattern={{version}}
            type=semver,pattern={{major}}.{{minor}}
        env:
          DOCKER_METADATA_ANNOTATIONS_LEVELS: manifest,index
      - env:
          TAGS: \${{ steps.meta.outputs.tags }}
          JSON: \${{ steps.meta.outputs.json }}
          ANNOTATIONS: \${{ steps.meta.outputs.annotations }}
        run: |
          set -e
          short="\${GITHUB_SHA:0:7}"
          test "$TAGS" = "$(printf '%s\\n' ghcr.io/my-org/app:main "ghcr.io/my-org/app:sha-$short" docker.io/my-org/app:main "docker.io/my-org/app:sha-$short")"
          test "\${{ steps.meta.outputs.version }}" = main
          test "$(jq -r '.labels["org.opencontainers.image.revision"]' <<< "$JSON")" = "$GITHUB_SHA"
          test "$(grep -c '^index:org.opencontainers.image' <<< "$ANNOTATIONS")" = 8
      - id: qemu
        uses: ${QEMU}
      - run: grep -q linux/amd64 <<< "\${{ steps.qemu.outputs.platforms }}"
`;
    const result = await runAct(standIns, { workflow, config: { repositories: { 'acme/lib': source } } });
    expectSuccess(result);
    expect(result.output).toContain("fatal: repository 'https://github.com/acme/nope/' not found");
    expect(result.output).toContain("input 'submodules': set to a value ('true') other than its default");
  });

  test('upload-artifact then download-artifact in the next job: by name, by pattern with and without merge-multiple, hidden files, 409, overwrite', async () => {
    const workflow = `
name: artifacts
on: push
jobs:
  up:
    runs-on: ubuntu-24.04
    steps:
      - run: |
          mkdir -p amd64/layout/blobs arm64/layout evidence
          echo amd > amd64/layout/blobs/x && echo secret > amd64/layout/.hidden && echo d1 > amd64/digest
          echo arm > arm64/layout/y && echo d2 > arm64/digest
          echo first > evidence/e.txt
      - id: amd
        uses: ${UPLOAD}
        with: {name: layout-amd64, path: amd64/, compression-level: 0, retention-days: 1}
      - uses: ${UPLOAD}
        with: {name: layout-arm64, path: "arm64/layout\\narm64/digest"}
      - id: again
        continue-on-error: true
        uses: ${UPLOAD}
        with: {name: layout-amd64, path: amd64/}
      - run: test "\${{ steps.again.outcome }}" = failure && test -n "\${{ steps.amd.outputs.artifact-digest }}" && test "\${{ steps.amd.outputs.artifact-id }}" = 1
      - uses: ${UPLOAD}
        with: {name: evidence, path: evidence}
      - run: rm evidence/e.txt && echo second > evidence/f.txt
      - uses: ${UPLOAD}
        with: {name: evidence, path: evidence, overwrite: true}
  down:
    needs: up
    runs-on: ubuntu-24.04
    steps:
      - id: one
        uses: ${DOWNLOAD}
        with: {name: layout-amd64, path: one}
      - run: test -f one/layout/blobs/x && test -f one/digest && test ! -e one/layout/.hidden && test "\${{ steps.one.outputs.download-path }}" = "$PWD/one"
      - uses: ${DOWNLOAD}
        with: {pattern: layout-*, path: each}
      - run: test "$(cat each/layout-amd64/digest)" = d1 && test "$(cat each/layout-arm64/digest)" = d2 && test -f each/layout-arm64/layout/y
      - uses: ${DOWNLOAD}
        with: {pattern: layout-arm*, path: merged, merge-multiple: true}
      - run: test -f merged/layout/y && test -f merged/digest && test ! -e merged/layout-arm64
      - uses: ${DOWNLOAD}
        with: {name: evidence, path: ev}
      - run: test "$(ls ev)" = f.txt && test "$(cat ev/f.txt)" = second
      - id: missing
        continue-on-error: true
        uses: ${DOWNLOAD}
        with: {name: nothing-by-this-name}
      - id: other-run
        continue-on-error: true
        uses: ${DOWNLOAD}
        with: {name: evidence, run-id: '999'}
      - run: test "\${{ steps.missing.outcome }}" = failure && test "\${{ steps.other-run.outcome }}" = failure
`;
    const result = await runAct(standIns, { workflow });
    expectSuccess(result);
    expect(result.output).toContain(
      'Failed to CreateArtifact: Received non-retryable error: Failed request: (409) Conflict: an artifact with this name already exists on the workflow run',
    );
    expect(result.output).toContain(
      'Unable to download artifact(s): Artifact not found for name: nothing-by-this-name',
    );
    expect(result.output).toContain("input 'run-id': set to a value ('999') other than its default");
  });

  test('upload-sarif copies the SARIF to sarifDir; a second upload of the category in the job and invalid SARIF fail', async () => {
    const sarif = JSON.stringify({
      version: '2.1.0',
      runs: [{ tool: { driver: { name: 'Trivy' } }, results: [] }],
    });
    const workflow = `
name: sarif
on: push
jobs:
  scan:
    runs-on: ubuntu-24.04
    steps:
      - run: |
          mkdir -p out && printf '%s' '${sarif}' > out/scan.sarif
          printf '%s' '{"version":"2.0.0","runs":[{"results":[]}]}' > out/old.json
      - id: up
        uses: ${SARIF}
        with: {sarif_file: out/scan.sarif, category: golden-image/scan-repo}
      - id: twice
        continue-on-error: true
        uses: ${SARIF}
        with: {sarif_file: out/scan.sarif, category: golden-image/scan-repo}
      - id: invalid
        continue-on-error: true
        uses: ${SARIF}
        with: {sarif_file: out/old.json, category: golden-image/other}
      - run: test -n "\${{ steps.up.outputs.sarif-id }}" && test "\${{ steps.twice.outcome }}" = failure && test "\${{ steps.invalid.outcome }}" = failure
`;
    const result = await runAct(standIns, { workflow });
    expectSuccess(result);
    expect(result.output).toContain(
      'Aborting upload: only one run of the codeql/analyze or codeql/upload-sarif actions',
    );
    const uploaded = JSON.parse(readFileSync(join(result.root, 'sarif', 'golden-image__scan-repo.sarif'), 'utf8'));
    expect(uploaded.runs[0].automationDetails).toEqual({ id: 'golden-image/scan-repo/' });
    expect(existsSync(join(result.root, 'sarif', 'golden-image__other.sarif'))).toBe(false);
  });

  test('docker/metadata-action on a tag push: semver tags, latest, labels', async () => {
    const workflow = `
name: meta
on: push
jobs:
  meta:
    runs-on: ubuntu-24.04
    steps:
      - id: meta
        uses: ${META}
        with:
          images: ghcr.io/my-org/app
          tags: |
            type=ref,event=branch
            type=sha
            type=semver,pattern={{version}}
            type=semver,pattern={{major}}.{{minor}}
      - env:
          TAGS: \${{ steps.meta.outputs.tags }}
        run: |
          test "$TAGS" = "$(printf '%s\\n' ghcr.io/my-org/app:1.2.3 ghcr.io/my-org/app:1.2 "ghcr.io/my-org/app:sha-\${GITHUB_SHA:0:7}" ghcr.io/my-org/app:latest)"
          test "\${{ steps.meta.outputs.version }}" = 1.2.3
          grep -qx 'org.opencontainers.image.version=1.2.3' <<< "\${{ steps.meta.outputs.labels }}"
      - id: flavor
        continue-on-error: true
        uses: ${META}
        with: {images: ghcr.io/my-org/app, tags: 'type=schedule', flavor: 'latest=false'}
      - run: test "\${{ steps.flavor.outcome }}" = failure
`;
    const result = await runAct(standIns, { workflow, eventPayload: { ref: 'refs/tags/v1.2.3' } });
    expectSuccess(result);
    expect(result.output).toContain("input 'flavor': set to a value ('latest=false') other than its default");
  });

  const buildTools = available ? realTools('buildkitd', 'docker-buildx') : undefined;
  (buildTools ? test : test.skip)(
    'docker/setup-buildx-action: a remote-driver builder on the BuildKit daemon, removed in post',
    async () => {
      const tools = buildTools as { buildkitd: string; 'docker-buildx': string };
      const buildkit = await startBuildkit({ buildkitd: tools.buildkitd, buildx: tools['docker-buildx'] });
      try {
        const workflow = `
name: buildx
on: push
jobs:
  buildx:
    runs-on: ubuntu-24.04
    steps:
      - id: buildx
        uses: ${BUILDX}
      - run: |
          test "\${{ steps.buildx.outputs.driver }}" = remote
          docker buildx ls | grep -q "\${{ steps.buildx.outputs.name }}"
          grep -q linux/amd64 <<< "\${{ steps.buildx.outputs.platforms }}"
      - id: driver
        continue-on-error: true
        uses: ${BUILDX}
        with: {driver: kubernetes}
      - run: test "\${{ steps.driver.outcome }}" = failure
`;
        const result = await runAct(standIns, {
          workflow,
          config: { buildkitAddress: buildkit.address, buildxPlugin: tools['docker-buildx'] },
        });
        expectSuccess(result);
        expect(result.output).toMatch(/builder-[0-9a-f-]+ removed/);
      } finally {
        await buildkit.stop();
      }
    },
  );

  describe('registry logins', () => {
    const ecrHost = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
    const garHost = 'europe-west1-docker.pkg.dev';
    const provider = 'projects/123456789/locations/global/workloadIdentityPools/github/providers/github';
    const serviceAccount = 'pusher@my-project.iam.gserviceaccount.com';
    let plain: TestRegistry;
    let ecr: TestRegistry;
    let gar: TestRegistry;
    let issuer: OidcIssuer;
    beforeAll(async () => {
      [plain, ecr, gar, issuer] = await Promise.all([
        startRegistry({ auth: { username: 'ci', password: 's3cret' } }),
        startRegistry({ auth: { username: 'AWS', password: 'ecr-token-of-the-day' } }),
        startRegistry({ auth: { username: 'oauth2accesstoken', password: 'ya29.gar-token' } }),
        startOidcIssuer(),
      ]);
    });
    afterAll(async () => {
      await Promise.all([plain?.stop(), ecr?.stop(), gar?.stop(), issuer?.close()]);
    });

    test('docker/login-action (basic auth, registry-auth, logout in post), the ECR path with a GitHub token pair and with the AWS stand-ins, Google auth', async () => {
      const config = (host: string) => ({ auths: `.auths["${host}"].auth` });
      const dockerConfig = tempDir('golden-image-docker-config-');
      const workflow = `
name: logins
on: push
jobs:
  login:
    runs-on: ubuntu-24.04
    # Each job has a HOME of its own that goes with the job: the config is kept where the test reads it afterwards.
    env:
      DOCKER_CONFIG: ${dockerConfig}
    steps:
      - uses: ${LOGIN}
        with: {registry: ${plain.host}, username: ci, password: s3cret}
      - run: test "$(jq -r '${config(plain.host).auths}' "$DOCKER_CONFIG/config.json")" = "$(printf ci:s3cret | base64)"
      - id: bad
        continue-on-error: true
        uses: ${LOGIN}
        with: {registry: ${plain.host}, username: ci, password: wrong}
      - id: unknown
        continue-on-error: true
        uses: ${LOGIN}
        with: {registry: ghcr.io, username: octocat, password: ghs_0123456789}
      - uses: ${LOGIN}
        with:
          registry-auth: |
            - registry: ${plain.host}
              username: ci
              password: s3cret
            - username: ci
              password: s3cret
      - run: jq -e '.auths["https://index.docker.io/v1/"].auth' "$DOCKER_CONFIG/config.json"
      - id: github-pair
        continue-on-error: true
        uses: ${LOGIN}
        with: {registry: ${ecrHost}, username: octocat, password: ghs_0123456789}
      - id: no-oidc
        continue-on-error: true
        uses: ${AWS}
        env: {ACTIONS_ID_TOKEN_REQUEST_TOKEN: ''}
        with: {role-to-assume: 'arn:aws:iam::123456789012:role/github-push', aws-region: eu-west-1}
      - run: test "\${{ steps.bad.outcome }}" = failure && test "\${{ steps.unknown.outcome }}" = failure && test "\${{ steps.github-pair.outcome }}" = failure && test "\${{ steps.no-oidc.outcome }}" = failure
      - id: aws
        uses: ${AWS}
        with: {role-to-assume: 'arn:aws:iam::123456789012:role/github-push', aws-region: eu-west-1}
      - run: test "\${{ steps.aws.outputs.aws-account-id }}" = 123456789012 && test -n "$AWS_SESSION_TOKEN" && test "$AWS_REGION" = eu-west-1
      - id: ecr
        uses: ${ECR}
      - run: test "\${{ steps.ecr.outputs.registry }}" = ${ecrHost} && test "$(jq -r '${config(ecrHost).auths}' "$DOCKER_CONFIG/config.json")" = "$(printf AWS:ecr-token-of-the-day | base64)"
      - uses: ${LOGIN}
        with: {registry: ${ecrHost}}
      - id: gcp
        uses: ${GCP}
        with: {token_format: access_token, workload_identity_provider: '${provider}', service_account: '${serviceAccount}'}
      - run: test -f "$GOOGLE_APPLICATION_CREDENTIALS" && test "\${{ steps.gcp.outputs.project_id }}" = my-project
      - uses: ${LOGIN}
        with: {registry: ${garHost}, username: oauth2accesstoken, password: '\${{ steps.gcp.outputs.access_token }}'}
      - run: test "$(jq -r '.auths | keys | length' "$DOCKER_CONFIG/config.json")" = 4
`;
      const result = await runAct(standIns, {
        workflow,
        env: issuer.actionsEnv(githubClaims({ repository: 'acme/app' })),
        config: {
          registries: {
            [plain.host]: { address: `127.0.0.1:${plain.port}`, tls: false },
            'docker.io': { address: `127.0.0.1:${plain.port}`, tls: false },
            [ecrHost]: {
              address: `127.0.0.1:${ecr.port}`,
              tls: false,
              username: 'AWS',
              password: 'ecr-token-of-the-day',
            },
            [garHost]: {
              address: `127.0.0.1:${gar.port}`,
              tls: false,
              username: 'oauth2accesstoken',
              password: 'ya29.gar-token',
            },
          },
          aws: { accountId: '123456789012', region: 'eu-west-1' },
          gcp: { workloadIdentityProvider: provider, serviceAccount },
        },
      });
      expectSuccess(result);
      expect(result.output).toContain(
        `Error response from daemon: login attempt to http://${plain.host}/v2/ failed with status: 401 Unauthorized`,
      );
      expect(result.output).toContain(
        'Error response from daemon: Get "https://ghcr.io/v2/": dial tcp: lookup ghcr.io: no such host',
      );
      expect(result.output).toContain('The security token included in the request is invalid.');
      expect(result.output).toContain(
        'Credentials could not be loaded, please check your action inputs: Could not load credentials from any providers',
      );
      expect(issuer.tokenRequests).toEqual(
        expect.arrayContaining(['sts.amazonaws.com', `https://iam.googleapis.com/${provider}`]),
      );
      // The post steps logged out of every registry and removed the Google credentials file.
      const after = JSON.parse(readFileSync(join(dockerConfig, 'config.json'), 'utf8'));
      expect(after.auths).toEqual({});
    });
  });
});
