import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultCacheScope } from '@golden-image/image-build';
import { verifyLayout } from '@golden-image/oci';
import { createTestContext } from '@golden-image/testkit';
import { describe, expect, test } from '@jest/globals';
import { main } from '../main.js';
import { DoublesRunner, flagValues, readDoubleLog, sampleImage } from './helpers.js';

const MULTI = 'sha256:5ac2d3ac39878329a6328eba5b2a6e5e7a06279244eea0f2ea893f76cefff26c';
const AMD64 = 'sha256:0f90b7af6b2fef777963e3e1ca4fd66f378af93f5fe46304886943a4c0c7a46b';
const ARM64 = 'sha256:6b2a0dfca3903c0a2022f224f818eedd9d055ebbef7c8208b35cd7d3b4f54088';

function setup(inputs: Record<string, string>, env: NodeJS.ProcessEnv = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'build-oci-buildx-'));
  const log = join(dir, 'docker.log');
  const runner = new DoublesRunner();
  const baseEnv = { ...process.env };
  // Off a runner: no gha cache token, no fixed epoch, and no commit (whose annotations the origin tests below add).
  for (const name of [
    'ACTIONS_RUNTIME_TOKEN',
    'ACTIONS_CACHE_URL',
    'ACTIONS_RESULTS_URL',
    'SOURCE_DATE_EPOCH',
    'GITHUB_SHA',
    'GITHUB_REPOSITORY',
    'GITHUB_SERVER_URL',
  ])
    delete baseEnv[name];
  const { ctx, recorded } = createTestContext(inputs, {
    runner,
    tempDir: join(dir, 'runner-temp'),
    env: { ...baseEnv, GITHUB_WORKSPACE: sampleImage, DOCKER_DOUBLE_LOG: log, ...env },
  });
  return { dir, log, runner, ctx, recorded };
}

/** The argv build-oci must run: every flag in order, each value one entry. */
function expectedArgv(
  layout: string,
  metadata: string,
  extra: string[],
  options: { platforms?: string; provenance?: string; sbom?: string; cache?: boolean } = {},
) {
  const scope = defaultCacheScope(
    sampleImage,
    undefined,
    undefined,
    sampleImage,
    (options.platforms ?? 'linux/amd64').split(','),
  );
  const cache =
    options.cache === false
      ? []
      : ['--cache-from', `type=gha,scope=${scope}`, '--cache-to', `type=gha,scope=${scope},mode=max`];
  return [
    'buildx',
    'build',
    '--output',
    `type=oci,tar=false,dest=${layout}`,
    '--metadata-file',
    metadata,
    '--platform',
    options.platforms ?? 'linux/amd64',
    '--provenance',
    options.provenance ?? 'mode=max',
    '--sbom',
    options.sbom ?? 'true',
    ...extra,
    ...cache,
    sampleImage,
  ];
}

interface Case {
  name: string;
  inputs: Record<string, string>;
  argv: (layout: string, metadata: string, dir: string) => string[];
  digest?: string;
  platforms: Record<string, string>;
  attestations: number;
}

const cases: Case[] = [
  {
    name: 'defaults: one platform, max provenance, SBOM, a gha cache scope of its own',
    inputs: {},
    argv: (l, m) => expectedArgv(l, m, []),
    platforms: { 'linux/amd64': AMD64 },
    attestations: 1,
  },
  {
    name: 'two platforms with attestations (the real buildx layout, byte for byte)',
    inputs: { platforms: 'linux/amd64,linux/arm64' },
    argv: (l, m) => expectedArgv(l, m, [], { platforms: 'linux/amd64,linux/arm64' }),
    digest: MULTI,
    platforms: { 'linux/amd64': AMD64, 'linux/arm64': ARM64 },
    attestations: 2,
  },
  {
    name: 'platforms as a newline list, duplicates dropped',
    inputs: { platforms: 'linux/amd64\nlinux/arm64\nlinux/arm64/v8' },
    argv: (l, m) => expectedArgv(l, m, [], { platforms: 'linux/amd64,linux/arm64' }),
    digest: MULTI,
    platforms: { 'linux/amd64': AMD64, 'linux/arm64': ARM64 },
    attestations: 2,
  },
  {
    name: 'one platform without attestations: index.json points straight at the manifest',
    inputs: { provenance: 'false', sbom: 'false', 'cache-from': 'none', 'cache-to': 'none' },
    argv: (l, m) => expectedArgv(l, m, [], { provenance: 'false', sbom: 'false', cache: false }),
    digest: AMD64,
    platforms: { 'linux/amd64': AMD64 },
    attestations: 0,
  },
  {
    name: 'every input at once',
    inputs: {
      platforms: 'linux/arm64, linux/amd64',
      file: join(sampleImage, 'Dockerfile'),
      target: 'final',
      'build-args': 'GREETING=hello, world\nEMPTY=\nURL=https://example.com/a?b=c&d=e',
      secrets: `id=token,env=GITHUB_TOKEN\nid=npmrc,src=${join(sampleImage, 'hello.txt')}`,
      'secret-files': 'greeting=hello.txt',
      ssh: 'default\ngithub=keys/id_ed25519',
      'build-contexts': 'base=docker-image://alpine:3.20\nsrc=.',
      'no-cache': 'true',
      pull: 'true',
      labels: 'org.opencontainers.image.source=https://github.com/o/r\norg.opencontainers.image.title=a, b',
      annotations: 'index:org.opencontainers.image.description=multi\nmanifest[linux/amd64]:x=y\nplain=value',
      'cache-from': 'type=registry,ref=ghcr.io/o/r:cache\ntype=gha,scope=mine',
      'cache-to': 'type=gha,scope=mine,mode=max',
      provenance: 'mode=min',
      sbom: 'generator=docker/buildkit-syft-scanner:1',
    },
    argv: (l, m) => {
      const base = expectedArgv(l, m, [], {
        platforms: 'linux/arm64,linux/amd64',
        provenance: 'mode=min',
        sbom: 'generator=docker/buildkit-syft-scanner:1',
        cache: false,
      });
      base.splice(
        base.length - 1,
        0,
        '--file',
        join(sampleImage, 'Dockerfile'),
        '--target',
        'final',
        '--no-cache',
        '--pull',
        '--build-arg',
        'GREETING=hello, world',
        '--build-arg',
        'EMPTY=',
        '--build-arg',
        'URL=https://example.com/a?b=c&d=e',
        '--secret',
        'id=token,env=GITHUB_TOKEN',
        '--secret',
        `id=npmrc,src=${join(sampleImage, 'hello.txt')}`,
        '--secret',
        `id=greeting,src=${join(sampleImage, 'hello.txt')}`,
        '--ssh',
        'default',
        '--ssh',
        `github=${join(sampleImage, 'keys/id_ed25519')}`,
        '--build-context',
        'base=docker-image://alpine:3.20',
        '--build-context',
        `src=${sampleImage}`,
        '--label',
        'org.opencontainers.image.source=https://github.com/o/r',
        '--label',
        'org.opencontainers.image.title=a, b',
        '--annotation',
        'index:org.opencontainers.image.description=multi',
        '--annotation',
        'manifest[linux/amd64]:x=y',
        '--annotation',
        'plain=value',
        '--cache-from',
        'type=registry,ref=ghcr.io/o/r:cache',
        '--cache-from',
        'type=gha,scope=mine',
        '--cache-to',
        'type=gha,scope=mine,mode=max',
      );
      return base;
    },
    platforms: { 'linux/amd64': AMD64, 'linux/arm64': ARM64 },
    attestations: 2,
  },
];

describe('build-oci with buildx (against the docker double, which checks each flag against the buildx the real tier runs)', () => {
  test.each(cases)('$name', async ({ inputs, argv, digest, platforms, attestations }) => {
    const { dir, log, ctx, recorded } = setup(inputs);
    await main(ctx);
    const calls = readDoubleLog(log);
    expect(calls.map((c) => c.argv.slice(0, 2))).toEqual([
      ['buildx', 'version'],
      ['buildx', 'build'],
    ]);
    const ran = calls[1]?.argv ?? [];
    const layout = recorded.outputs['layout-path'] as string;
    const metadataFile = flagValues(ran, '--metadata-file')[0] as string;
    expect(ran).toEqual(argv(layout, metadataFile, dir));

    const verified = await verifyLayout(layout);
    expect(recorded.outputs.digest).toBe(verified.digest);
    if (digest) expect(verified.digest).toBe(digest);
    expect(JSON.parse(recorded.outputs.platforms as string)).toEqual(platforms);
    expect(verified.manifests.filter((m) => m.attestation)).toHaveLength(attestations);
    const metadata = JSON.parse(recorded.outputs.metadata as string);
    expect(metadata['containerimage.digest']).toBe(verified.digest);
    expect(recorded.summary).toContain(verified.digest);
    for (const platform of Object.keys(platforms)) expect(recorded.summary).toContain(platform);
  });

  test('the environment reaches buildx, so a type=gha cache is really used on a runner', async () => {
    const withToken = setup({}, { ACTIONS_RUNTIME_TOKEN: 't0ken', ACTIONS_RESULTS_URL: 'https://results.example/' });
    await main(withToken.ctx);
    const used = readDoubleLog(withToken.log)[1]?.ghaCache ?? [];
    expect(used.map((c) => [c.flag, c.used])).toEqual([
      ['cache-from', true],
      ['cache-to', true],
    ]);
    expect(used[0]?.scope).toMatch(/^build-oci-sample-image-[0-9a-f]{12}$/);

    const without = setup({});
    await main(without.ctx);
    expect((readDoubleLog(without.log)[1]?.ghaCache ?? []).every((c) => !c.used)).toBe(true);
    expect(without.recorded.logs.join('\n')).toContain('will skip the type=gha cache');
  });

  test('metadata naming another digest than the layout holds fails the step', async () => {
    const { ctx } = setup({ platforms: 'linux/amd64,linux/arm64' }, { DOCKER_DOUBLE_METADATA_DIGEST: 'mismatch' });
    await expect(main(ctx)).rejects.toThrow(`holds ${MULTI}, but buildx reports it built sha256:`);
  });

  test('a layer changed after the build (same size) is caught: build-oci hashes every layer', async () => {
    const { ctx } = setup({}, { DOCKER_DOUBLE_LAYOUT: 'tamper-layer' });
    await expect(main(ctx)).rejects.toThrow('does not hash to its name');
  });

  test('a flag buildx does not know fails in the double (the double is not a yes-man)', async () => {
    const { runner } = setup({});
    const result = await runner.run('docker', ['buildx', 'build', '--output-dir', '/tmp/x', sampleImage]);
    // the docker CLI's exit code for a plugin's usage error (test/doubles/fidelity/buildx.real)
    expect(result.exitCode).toBe(125);
    expect(result.stderr).toContain('unknown flag: --output-dir');
    const badSecret = await runner.run('docker', ['buildx', 'build', '--secret', 'id=a,file=/x', sampleImage]);
    expect(badSecret.stderr).toContain("unexpected key 'file'");
  });

  test('the classic docker driver gets advice to set up a docker-container builder', async () => {
    const { ctx } = setup({}, { DOCKER_DOUBLE_DRIVER: 'docker' });
    await expect(main(ctx)).rejects.toThrow(/not supported for the docker driver[\s\S]*setup-buildx-action/);
  });

  test('no buildx plugin: a clear error naming setup-buildx-action and builder: buildah', async () => {
    const { ctx } = setup({}, { DOCKER_DOUBLE_NO_BUILDX: '1' });
    await expect(main(ctx)).rejects.toThrow(/docker buildx is not available[\s\S]*builder: buildah/);
  });

  test('buildx too old for the gha cache service v2 is refused before building', async () => {
    const { ctx, log } = setup({}, { DOCKER_DOUBLE_BUILDX_VERSION: '0.20.2' });
    await expect(main(ctx)).rejects.toThrow('buildx 0.20.2 cannot use the GitHub Actions cache');
    expect(readDoubleLog(log).map((c) => c.argv[1])).toEqual(['version']);
    const noCache = setup({ 'cache-from': 'none', 'cache-to': 'none' }, { DOCKER_DOUBLE_BUILDX_VERSION: '0.20.2' });
    await main(noCache.ctx);
    expect(noCache.recorded.outputs.digest).toMatch(/^sha256:/);
  });

  test('a layout-path that is not empty is refused before anything runs', async () => {
    const { dir } = setup({});
    const used = join(dir, 'used');
    mkdirSync(used);
    writeFileSync(join(used, 'index.json'), '{}');
    const again = setup({ 'layout-path': used });
    await expect(main(again.ctx)).rejects.toThrow(/Input "layout-path": .* is not empty \(index\.json\)/);
    expect(readDoubleLog(again.log)).toEqual([]);
    // An absent or empty directory is fine, and is where the layout lands.
    const fresh = join(dir, 'fresh');
    const ok = setup({ 'layout-path': fresh });
    await main(ok.ctx);
    expect(ok.recorded.outputs['layout-path']).toBe(fresh);
    expect(existsSync(join(fresh, 'index.json'))).toBe(true);
  });
});

describe('hostile values stay literal argv entries (buildx)', () => {
  test('$(...) and backticks in build-args, labels and target', async () => {
    const marker = mkdtempSync(join(tmpdir(), 'build-oci-hostile-'));
    const pwned = '/tmp/pwned';
    const hadPwned = existsSync(pwned);
    const values = {
      arg: 'X=$(touch /tmp/pwned)',
      arg2: `Y=\`touch ${marker}/backtick\``,
      arg3: `Z=$(touch ${marker}/subst); touch ${marker}/semi`,
      label: `evil=$(touch ${marker}/label)`,
      target: `$(touch ${marker}/target)`,
    };
    const { ctx, log } = setup({
      'build-args': [values.arg, values.arg2, values.arg3].join('\n'),
      labels: values.label,
      target: values.target,
    });
    await main(ctx);
    const argv = readDoubleLog(log)[1]?.argv ?? [];
    expect(flagValues(argv, '--build-arg')).toEqual([values.arg, values.arg2, values.arg3]);
    expect(flagValues(argv, '--label')).toEqual([values.label]);
    expect(flagValues(argv, '--target')).toEqual([values.target]);
    expect(existsSync(pwned)).toBe(hadPwned);
    expect(['backtick', 'subst', 'semi', 'label', 'target'].filter((name) => existsSync(join(marker, name)))).toEqual(
      [],
    );
    rmSync(marker, { recursive: true, force: true });
  });
});
