// A hostile branch name reaches sign-digest through the OIDC token: git allows $, (, ), `, ;, | and ' in ref names,
// so `refs/heads/x$(touch${IFS}…)` is a branch anyone with push access can create. The identity lands in the
// verify-command output (which users paste into a shell), the Kyverno policy and the summary; none may run it.
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildLayout, startRegistry, type TestRegistry, tempDir } from '@golden-image/testkit';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { parse } from 'yaml';
import { useDoublesOnPath } from '../doubles/lib/harness.js';
import { directClaims, startTokenServer, type TokenServer } from '../fixtures/signing/oidc.js';
import { doublesEnv, markerDir, runInProcess } from './harness.js';

let registry: TestRegistry;
let server: TokenServer;
let restorePath: () => void;
const marker = markerDir();
const branch = `x$(touch\${IFS}${join(marker.dir, 'subst')})'\`touch\${IFS}${join(marker.dir, 'tick')}\`;touch\${IFS}${join(marker.dir, 'semi')}|x`;
const jobWorkflowRef = `octo-org/app/.github/workflows/release.yml@refs/heads/${branch}`;

beforeAll(async () => {
  restorePath = useDoublesOnPath();
  registry = await startRegistry();
  server = await startTokenServer({
    ...directClaims(),
    workflow_ref: jobWorkflowRef,
    job_workflow_ref: jobWorkflowRef,
  });
});
afterAll(async () => {
  restorePath?.();
  await Promise.all([registry?.stop(), server?.close()]);
});

test('a branch name full of shell payloads: signed, and the verify-command runs cosign with that exact identity, executing nothing', async () => {
  const dir = tempDir('golden-image-identity-');
  const built = await buildLayout(dir, { platforms: ['linux/amd64'], attestations: false });
  const env = doublesEnv(tempDir('golden-image-identity-logs-'), server.env);
  const image = `${registry.host}/identity/app`;
  const run = await runInProcess(
    'sign-digest',
    { image, digest: built.digest, 'install-tools': 'false', 'tls-verify': 'false' },
    env,
  );
  expect(run.error).toBeUndefined();
  const identity = `https://github.com/${jobWorkflowRef}`;
  expect(run.recorded.outputs['certificate-identity']).toBe(identity);

  // Paste the printed command into a shell, with a cosign that only records its argv.
  const fakeBin = tempDir('golden-image-identity-bin-');
  const argvFile = join(fakeBin, 'argv.json');
  writeFileSync(
    join(fakeBin, 'cosign'),
    `#!/usr/bin/env node\nrequire('node:fs').writeFileSync(${JSON.stringify(argvFile)}, JSON.stringify(process.argv.slice(2)));\n`,
  );
  chmodSync(join(fakeBin, 'cosign'), 0o755);
  execFileSync('sh', ['-c', run.recorded.outputs['verify-command'] ?? ''], {
    env: { ...process.env, PATH: `${fakeBin}:${process.env.PATH}` },
  });
  const argv = JSON.parse(readFileSync(argvFile, 'utf8')) as string[];
  expect(argv[argv.indexOf('--certificate-identity') + 1]).toBe(identity);
  expect(argv.at(-1)).toBe(`${image}@${built.digest}`);

  // The admission policy carries the identity as one literal string (or its escaped regular expression).
  const policy = parse(readFileSync(run.recorded.outputs['kyverno-policy'] ?? '', 'utf8')) as {
    spec: { rules: { verifyImages: { attestors: { entries: { keyless: Record<string, string> }[] }[] }[] }[] };
  };
  const keyless = policy.spec.rules[0]?.verifyImages[0]?.attestors[0]?.entries[0]?.keyless ?? {};
  expect(keyless.subject ?? new RegExp(keyless.subjectRegExp ?? '^$').test(identity)).toBeTruthy();
  if (keyless.subject) expect(keyless.subject).toBe(identity);
  // The summary shows it inside one intact code span (single backticks in the value are fenced by two).
  expect(codeSpans(run.recorded.summary)).toContain(identity);
  expect(marker.touched()).toEqual([]);
});

/** The code spans of a markdown text, by the CommonMark rule: a run of n backticks closes at the next run of exactly n. */
function codeSpans(markdown: string): string[] {
  const spans: string[] = [];
  const runs = [...markdown.matchAll(/`+/g)].map((m) => ({ at: m.index ?? 0, length: m[0].length }));
  for (let i = 0; i < runs.length; i++) {
    const open = runs[i] as { at: number; length: number };
    const close = runs.findIndex((run, j) => j > i && run.length === open.length);
    if (close === -1) continue;
    const end = runs[close] as { at: number; length: number };
    let content = markdown.slice(open.at + open.length, end.at);
    if (content.startsWith(' ') && content.endsWith(' ') && content.trim() !== '') content = content.slice(1, -1);
    // In a GFM table cell a pipe is escaped even inside a code span, and renders as a pipe.
    spans.push(content.replace(/\\\|/g, '|'));
    i = close;
  }
  return spans;
}

// Regression test for a fixed bug (packages/kit/src/summary.ts, code()): the fence is two backticks whenever
// the value holds any, so a value holding a run of exactly two backticks closes the span early and the rest
// renders as markdown. A branch name (git allows backticks) then injects markdown into the job summary through
// the certificate identity: here an image that loads from any host. Fixed by: fence with one backtick more than
// the longest run in the value, and pad with a space on both sides when the value starts or ends with a
// backtick (CommonMark code spans).
test('a branch name holding `` stays inside its code span in the job summary', async () => {
  const injected = 'x``![pwned](https://evil.example/p.png)``y';
  const ref = `octo-org/app/.github/workflows/release.yml@refs/heads/${injected}`;
  const tokens = await startTokenServer({ ...directClaims(), workflow_ref: ref, job_workflow_ref: ref });
  try {
    const dir = tempDir('golden-image-identity-md-');
    const built = await buildLayout(dir, { platforms: ['linux/amd64'], attestations: false });
    const env = doublesEnv(tempDir('golden-image-identity-md-logs-'), tokens.env);
    const run = await runInProcess(
      'sign-digest',
      { image: `${registry.host}/identity/md`, digest: built.digest, 'install-tools': 'false', 'tls-verify': 'false' },
      env,
    );
    expect(run.error).toBeUndefined();
    expect(codeSpans(run.recorded.summary)).toContain(`https://github.com/${ref}`);
  } finally {
    await tokens.close();
  }
});
