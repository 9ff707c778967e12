// Fidelity: the docker/buildx double against the real docker CLI + buildx plugin + buildkitd (npm run tools:real,
// testkit startBuildkit), offline. The same scenario table through both: exit codes, the error each prints, the
// version, and the shape of the OCI layout and metadata file a build writes (platforms, attestation manifests, how
// index.json grows, which digest the metadata names). The double writes a fixture's blobs, so digests differ; the
// shapes the suite relies on must not.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  alpineFiles,
  realTool,
  SAMPLE_MUSL,
  skipOffCi,
  startBuildkit,
  type TestBuildkit,
  toolAvailable,
} from '@golden-image/testkit';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { DOUBLES_BIN } from '../lib/harness.js';
import { catalogueVersion } from '../lib/recording.mjs';

const buildkitd = realTool('buildkitd');
const buildx = realTool('docker-buildx', ['version']);
const root = process.getuid?.() === 0;
if (buildkitd && buildx && !root) skipOffCi('buildkitd with the OCI worker runs as root here');
const ready = Boolean(buildkitd && buildx && root && toolAvailable('docker', ['--version']) && toolAvailable('runc'));
const maybe = ready ? describe : describe.skip;

const DOCKERFILE = ['FROM scratch', 'ARG TARGETARCH', 'COPY rootfs-$TARGETARCH/ /', ''].join('\n');

interface Context {
  context: string;
  dir: string;
}

interface Outcome {
  code: number | null;
  /** buildx's error line, or cobra's, without the run's paths. */
  error?: string;
  version?: string;
  layout?: unknown;
  metadata?: unknown;
}

/** What the suite reads of a buildx OCI layout: the entries of index.json and what each one holds. */
function layoutShape(dir: string) {
  if (!existsSync(join(dir, 'index.json'))) return null;
  const blob = (digest: string) =>
    JSON.parse(readFileSync(join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length)), 'utf8'));
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as {
    manifests: { mediaType: string; digest: string }[];
  };
  return {
    mediaType: (index as { mediaType?: string }).mediaType,
    entries: index.manifests.map((entry) => {
      const nested = entry.mediaType.includes('index') ? blob(entry.digest) : undefined;
      const children = (nested?.manifests ?? []) as {
        mediaType: string;
        platform?: { os: string; architecture: string };
        annotations?: Record<string, string>;
      }[];
      return {
        mediaType: entry.mediaType,
        platforms: children
          .filter((m) => m.platform?.os !== 'unknown')
          .map((m) => `${m.platform?.os}/${m.platform?.architecture}`),
        attestations: children
          .filter((m) => m.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest')
          .map((m) => `${m.platform?.os}/${m.platform?.architecture} ${m.mediaType}`),
      };
    }),
  };
}

function metadataShape(file: string, layout: string) {
  if (!existsSync(file)) return null;
  const metadata = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  return {
    keys: Object.keys(metadata)
      .filter((key) =>
        ['containerimage.digest', 'containerimage.descriptor', 'containerimage.config.digest'].includes(key),
      )
      .sort(),
    digestIsTheLayoutsLast: metadata['containerimage.digest'] === index.manifests.at(-1)?.digest,
  };
}

const build = (c: Context, ...flags: string[]) => ['buildx', 'build', ...flags, c.context];
const oci = (dest: string) => ['--output', `type=oci,tar=false,dest=${dest}`];
/** A build into <dir>/out with a metadata file, as build-oci runs it. */
const layoutBuild = (c: Context, platforms: string, provenance: string) =>
  build(
    c,
    '--platform',
    platforms,
    provenance,
    ...oci(join(c.dir, 'out')),
    '--metadata-file',
    join(c.dir, 'meta.json'),
  );

const SCENARIOS: [string, (c: Context) => string[]][] = [
  ['version', () => ['buildx', 'version']],
  [
    'two platforms, provenance mode=max: one index entry, a nested index, platforms first, attestations last',
    (c) => layoutBuild(c, 'linux/amd64,linux/arm64', '--provenance=mode=max'),
  ],
  ['one platform with provenance on: still an index', (c) => layoutBuild(c, 'linux/amd64', '--provenance=mode=min')],
  ['one platform, provenance off: the manifest itself', (c) => layoutBuild(c, 'linux/arm64', '--provenance=false')],
  ['an unknown flag', (c) => build(c, '--no-such-flag', ...oci(join(c.dir, 'out')))],
  ['an oci output without dest', (c) => build(c, '--provenance=false', '--output', 'type=oci,tar=false')],
  ['a context that does not exist', (c) => ['buildx', 'build', ...oci(join(c.dir, 'out')), join(c.dir, 'nowhere')]],
  [
    'a context without a Dockerfile',
    (c) => ['buildx', 'build', '--provenance=false', ...oci(join(c.dir, 'out')), mkdtempSync(join(c.dir, 'empty-'))],
  ],
  ['a --file that does not exist', (c) => build(c, '--file', join(c.dir, 'Nofile'), ...oci(join(c.dir, 'out')))],
  ['a platform buildx cannot parse', (c) => build(c, '--platform', 'linux/amd64/', ...oci(join(c.dir, 'out')))],
  ['a bad --provenance value', (c) => build(c, '--provenance', 'mode', ...oci(join(c.dir, 'out')))],
];

maybe('the docker/buildx double against the real buildx', () => {
  let buildkit: TestBuildkit;
  let context: string;

  beforeAll(async () => {
    buildkit = await startBuildkit({ buildkitd: buildkitd as string, buildx: buildx as string });
    context = mkdtempSync(join(tmpdir(), 'golden-image-buildx-fidelity-context-'));
    writeFileSync(join(context, 'Dockerfile'), DOCKERFILE);
    for (const platform of ['linux/amd64', 'linux/arm64']) {
      for (const [path, text] of Object.entries(alpineFiles(platform, { musl: SAMPLE_MUSL.fixed }))) {
        const file = join(context, `rootfs-${platform.split('/')[1]}`, path);
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, text);
      }
    }
  });

  afterAll(async () => {
    await buildkit?.stop();
  });

  function run(command: string, env: NodeJS.ProcessEnv, args: (c: Context) => string[]): Outcome {
    const dir = mkdtempSync(join(tmpdir(), 'golden-image-buildx-fidelity-'));
    const argv = args({ context, dir });
    const result = spawnSync(command, argv, {
      cwd: dir,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: dir, ...env },
      timeout: 300_000,
    });
    const line = `${result.stderr}`
      .split('\n')
      .find((l) => /^ERROR: |^unknown flag|^invalid argument|requires exactly 1 argument/.test(l));
    const version = /github\.com\/docker\/buildx v(\S+)/.exec(result.stdout)?.[1];
    const out = join(dir, 'out');
    return {
      code: result.status,
      ...(line ? { error: line.split(dir).join('<dir>').split(context).join('<context>') } : {}),
      ...(version ? { version } : {}),
      ...(existsSync(out) ? { layout: layoutShape(out), metadata: metadataShape(join(dir, 'meta.json'), out) } : {}),
    };
  }

  test('the double stands for the buildx the real tier runs', () => {
    const real = run('docker', buildkit.env, () => ['buildx', 'version']);
    expect(real.version).toBe(catalogueVersion('docker-buildx'));
  });

  // Every row with the same number of values: jest takes a callback parameter beyond a row's values for `done`.
  test.each(SCENARIOS)('%s', (_name, args) => {
    const real = run('docker', buildkit.env, args);
    const double = run(join(DOUBLES_BIN, 'docker'), {}, args);
    expect(double).toEqual(real);
  });
});
