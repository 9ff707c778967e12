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
    error: /Input "builder": must be buildx or buildah, got "kaniko"/,
  },
  {
    name: 'a setup-buildx-action builder name: says what builder means here and how to use a named builder',
    inputs: { builder: 'builder-0f3e6c5a-1d2b-4c3d-9e8f-7a6b5c4d3e2f' },
    error:
      /Input "builder": must be buildx or buildah, got "builder-0f3e6c5a-.*"\. Here builder picks the build tool, not a buildx builder instance .*docker\/setup-buildx-action makes the builder it creates the current one .*run docker buildx use NAME before this step/,
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
    error: /Input "secrets": line 1 has no id= \(the line is not shown\)/,
  },
  {
    name: 'secret with both src and env',
    inputs: { secrets: 'id=a,src=/x\nid=b,src=/x,env=Y' },
    error: /Input "secrets": line 2 secret "b" needs exactly one of src= or env=/,
  },
  {
    name: "a secret's value in build-push-action's form: refused without echoing it",
    inputs: { secrets: 'GIT_AUTH_TOKEN=ghp_value-must-not-be-printed' },
    error:
      /^(?![\s\S]*ghp_value)Input "secrets": line 1 is not a secret spec: it looks like ID=VALUE, the form of build-push-action's "secrets" \(the line is not shown\)\. Here write id=NAME,src=FILE or id=NAME,env=VARIABLE; to pass a file, use the secret-files input/,
  },
  {
    name: 'secret whose file is missing',
    inputs: { secrets: 'id=a,src=/nonexistent/secret' },
    error: /Input "secrets": secret "a": the file "\/nonexistent\/secret" does not exist/,
  },
  {
    name: 'secret-files entry that is not ID=FILE',
    inputs: { 'secret-files': 'NPM_TOKEN' },
    error: /Input "secret-files": "NPM_TOKEN" is not ID=FILE/,
  },
  {
    name: 'secret-files whose file is missing',
    inputs: { 'secret-files': 'NPM_TOKEN=./no-such-token.txt' },
    error: /Input "secret-files": secret "NPM_TOKEN": the file ".*no-such-token\.txt" does not exist or is not a file/,
  },
  {
    name: 'the same secret id in secrets and secret-files',
    inputs: { secrets: 'id=npm,env=X', 'secret-files': 'npm=hello.txt' },
    error: /Input "secret-files": the secret id "npm" is given twice/,
  },
  {
    name: 'ssh that is not default or ID=PATH',
    inputs: { ssh: 'a=b=c' },
    error: /Input "ssh": "a=b=c" is not an SSH spec/,
  },
  {
    name: 'build-contexts entry without a name',
    inputs: { 'build-contexts': 'docker-image://alpine' },
    error: /Input "build-contexts": "docker-image:\/\/alpine" is not NAME=VALUE/,
  },
  {
    name: 'a local build context that is not a directory',
    inputs: { 'build-contexts': 'src=./no-such-dir' },
    error: /Input "build-contexts": "src=.\/no-such-dir": ".*no-such-dir" is not a directory/,
  },
  {
    name: 'no-cache that is not a boolean',
    inputs: { 'no-cache': 'yes' },
    error: /Input "no-cache": must be true or false, got "yes"/,
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
