import {
  annotationProblem,
  attestOn,
  attestProblem,
  buildArgProblem,
  buildContextProblem,
  cacheProblem,
  checkPlatforms,
  defaultCache,
  defaultCacheScope,
  isLocalContext,
  labelProblem,
  normalizePlatform,
  parseAnnotation,
  parseSecret,
  parseSecretFile,
  platformProblem,
  secretFileProblem,
  sshProblem,
  uniquePlatforms,
} from '@golden-image/image-build';
import { describe, expect, test } from '@jest/globals';

describe('input checks', () => {
  test.each([
    'linux/amd64',
    'linux/arm64',
    'linux/arm/v7',
    'linux/arm64/v8',
    'linux/386',
    'linux/ppc64le',
    'windows/amd64',
    'linux/riscv64',
  ])('platform %s is accepted', (p) => expect(platformProblem(p)).toBeUndefined());
  test.each(['amd64', 'linux', 'Linux/amd64', 'linux/amd64/v2/x', 'linux/amd 64', '--platform', 'linux/'])(
    'platform %s is refused',
    (p) => expect(platformProblem(p)).toMatch(/is not a platform/),
  );

  test('build-args: KEY=VALUE with a valid key; the value may hold anything but control characters', () => {
    expect(buildArgProblem('A=')).toBeUndefined();
    expect(buildArgProblem('_A1=x=y, z')).toBeUndefined();
    expect(buildArgProblem('A=$(touch /tmp/pwned) `id`')).toBeUndefined();
    expect(buildArgProblem('A')).toMatch(/has no "="/);
    expect(buildArgProblem('=x')).toMatch(/not a valid build-arg name/);
    expect(buildArgProblem('A-B=x')).toMatch(/not a valid build-arg name/);
    expect(buildArgProblem('A=x\ny')).toMatch(/control character/);
    expect(buildArgProblem('A=x\ry')).toMatch(/control character/);
    expect(buildArgProblem('A=x\ty')).toBeUndefined();
  });

  test('labels and annotations', () => {
    expect(labelProblem('a.b/c=d')).toBeUndefined();
    expect(labelProblem('=d')).toMatch(/not KEY=VALUE/);
    expect(labelProblem('a b=c')).toMatch(/whitespace/);
    expect(parseAnnotation('index,manifest[linux/amd64]:k=v')).toEqual({ types: ['index', 'manifest[linux/amd64]'] });
    expect(parseAnnotation('org.opencontainers.image.url=https://x')).toEqual({ types: [] });
    expect(parseAnnotation('weird:key=v')).toEqual({ types: [] });
    expect(annotationProblem('novalue')).toMatch(/not \[TYPE,…:\]KEY=VALUE/);
  });

  test('secrets', () => {
    expect(parseSecret('id=a,src=/f')).toEqual({ id: 'a', src: '/f', env: undefined });
    expect(parseSecret('id=a,source=/f')).toEqual({ id: 'a', src: '/f', env: undefined });
    expect(parseSecret('id=a,env=TOKEN')).toEqual({ id: 'a', src: undefined, env: 'TOKEN' });
    expect(parseSecret('id=a,type=env,src=TOKEN')).toEqual({ id: 'a', env: 'TOKEN' });
    expect(parseSecret('id=a').problem).toMatch(/exactly one of src= or env=/);
    expect(parseSecret('id=a,src=/f,mode=0400').problem).toMatch(/not a secret spec/);
    expect(parseSecret('id=a,type=ssh,src=/f').problem).toMatch(/type must be file or env/);
    expect(parseSecret('id=a,type=file,env=X').problem).toMatch(/type=file needs src=/);
  });

  test("a secret spec's problem never shows the line: it may hold a secret value", () => {
    const value = 'GIT_AUTH_TOKEN=ghp_s3cr3tVALUE';
    const problem = parseSecret(value).problem ?? '';
    expect(problem).toMatch(/^is not a secret spec: it looks like ID=VALUE, the form of build-push-action's "secrets"/);
    expect(problem).toContain('secret-files');
    for (const bad of [value, 'id=,src=ghp_s3cr3tVALUE', 'ghp_s3cr3tVALUE', 'id=a,src=x,ghp_s3cr3tVALUE'])
      expect(parseSecret(bad).problem ?? '').not.toContain('s3cr3t');
    expect(parseSecret('id=npm,type=ssh,src=/f').problem).toBe('secret "npm": type must be file or env');
  });

  test('secret-files, ssh and build-contexts entries', () => {
    expect(parseSecretFile('NPM_TOKEN=./npm-token.txt')).toEqual({
      spec: 'id=NPM_TOKEN,src=./npm-token.txt',
      id: 'NPM_TOKEN',
      file: './npm-token.txt',
    });
    expect(secretFileProblem('NPM_TOKEN')).toMatch(/is not ID=FILE/);
    expect(secretFileProblem('a b=/f')).toMatch(/is not ID=FILE/);
    expect(secretFileProblem('a=/f,g')).toMatch(/comma or quote/);
    expect(sshProblem('default')).toBeUndefined();
    expect(sshProblem('github=/home/runner/.ssh/id_ed25519')).toBeUndefined();
    expect(sshProblem('keys=/a,/b')).toBeUndefined();
    expect(sshProblem('=x')).toMatch(/is not an SSH spec/);
    expect(sshProblem('a=b=c')).toMatch(/is not an SSH spec/);
    expect(buildContextProblem('alpine=docker-image://alpine:3.20')).toBeUndefined();
    expect(buildContextProblem('src=./src')).toBeUndefined();
    expect(buildContextProblem('src')).toMatch(/is not NAME=VALUE/);
    expect(buildContextProblem('src=')).toMatch(/is not NAME=VALUE/);
    expect(isLocalContext('./src')).toBe(true);
    expect(isLocalContext('docker-image://alpine')).toBe(false);
    expect(isLocalContext('https://github.com/o/r.git')).toBe(false);
  });

  test('cache specs and attestation values', () => {
    expect(cacheProblem('type=gha,scope=x,mode=max')).toBeUndefined();
    expect(cacheProblem('type=registry,ref=ghcr.io/o/r:cache')).toBeUndefined();
    expect(cacheProblem('ghcr.io/o/r:cache')).toMatch(/not a cache spec/);
    expect(cacheProblem('mode=max')).toMatch(/has no type=/);
    expect(attestProblem('mode=max')).toBeUndefined();
    expect(attestProblem('mode=max,builder-id=https://x')).toBeUndefined();
    expect(attestProblem('FALSE')).toBeUndefined();
    expect(attestProblem('max')).toMatch(/must be true, false/);
    expect(attestOn('mode=min')).toBe(true);
    expect(attestOn('false')).toBe(false);
    expect(attestOn('0')).toBe(false);
  });
});

describe('platforms and caches', () => {
  test('spellings of one platform compare equal; duplicates drop', () => {
    expect(normalizePlatform('linux/arm64/v8')).toBe('linux/arm64');
    expect(normalizePlatform('linux/arm')).toBe('linux/arm/v7');
    expect(uniquePlatforms(['linux/amd64', 'linux/arm64', 'linux/arm64/v8', 'linux/amd64'])).toEqual([
      'linux/amd64',
      'linux/arm64',
    ]);
  });

  test('a layout missing a requested platform is refused', () => {
    expect(() =>
      checkPlatforms(
        ['linux/amd64', 'linux/arm64/v8'],
        { 'linux/amd64': 'sha256:a', 'linux/arm64': 'sha256:b' },
        'buildx',
      ),
    ).not.toThrow();
    expect(() => checkPlatforms(['linux/amd64', 'linux/s390x'], { 'linux/amd64': 'sha256:a' }, 'buildx')).toThrow(
      'linux/s390x missing',
    );
  });

  test('the default gha scope is stable, and differs per context, Dockerfile and target', () => {
    const a = defaultCacheScope('/w/app', undefined, undefined, '/w');
    expect(a).toMatch(/^build-oci-app-[0-9a-f]{12}$/);
    expect(defaultCacheScope('/runner2/app', undefined, undefined, '/runner2')).toBe(a);
    expect(defaultCacheScope('/w/api', undefined, undefined, '/w')).not.toBe(a);
    expect(defaultCacheScope('/w/app', '/w/app/Dockerfile.prod', undefined, '/w')).not.toBe(a);
    expect(defaultCacheScope('/w/app', undefined, 'test', '/w')).not.toBe(a);
    // one platform per matrix job: a scope each, so neither overwrites the other's cache index
    const amd64 = defaultCacheScope('/w/app', undefined, undefined, '/w', ['linux/amd64']);
    const arm64 = defaultCacheScope('/w/app', undefined, undefined, '/w', ['linux/arm64']);
    expect(amd64).not.toBe(arm64);
    expect(defaultCacheScope('/w/app', undefined, undefined, '/w', ['linux/arm64', 'linux/amd64'])).toBe(
      defaultCacheScope('/w/app', undefined, undefined, '/w', ['linux/amd64', 'linux/arm64']),
    );
    expect(defaultCache(a)).toEqual({ from: [`type=gha,scope=${a}`], to: [`type=gha,scope=${a},mode=max`] });
  });
});
