// Workflow-command injection through the log: the runner executes any stdout line that starts with "::" (::error,
// ::warning, ::add-mask::, ::stop-commands::…). A value the action prints raw, holding a newline, can forge such
// a line. Each case runs the bundle as the runner does and looks for the forged line.
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OCI_INDEX, OCI_MANIFEST, sha256Digest } from '@golden-image/oci';
import { buildLayout, runBundledAction, startRegistry, type TestRegistry, tempDir } from '@golden-image/testkit';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { cosignKeyPair, doublesEnv, SAMPLE_IMAGE } from './harness.js';

const FORGED = '::warning title=Injected::forged by a hostile value';

let registry: TestRegistry;
let env: NodeJS.ProcessEnv;
let layout: { path: string; digest: string };
let KEY: { key: string; pub: string };
beforeAll(async () => {
  registry = await startRegistry();
  env = doublesEnv(tempDir('golden-image-commands-logs-'));
  KEY = cosignKeyPair(env, 'commands');
  const dir = tempDir('golden-image-commands-layout-');
  layout = { path: dir, digest: (await buildLayout(dir, { platforms: ['linux/amd64'], attestations: false })).digest };
});
afterAll(async () => {
  await registry?.stop();
});

async function step(action: string, inputs: Record<string, string>, extra: NodeJS.ProcessEnv = {}) {
  const dir = tempDir(`golden-image-commands-${action}-`);
  writeFileSync(join(dir, 'output'), '');
  writeFileSync(join(dir, 'summary'), '');
  return runBundledAction(action, inputs, {
    env: {
      ...env,
      ...extra,
      GITHUB_OUTPUT: join(dir, 'output'),
      GITHUB_STEP_SUMMARY: join(dir, 'summary'),
      RUNNER_TEMP: dir,
    },
  });
}

/** A workspace holding a copy of the sample image under a directory whose name carries the forged command. */
function hostileWorkspace(): { workspace: string; dir: string } {
  const workspace = tempDir('golden-image-commands-ws-');
  const dir = join(workspace, `src\n${FORGED}`);
  cpSync(SAMPLE_IMAGE, dir, { recursive: true });
  return { workspace, dir };
}

/** A one-platform layout whose index names the platform os with a newline and the forged command. */
function hostilePlatformLayout(): { path: string; digest: string } {
  const dir = tempDir('golden-image-commands-platform-');
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const put = (mediaType: string, value: unknown) => {
    const bytes = Buffer.from(JSON.stringify(value));
    const digest = sha256Digest(bytes);
    writeFileSync(join(dir, 'blobs', 'sha256', digest.slice(7)), bytes);
    return { mediaType, digest, size: bytes.length };
  };
  const config = put('application/vnd.oci.image.config.v1+json', {
    os: 'linux',
    architecture: 'amd64',
    rootfs: { type: 'layers', diff_ids: [] },
  });
  const manifest = put(OCI_MANIFEST, { schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [] });
  const index = put(OCI_INDEX, {
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: [{ ...manifest, platform: { os: `linux\n${FORGED}`, architecture: 'amd64' } }],
  });
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [index] }));
  return { path: dir, digest: index.digest };
}

const forgedLines = (log: string) => log.split('\n').filter((line) => line.startsWith('::warning title=Injected'));

describe('no printed value can forge a workflow command', () => {
  test('push-layout: tags with a forged command line are refused; the error is one escaped ::error', async () => {
    const result = await step('push-layout', {
      'layout-path': layout.path,
      digest: layout.digest,
      image: `${registry.host}/commands/app`,
      tags: `sha-1\n${FORGED}`,
      'tls-verify': 'false',
    });
    expect(result.exitCode).toBe(1);
    expect(forgedLines(result.log)).toEqual([]);
  });

  test('scan-layout: a sarif-file path holding the forged line is refused, the error escaped', async () => {
    const workspace = tempDir('golden-image-commands-sarif-');
    const result = await step(
      'scan-layout',
      { 'layout-path': layout.path, digest: layout.digest, 'install-tools': 'false', 'sarif-file': `a\n${FORGED}` },
      { GITHUB_WORKSPACE: workspace },
    );
    expect(result.exitCode).toBe(1);
    expect(result.log).toContain('Input "sarif-file"');
    expect(forgedLines(result.log)).toEqual([]);
  });

  // Regression test for a fixed bug (packages/oci/src/layout.ts formatPlatform/platformManifest, printed by
  // actions/scan-layout/main.ts:82-84 and :112 through ctx.info): the platform os/architecture/variant of a
  // layout's index are printed raw, so a layout whose index says os "linux\n::warning …" forges workflow
  // commands (annotations, ::add-mask::, ::stop-commands::) in the runner. Fixed by: verifyLayout refuses
  // platform fields outside [a-z0-9._-]+ (the values OCI and Go use), naming the descriptor.
  test('scan-layout: a layout whose platform os carries the forged line is refused', async () => {
    const hostile = hostilePlatformLayout();
    const result = await step('scan-layout', {
      'layout-path': hostile.path,
      digest: hostile.digest,
      'install-tools': 'false',
    });
    expect(forgedLines(result.log)).toEqual([]);
  });

  // Regression test for a fixed bug (actions/scan-repo/main.ts: "path" is optionalString(); printed raw by
  // packages/scanners/src/osv-run.ts:22 and by the runner's "[command]…" echo of the trivy/osv-scanner
  // argv): a path with a newline forges workflow commands. Fixed by: refuse control characters in scan-repo's
  // path, osv-config, sarif-file, artifact-name, skip-dirs and trivyignores (controlProblem from
  // packages/build, moved to kit), as build-oci already does.
  test('scan-repo: a path whose directory name carries the forged line is refused', async () => {
    const { workspace, dir } = hostileWorkspace();
    const result = await step(
      'scan-repo',
      { path: dir, 'install-tools': 'false', sbom: 'false' },
      { GITHUB_WORKSPACE: workspace, OSV_DOUBLE_NO_PACKAGES: '1' },
    );
    expect(forgedLines(result.log)).toEqual([]);
  });

  test('sign-digest: a kyverno-policy-file path holding the forged line is refused, the error escaped', async () => {
    const dir = tempDir('golden-image-commands-policy-');
    const result = await step(
      'sign-digest',
      {
        image: `${registry.host}/commands/app`,
        digest: layout.digest,
        'install-tools': 'false',
        'tls-verify': 'false',
        key: KEY.key,
        'kyverno-policy-file': join(dir, `p\n${FORGED}.yaml`),
      },
      { COSIGN_PASSWORD: 'commands' },
    );
    expect(result.exitCode).toBe(1);
    expect(result.log).toContain('Input "kyverno-policy-file"');
    expect(forgedLines(result.log)).toEqual([]);
  });

  // Regression test for a fixed bug (actions/promote-tags/main.ts: certificate-identity,
  // certificate-oidc-issuer and key are optionalString()): unlike sign-digest, promote-tags takes an identity
  // with a newline and hands it to cosign verify, whose argv the runner echoes raw ("[command]…cosign verify
  // --certificate-identity …"), forging a workflow command. Fixed by: the checks sign-digest uses (no
  // whitespace in the identity, an https:// issuer) and no whitespace or control characters in key, shared from
  // packages/signing.
  test('promote-tags: a certificate-identity holding the forged line is refused', async () => {
    const image = `${registry.host}/commands/promote`;
    const pushed = await step('push-layout', {
      'layout-path': layout.path,
      digest: layout.digest,
      image,
      tags: 'sha-c0mmand',
      'tls-verify': 'false',
    });
    expect(pushed.exitCode).toBe(0);
    const result = await step('promote-tags', {
      image,
      digest: layout.digest,
      tags: 'latest',
      engine: 'skopeo',
      'tls-verify': 'false',
      'install-tools': 'false',
      'certificate-identity': `https://github.com/o/r/.github/workflows/x.yml@refs/heads/main\n${FORGED}`,
      'certificate-oidc-issuer': 'https://token.actions.githubusercontent.com',
    });
    expect(result.exitCode).toBe(1);
    expect(forgedLines(result.log)).toEqual([]);
  });

  // Regression test for a fixed bug (actions/sign-digest/main.ts: key is optionalString(); a KMS URI is used as
  // the verify key): a key with a newline reaches the "[command]" echo of cosign sign/verify and the "Signed …;
  // verify with: …" info line raw. Fixed by: refuse whitespace and control characters in key (sign-digest,
  // promote-tags, chain).
  test('sign-digest: a KMS key URI holding the forged line is refused', async () => {
    const result = await step('sign-digest', {
      image: `${registry.host}/commands/app`,
      digest: layout.digest,
      'install-tools': 'false',
      'tls-verify': 'false',
      key: `awskms://alias/x\n${FORGED}`,
    });
    expect(forgedLines(result.log)).toEqual([]);
  });
});
