import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestContext } from '@golden-image/testkit';
import { describe, expect, test } from '@jest/globals';
import { main } from '../main.js';
import { DoublesRunner, sampleImage } from './helpers.js';

const usedDir = (() => {
  const dir = mkdtempSync(join(tmpdir(), 'build-oci-used-'));
  mkdirSync(join(dir, 'blobs'));
  writeFileSync(join(dir, 'index.json'), '{"schemaVersion":2,"manifests":[]}');
  return dir;
})();

const cases: { name: string; inputs: Record<string, string>; env?: NodeJS.ProcessEnv; error: RegExp }[] = [
  {
    name: 'unknown builder',
    inputs: { builder: 'kaniko' },
    error: /Input "builder": must be one of buildx, buildah, got "kaniko"/,
  },
  {
    name: 'malformed platform',
    inputs: { platforms: 'linux/amd64,amd64' },
    error: /Input "platforms": "amd64" is not a platform: use os\/arch\[\/variant\]/,
  },
  {
    name: 'platform with a space inside',
    inputs: { platforms: 'linux/ amd64' },
    error: /Input "platforms": "linux\/ amd64" is not a platform/,
  },
  {
    name: 'build-arg without =',
    inputs: { 'build-args': 'GOOD=1\nNODE_VERSION' },
    error: /Input "build-args": "NODE_VERSION" has no "=": write KEY=VALUE/,
  },
  {
    name: 'build-arg with an invalid name',
    inputs: { 'build-args': '1X=a' },
    error: /Input "build-args": "1X" is not a valid build-arg name/,
  },
  {
    name: 'build-arg with a control character',
    inputs: { 'build-args': 'A=x\u0007y' },
    error: /Input "build-args": .*holds a newline or another control character; give one value per line/,
  },
  {
    name: 'label without =',
    inputs: { labels: 'just-a-word' },
    error: /Input "labels": "just-a-word" is not KEY=VALUE/,
  },
  {
    name: 'annotation with no key after the type',
    inputs: { annotations: 'index:=x' },
    error: /Input "annotations": "index:=x" has no key after the type prefix/,
  },
  {
    name: 'secret without id',
    inputs: { secrets: 'src=/etc/hostname' },
    error: /Input "secrets": "src=\/etc\/hostname" has no id=/,
  },
  {
    name: 'secret with both src and env',
    inputs: { secrets: 'id=a,src=/x,env=Y' },
    error: /Input "secrets": .* needs exactly one of src= or env=/,
  },
  {
    name: 'secret whose file is missing',
    inputs: { secrets: 'id=a,src=/nonexistent/secret' },
    error: /Input "secrets": .*the file "\/nonexistent\/secret" does not exist/,
  },
  {
    name: 'cache spec without type',
    inputs: { 'cache-from': 'scope=x' },
    error: /Input "cache-from": "scope=x" has no type=/,
  },
  {
    name: 'cache spec of an unknown type',
    inputs: { 'cache-to': 'type=redis,url=x' },
    error: /Input "cache-to": .*cache type "redis" is not one of/,
  },
  {
    name: 'none mixed with a cache spec',
    inputs: { 'cache-to': 'none\ntype=gha' },
    error: /Input "cache-to": "none" turns the cache off/,
  },
  {
    name: 'provenance that is neither a boolean nor parameters',
    inputs: { provenance: 'maximum' },
    error: /Input "provenance": "maximum" must be true, false, or comma-separated parameters/,
  },
  {
    name: 'context that does not exist',
    inputs: { context: '/nonexistent/ctx' },
    error: /Input "context": "\/nonexistent\/ctx" is not a directory/,
  },
  {
    name: 'Dockerfile that does not exist',
    inputs: { file: 'nope/Dockerfile' },
    error: /Input "file": ".*nope\/Dockerfile" does not exist/,
  },
  {
    name: 'a context without a Dockerfile',
    inputs: { context: tmpdir() },
    error: /Input "file": is unset and .* holds no Dockerfile/,
  },
  {
    name: 'layout-path that is not empty',
    inputs: { 'layout-path': usedDir },
    error: /Input "layout-path": .* is not empty \(blobs, index\.json\)/,
  },
  {
    name: 'layout-path with a comma (buildx --output is CSV)',
    inputs: { 'layout-path': '/tmp/a,b' },
    error: /Input "layout-path": "\/tmp\/a,b" contains a comma/,
  },
  {
    name: 'cache spec with buildah',
    inputs: { builder: 'buildah', 'cache-from': 'type=gha' },
    error: /Input "cache-from": BuildKit cache specs do not apply to builder: buildah/,
  },
  {
    name: 'SOURCE_DATE_EPOCH that is not seconds',
    inputs: {},
    env: { SOURCE_DATE_EPOCH: 'yesterday' },
    error: /SOURCE_DATE_EPOCH must be whole seconds/,
  },
];

describe('build-oci refuses bad inputs with an error naming the input, before running anything', () => {
  test.each(cases)('$name', async ({ inputs, env, error }) => {
    const runner = new DoublesRunner();
    const temp = mkdtempSync(join(tmpdir(), 'build-oci-inputs-'));
    const { ctx } = createTestContext(inputs, {
      runner,
      tempDir: temp,
      env: { ...process.env, GITHUB_WORKSPACE: sampleImage, ...env },
    });
    await expect(main(ctx)).rejects.toThrow(error);
    expect(runner.calls).toEqual([]);
  });

  test('several bad inputs are reported together, one line each', async () => {
    const runner = new DoublesRunner();
    const { ctx } = createTestContext({ builder: 'docker', platforms: 'x', 'build-args': 'NOEQ' }, { runner });
    const failure = main(ctx);
    await expect(failure).rejects.toThrow(/Input "platforms"[\s\S]*Input "build-args"[\s\S]*Input "builder"/);
  });
});
