// Newlines that try to inject an extra line into GITHUB_OUTPUT, run through the bundles as the runner runs them, so the
// real @actions/core output writer is used: every step output is a `name<<ghadelimiter_<uuid>` block, the outputs
// parsed from the file are exactly the expected keys and values, and no injected key appears.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildLayout,
  parseOutputFile,
  runBundledAction,
  startRegistry,
  type TestRegistry,
  tempDir,
} from '@golden-image/testkit';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { doublesEnv, SAMPLE_IMAGE } from './harness.js';

const EVIL = `sha256:${'e'.repeat(64)}`;

let registry: TestRegistry;
let env: NodeJS.ProcessEnv;
let layout: { path: string; digest: string };
beforeAll(async () => {
  registry = await startRegistry();
  env = doublesEnv(tempDir('golden-image-output-logs-'));
  const dir = tempDir('golden-image-output-layout-');
  layout = { path: dir, digest: (await buildLayout(dir, { platforms: ['linux/amd64'], attestations: false })).digest };
});
afterAll(async () => {
  await registry?.stop();
});

/**
 * Reads GITHUB_OUTPUT as strictly as the runner should see it: nothing but `name<<ghadelimiter_<uuid>` blocks,
 * each closed by its own delimiter. A stray line (an injected `name=value`) fails.
 */
function strictOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const header = /^([a-z][a-z0-9-]*)<<(ghadelimiter_[0-9a-f-]{36})$/.exec(lines[i] ?? '');
    if (!header) throw new Error(`line ${i + 1} of GITHUB_OUTPUT is not a heredoc header: ${JSON.stringify(lines[i])}`);
    const [, name = '', delimiter] = header;
    const value: string[] = [];
    for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i] ?? '');
    if (i >= lines.length) throw new Error(`output ${name} is never closed`);
    if (name in outputs) throw new Error(`output ${name} is written twice`);
    outputs[name] = value.join('\n');
  }
  return outputs;
}

async function step(action: string, inputs: Record<string, string>, extra: NodeJS.ProcessEnv = {}) {
  const dir = tempDir(`golden-image-output-${action}-`);
  const output = join(dir, 'output');
  writeFileSync(output, '');
  writeFileSync(join(dir, 'summary'), '');
  const result = await runBundledAction(action, inputs, {
    env: { ...env, ...extra, GITHUB_OUTPUT: output, GITHUB_STEP_SUMMARY: join(dir, 'summary'), RUNNER_TEMP: dir },
  }).catch((error: Error) => ({ exitCode: -1, outputs: {}, summary: '', log: error.message }));
  const raw = (() => {
    try {
      return readFileSync(output, 'utf8');
    } catch {
      return '';
    }
  })();
  return { ...result, raw, strict: strictOutputs(raw), lenient: parseOutputFile(raw) };
}

const writes = () => registry.requests(/"(PUT|POST|PATCH|DELETE) \/v2\//).length;

describe('a newline in an input cannot add a line to GITHUB_OUTPUT', () => {
  test('build-oci: build-args "digest=…" and "result=pass" lines are build args, not outputs', async () => {
    const result = await step('build-oci', {
      context: SAMPLE_IMAGE,
      builder: 'buildx',
      'build-args': `A=1\ndigest=${EVIL}\nresult=pass`,
    });
    expect(result.exitCode).toBe(0);
    expect(Object.keys(result.strict).sort()).toEqual(['digest', 'layout-path', 'metadata', 'platforms']);
    expect(result.lenient).toEqual(result.strict);
    const layoutPath = result.strict['layout-path'] ?? '';
    const index = JSON.parse(readFileSync(join(layoutPath, 'index.json'), 'utf8')) as {
      manifests: { digest: string }[];
    };
    expect(result.strict.digest).toBe(index.manifests[0]?.digest);
    expect(result.strict.digest).not.toBe(EVIL);
  });

  test('scan-layout: a sarif-file path holding newlines and "digest=…" is refused; no output is written', async () => {
    const workspace = tempDir('golden-image-output-ws-');
    const sarif = `out.sarif\ndigest=${EVIL}\nresult=pass`;
    const result = await step(
      'scan-layout',
      { 'layout-path': layout.path, digest: layout.digest, 'install-tools': 'false', 'sarif-file': sarif },
      { GITHUB_WORKSPACE: workspace },
    );
    expect(result.exitCode).toBe(1);
    expect(result.log).toContain('Input "sarif-file"');
    expect(result.strict).toEqual({});
    expect(result.lenient).toEqual({});
  });

  test('push-layout: two tags give one two-line "tags" output, in heredoc form', async () => {
    const image = `${registry.host}/output/app`;
    const result = await step('push-layout', {
      'layout-path': layout.path,
      digest: layout.digest,
      image,
      tags: 'sha-0a1b2c3\nv1.2.3',
      'tls-verify': 'false',
    });
    expect(result.exitCode).toBe(0);
    expect(result.strict).toEqual({
      digest: layout.digest,
      'image-ref': `${image}@${layout.digest}`,
      tags: `${image}:sha-0a1b2c3\n${image}:v1.2.3`,
      platforms: expect.any(String),
    });
    expect(result.lenient).toEqual(result.strict);
  });

  test.each([
    ['push-layout', 'tags', `sha-1\ndigest=${EVIL}`],
    ['push-layout', 'tags', 'sha-1\nimage-ref<<EOF\nevil\nEOF'],
    ['promote-tags', 'tags', `latest\ndigest<<ghadelimiter_${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(12)}`],
    ['chain', 'tags', `sha-1\n::set-output name=digest::${EVIL}`],
  ])('%s %s %j: refused, nothing written to GITHUB_OUTPUT, nothing pushed', async (action, input, value) => {
    const before = writes();
    const image = `${registry.host}/output/refused`;
    const inputs: Record<string, string> = {
      'push-layout': { 'layout-path': layout.path, digest: layout.digest, image, 'tls-verify': 'false' },
      'promote-tags': { image, digest: layout.digest, 'require-signature': 'false', 'tls-verify': 'false' },
      chain: { image, context: SAMPLE_IMAGE, builder: 'buildah', sign: 'false', 'tls-verify': 'false' },
    }[action] as Record<string, string>;
    const result = await step(action, { ...inputs, [input]: value });
    expect(result.exitCode).toBe(1);
    expect(result.log).toMatch(new RegExp(`::error::.*Input "${input}": tag .* is not valid`));
    expect(result.raw).toBe('');
    expect(writes()).toBe(before);
  });

  // Regression test for a fixed bug (packages/testkit/src/local-runner.ts:38): runBundledAction('.') runs
  // dist/golden-image/index.js, but the root action.yml runs dist/chain/index.js and `npm run bundle` writes no
  // dist/golden-image, so the root action cannot be run "as the runner runs it". Fixed by: map '.' to the
  // `runs.main` of the root action.yml (dist/chain/index.js).
  test("runBundledAction('.') runs the root action's bundle", async () => {
    const result = await step('.', {});
    expect(result.log).toContain('Input "image": is required');
  });
});
