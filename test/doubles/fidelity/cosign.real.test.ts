// The cosign double against the real cosign v2.6 and v3.1: one scenario table, run step by step through both (the
// real one against a real registry, the double against its state directory), comparing exit codes, which flags are
// accepted or refused, the error each prints and the shape of what verify prints. A difference fails the tier.
import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildLayout,
  githubClaims,
  type OidcIssuer,
  realTool,
  startFulcio,
  startOidcIssuer,
  startRegistry,
  type TestFulcio,
  type TestRegistry,
  tempDir,
} from '@golden-image/testkit';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { DOUBLES_BIN } from '../lib/harness.js';

/** Every step compares the exit code, cosign's error line and what it prints on stdout. */
interface Step {
  name: string;
  args: string[];
  only?: 'v2' | 'v3';
  /** Needs the real Fulcio and the test OIDC issuer (both backends get the same GitHub job token). */
  keyless?: boolean;
}

/**
 * {IMG} the repository, {D} the index digest, {KEY}/{PUB} the signer's key pair, {KEY2}/{PUB2} another, {TR} an empty
 * trusted root. Keyless: {IMG2}@{D2} and {IMG3}@{D3} other images, {FULCIO} its URL, {CHAIN} its chain, {TRF} a trusted
 * root made from it, {ID} the reusable workflow's identity, {ISS} the issuer; the job is octo-org/app's.
 */
const STEPS: Step[] = [
  { name: 'version', args: ['version'] },
  { name: 'unknown flag refused', args: ['verify', '--nope', '{IMG}@{D}'] },
  {
    name: 'v2: a bool flag given as "--flag false" makes "false" an image (looked up on Docker Hub)',
    args: ['sign', '--yes', '--key', '{KEY}', '--tlog-upload', 'false', '{IMG}@{D}'],
    only: 'v2',
  },
  {
    // v3 would fetch its signing config from the public TUF repository first: told not to, it fails like v2.
    name: 'v3: a bool flag given as "--flag false" makes "false" an image (looked up on Docker Hub)',
    args: [
      'sign',
      '--yes',
      '--key',
      '{KEY}',
      '--use-signing-config=false',
      '--new-bundle-format=false',
      '--tlog-upload',
      'false',
      '{IMG}@{D}',
    ],
    only: 'v3',
  },
  {
    name: 'verify of an unsigned digest: exit 10',
    args: ['verify', '--key', '{PUB}', '--insecure-ignore-tlog', '{IMG}@{D}'],
  },
  {
    name: 'v3: --tlog-upload=false with the default signing config is refused',
    args: ['sign', '--yes', '--key', '{KEY}', '--tlog-upload=false', '{IMG}@{D}'],
    only: 'v3',
  },
  {
    name: 'v3: a legacy signature with the default signing config is refused',
    args: ['sign', '--yes', '--key', '{KEY}', '--new-bundle-format=false', '{IMG}@{D}'],
    only: 'v3',
  },
  {
    name: 'v2: sign legacy, recursive',
    args: ['sign', '--yes', '--recursive', '--key', '{KEY}', '--tlog-upload=false', '{IMG}@{D}'],
    only: 'v2',
  },
  {
    name: 'v3: sign legacy, recursive',
    args: [
      'sign',
      '--yes',
      '--recursive',
      '--key',
      '{KEY}',
      '--tlog-upload=false',
      '--new-bundle-format=false',
      '--use-signing-config=false',
      '{IMG}@{D}',
    ],
    only: 'v3',
  },
  {
    name: 'verify the legacy signature with the key',
    args: ['verify', '--key', '{PUB}', '--insecure-ignore-tlog', '{IMG}@{D}'],
  },
  {
    name: 'verify with another key: exit 12',
    args: ['verify', '--key', '{PUB2}', '--insecure-ignore-tlog', '{IMG}@{D}'],
  },
  {
    name: 'v2: another signer attaches a Sigstore bundle',
    args: ['sign', '--yes', '--key', '{KEY2}', '--tlog-upload=false', '--new-bundle-format', '{IMG}@{D}'],
    only: 'v2',
  },
  {
    name: 'v3: another signer attaches a Sigstore bundle',
    args: ['sign', '--yes', '--key', '{KEY2}', '--tlog-upload=false', '--use-signing-config=false', '{IMG}@{D}'],
    only: 'v3',
  },
  {
    name: 'once a bundle is attached, the legacy signature is not looked at (v2.6.3+ always; v3 by default)',
    args: ['verify', '--key', '{PUB}', '--insecure-ignore-tlog', '--trusted-root', '{TR}', '{IMG}@{D}'],
  },
  {
    name: 'v2 has no way back to the legacy signature: --new-bundle-format=false still reads the bundle',
    args: [
      'verify',
      '--key',
      '{PUB}',
      '--insecure-ignore-tlog',
      '--trusted-root',
      '{TR}',
      '--new-bundle-format=false',
      '{IMG}@{D}',
    ],
    only: 'v2',
  },
  {
    name: 'v3: --new-bundle-format=false verifies the legacy signature again',
    args: ['verify', '--key', '{PUB}', '--insecure-ignore-tlog', '--new-bundle-format=false', '{IMG}@{D}'],
    only: 'v3',
  },
  {
    name: 'the bundle verifies with its own key',
    args: ['verify', '--key', '{PUB2}', '--insecure-ignore-tlog', '--trusted-root', '{TR}', '{IMG}@{D}'],
  },
  {
    name: 'a certificate chain is refused on the bundle path',
    args: [
      'verify',
      '--certificate-identity',
      'x',
      '--certificate-oidc-issuer',
      'https://issuer.example',
      '--certificate-chain',
      '{TR}',
      '--insecure-ignore-tlog',
      '--trusted-root',
      '{TR}',
      '{IMG}@{D}',
    ],
  },
  {
    name: 'keyless v2: sign legacy with the private Fulcio',
    args: ['sign', '--yes', '--fulcio-url', '{FULCIO}', '--tlog-upload=false', '--insecure-skip-verify', '{IMG2}@{D2}'],
    only: 'v2',
    keyless: true,
  },
  {
    name: 'keyless v3: sign legacy with the private Fulcio',
    args: [
      'sign',
      '--yes',
      '--fulcio-url',
      '{FULCIO}',
      '--tlog-upload=false',
      '--insecure-skip-verify',
      '--use-signing-config=false',
      '--new-bundle-format=false',
      '{IMG2}@{D2}',
    ],
    only: 'v3',
    keyless: true,
  },
  {
    name: 'keyless legacy: verified for the identity, issuer and source repository (output with the GitHub extensions)',
    args: [
      'verify',
      '--certificate-identity',
      '{ID}',
      '--certificate-oidc-issuer',
      '{ISS}',
      '--certificate-github-workflow-repository',
      'octo-org/app',
      '--certificate-chain',
      '{CHAIN}',
      '--insecure-ignore-tlog',
      '--insecure-ignore-sct',
      '{IMG2}@{D2}',
    ],
    keyless: true,
  },
  {
    name: 'keyless legacy: another source repository is refused, exit 12',
    args: [
      'verify',
      '--certificate-identity',
      '{ID}',
      '--certificate-oidc-issuer',
      '{ISS}',
      '--certificate-github-workflow-repository',
      'evil-org/fork',
      '--certificate-chain',
      '{CHAIN}',
      '--insecure-ignore-tlog',
      '--insecure-ignore-sct',
      '{IMG2}@{D2}',
    ],
    keyless: true,
  },
  {
    name: 'keyless v3: sign a bundle with the private Fulcio',
    args: [
      'sign',
      '--yes',
      '--fulcio-url',
      '{FULCIO}',
      '--tlog-upload=false',
      '--insecure-skip-verify',
      '--use-signing-config=false',
      '{IMG3}@{D3}',
    ],
    only: 'v3',
    keyless: true,
  },
  {
    name: 'keyless v3 bundle: verified against a trusted root',
    args: [
      'verify',
      '--certificate-identity',
      '{ID}',
      '--certificate-oidc-issuer',
      '{ISS}',
      '--certificate-github-workflow-repository',
      'octo-org/app',
      '--trusted-root',
      '{TRF}',
      '--insecure-ignore-tlog',
      '--insecure-ignore-sct',
      '{IMG3}@{D3}',
    ],
    only: 'v3',
    keyless: true,
  },
  {
    name: 'keyless v3 bundle: another source repository is refused',
    args: [
      'verify',
      '--certificate-identity',
      '{ID}',
      '--certificate-oidc-issuer',
      '{ISS}',
      '--certificate-github-workflow-repository',
      'evil-org/fork',
      '--trusted-root',
      '{TRF}',
      '--insecure-ignore-tlog',
      '--insecure-ignore-sct',
      '{IMG3}@{D3}',
    ],
    only: 'v3',
    keyless: true,
  },
  {
    name: 'keyless v3 bundle: another identity is refused',
    args: [
      'verify',
      '--certificate-identity',
      'https://github.com/octo-org/app/.github/workflows/other.yml@refs/heads/main',
      '--certificate-oidc-issuer',
      '{ISS}',
      '--trusted-root',
      '{TRF}',
      '--insecure-ignore-tlog',
      '--insecure-ignore-sct',
      '{IMG3}@{D3}',
    ],
    only: 'v3',
    keyless: true,
  },
];

interface Outcome {
  status: number | null;
  error: string;
  output: unknown;
}

interface Backend {
  run(args: string[]): Promise<Outcome>;
}

/**
 * Runs a command without blocking this process: the test OIDC issuer answering cosign's token request lives in this
 * process, so a synchronous spawn would wait for a token that can never be served.
 */
function runAsync(command: string, argv: string[], env: NodeJS.ProcessEnv) {
  return new Promise<{ status: number; stdout: string; stderr: string }>((resolve, reject) => {
    execFile(command, argv, { env, encoding: 'utf8', timeout: 120_000 }, (error, stdout, stderr) => {
      const code = (error as { code?: unknown } | null)?.code;
      if (error && typeof code !== 'number') return reject(new Error(`${command} ${argv.join(' ')}: ${error.message}`));
      resolve({ status: typeof code === 'number' ? code : 0, stdout, stderr });
    });
  });
}

const versions = (
  [
    ['v2', 'cosign', '2.6.5'],
    ['v3', 'cosign-v3', '3.1.3'],
  ] as const
)
  .map(([name, bin, version]) => ({ name, bin: realTool(bin, ['version']), version }))
  .filter((v): v is { name: 'v2' | 'v3'; bin: string; version: '2.6.5' | '3.1.3' } => Boolean(v.bin));

const fulcioBin = versions.length > 0 ? realTool('fulcio', ['version']) : undefined;
const REUSABLE = 'golden-image/golden-image/.github/workflows/docker-publish.yml@refs/tags/v1';

let registry: TestRegistry;
let issuer: OidcIssuer | undefined;
let fulcio: TestFulcio | undefined;
beforeAll(async () => {
  if (versions.length === 0) return;
  registry = await startRegistry();
  if (fulcioBin) {
    issuer = await startOidcIssuer();
    fulcio = await startFulcio(fulcioBin, issuer.url);
  }
});
afterAll(async () => {
  await Promise.all([registry?.stop(), fulcio?.stop(), issuer?.close()]);
});

/** Pushes a fresh two-platform image to `image:v1`; returns its digest. */
async function pushed(image: string, seed: string): Promise<string> {
  const layout = await buildLayout(tempDir('golden-image-fidelity-layout-'), {
    platforms: ['linux/amd64', 'linux/arm64'],
    seed,
  });
  const copy = spawnSync('skopeo', [
    'copy',
    '--all',
    '--preserve-digests',
    '--dest-tls-verify=false',
    `oci:${layout.path}`,
    `docker://${image}:v1`,
  ]);
  if (copy.status !== 0) throw new Error(`skopeo copy failed: ${copy.stderr}`);
  return layout.digest;
}

const describeReal =
  versions.length > 0 ? describe.each(versions) : describe.skip.each([{ name: 'none', bin: '', version: '' }]);

describeReal('cosign $name: the double and the real tool agree', ({ name, bin, version }) => {
  const real: Record<string, string> = {};
  const double: Record<string, string> = {};
  let realBackend: Backend;
  let doubleBackend: Backend;

  beforeAll(async () => {
    const image = `${registry.host}/fidelity/${name}`;
    const digest = await pushed(image, `fidelity-${name}`);
    const shared: Record<string, string> = { IMG: image, D: digest };
    let keylessEnv: NodeJS.ProcessEnv = {};
    if (fulcio && issuer) {
      // each backend signs its own images: the double keeps its signatures in its state, the real one in the registry
      Object.assign(shared, {
        FULCIO: fulcio.url,
        CHAIN: fulcio.chainFile,
        ID: `https://github.com/${REUSABLE}`,
        ISS: issuer.url,
      });
      keylessEnv = issuer.actionsEnv(githubClaims({ repository: 'octo-org/app', reusableWorkflow: REUSABLE }));
    }
    const setUp = async (
      values: Record<string, string>,
      label: string,
      command: string,
      env: NodeJS.ProcessEnv,
    ): Promise<Backend> => {
      const home = tempDir('golden-image-fidelity-home-');
      const runEnv = { PATH: process.env.PATH, HOME: home, COSIGN_PASSWORD: 'fidelity', ...keylessEnv, ...env };
      Object.assign(values, shared);
      for (const [key, dirName] of [
        ['KEY', 'one'],
        ['KEY2', 'two'],
      ] as const) {
        const dir = join(home, dirName);
        mkdirSync(dir, { recursive: true });
        const made = spawnSync(command, ['generate-key-pair'], { cwd: dir, env: runEnv, encoding: 'utf8' });
        if (made.status !== 0) throw new Error(`generate-key-pair failed: ${made.stderr}`);
        values[key] = join(dir, 'cosign.key');
        values[key.replace('KEY', 'PUB')] = join(dir, 'cosign.pub');
      }
      values.TR = join(home, 'trusted-root.json');
      writeFileSync(
        values.TR,
        JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1' }),
      );
      if (fulcio) {
        values.IMG2 = `${registry.host}/fidelity/${name}-${label}-keyless`;
        values.D2 = await pushed(values.IMG2, `fidelity-${name}-${label}-keyless`);
        values.IMG3 = `${registry.host}/fidelity/${name}-${label}-bundle`;
        values.D3 = await pushed(values.IMG3, `fidelity-${name}-${label}-bundle`);
        values.TRF = join(home, 'fulcio-trusted-root.json');
        const made = spawnSync(
          bin,
          [
            'trusted-root',
            'create',
            '--fulcio',
            `url=${fulcio.url},certificate-chain=${fulcio.chainFile}`,
            '--out',
            values.TRF,
          ],
          { env: runEnv, encoding: 'utf8' },
        );
        if (made.status !== 0) throw new Error(`trusted-root create failed: ${made.stderr}`);
      }
      return {
        run: async (args) => {
          const argv = args.map((arg) => arg.replace(/\{(\w+)\}/g, (_, key: string) => values[key] ?? `{${key}}`));
          const result = await runAsync(command, argv, runEnv);
          return outcome(result.status, result.stdout, result.stderr, values);
        },
      };
    };
    realBackend = await setUp(real, 'real', bin, {});
    doubleBackend = await setUp(double, 'double', join(DOUBLES_BIN, 'cosign'), {
      COSIGN_DOUBLE_VERSION: version,
      COSIGN_DOUBLE_STATE: tempDir('golden-image-fidelity-state-'),
    });
  });

  for (const step of STEPS.filter((s) => !s.only || s.only === name)) {
    (step.keyless && !fulcioBin ? test.skip : test)(step.name, async () => {
      const fromReal = await realBackend.run(step.args);
      const fromDouble = await doubleBackend.run(step.args);
      expect(fromDouble).toEqual(fromReal);
    });
  }
});

/**
 * What is compared: the exit code; the error (cosign's last "error during command execution:" line, with the test's
 * own paths and references replaced by their placeholders); the shape of stdout (verify's JSON with its values
 * normalised the same way, or the version line).
 */
function outcome(status: number | null, stdout: string, stderr: string, values: Record<string, string>): Outcome {
  const normalise = (text: string) => {
    let out = text;
    for (const [key, value] of Object.entries(values).sort((a, b) => b[1].length - a[1].length)) {
      out = out.split(value).join(`{${key}}`);
    }
    // The machine's DNS resolver is no part of what cosign says.
    return out.replace(/(lookup \S+) on [^ ]+:53:/g, '$1:');
  };
  const errorLine =
    stderr
      .split('\n')
      .filter((line) => line.startsWith('error during command execution:'))
      .at(-1) ?? '';
  let output: unknown = normalise(stdout.trim());
  const version = /GitVersion:\s+v(\d+)\./.exec(stdout);
  if (version) output = { major: Number(version[1]), banner: stdout.includes('A tool for Container Signing') };
  else if (stdout.trim().startsWith('[')) output = JSON.parse(normalise(stdout.trim()));
  return { status, error: normalise(errorLine), output };
}
