// `npm run workflow -- <caller.yml> [event]`: runs a caller workflow through nektos/act on this machine, the way
// the workflow tier does, so a team can try the reusable workflow on its own Dockerfile before pushing:
// - the caller's repository is the one the file stands in (its work tree as it is, uncommitted changes included);
// - `golden-image/golden-image/...@<any ref>` is this checkout;
// - a local registry (its address reaches the caller as `${{ vars.REGISTRY }}`, and is the default image's
//   registry), the project's offline Trivy and OSV databases, BuildKit, a GitHub-shaped OIDC token endpoint and a
//   real Fulcio, so the whole chain runs, signing included.
// At the end it prints each job's result and, for every image pushed, the digest and the tags that point at it.
// It needs the real tools (`npm run tools:real`), root (BuildKit), and skopeo, runc and the docker CLI from apt.
import './own-tmpdir.ts';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import {
  callerRepository,
  describeRun,
  REGISTRY_USER,
  runWorkflow,
  startWorkflowEnvironment,
  type TestRegistry,
} from '@golden-image/testkit';

const [file, event = 'push'] = process.argv.slice(2);
if (!file || !existsSync(file)) {
  console.error(
    'usage: npm run workflow -- <path to a caller workflow .yml> [push|pull_request|schedule|workflow_dispatch]',
  );
  process.exit(2);
}

const path = resolve(file);
let root: string;
try {
  root = execFileSync('git', ['-C', dirname(path), 'rev-parse', '--show-toplevel'], { encoding: 'utf8' }).trim();
} catch {
  root = resolve(dirname(path), '..', '..');
}
const origin = (() => {
  try {
    return execFileSync('git', ['-C', root, 'remote', 'get-url', 'origin'], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
})();
const repository = /github\.com[:/]([^/]+\/[^/.]+)(\.git)?$/.exec(origin)?.[1] ?? `local/${basename(root)}`;
const branch = (() => {
  try {
    return execFileSync('git', ['-C', root, 'rev-parse', '--abbrev-ref', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'main';
  }
})();

console.log(
  `Running ${relative(process.cwd(), path)} (${event}) as ${repository} on ${branch}: starting the local services...`,
);
const env = await startWorkflowEnvironment();
// What the local registries hold before the run (the Trivy DB, BuildKit's SBOM generator) is not the run's.
const before = new Set([env.registry, env.privateRegistry].flatMap((registry) => catalog(registry)));
let status = 1;
try {
  const files = execFileSync('git', ['-C', root, 'ls-files', '-co', '--exclude-standard', '-z'], { encoding: 'utf8' })
    .split('\0')
    .filter(Boolean);
  const tree = Object.fromEntries(
    files.filter((name) => existsSync(join(root, name))).map((name) => [name, readFileSync(join(root, name))]),
  );
  const workflow = basename(path);
  const repo = callerRepository(
    repository,
    { ...tree, [`.github/workflows/${workflow}`]: readFileSync(path, 'utf8') },
    { branch: branch === 'HEAD' ? 'main' : branch },
  );
  const repoInfo = { full_name: repository, default_branch: 'main', name: repository.split('/')[1] };
  const payload =
    event === 'pull_request'
      ? {
          number: 1,
          pull_request: { number: 1, head: { ref: repo.branch, sha: repo.sha }, base: { ref: 'main' } },
          repository: repoInfo,
        }
      : event === 'schedule'
        ? { schedule: '0 3 * * *' }
        : { ref: `refs/heads/${repo.branch}`, after: repo.sha, repository: repoInfo };
  const result = await runWorkflow({
    caller: repo,
    workflow,
    event,
    payload,
    vars: env.vars,
    oidc: env.issuer,
    standIns: env.standIns,
  });
  for (const job of result.jobs.filter((job) => job.result === 'failure'))
    console.log(`\n${job.name} failed; its last lines:\n  ${job.log.slice(-20).join('\n  ')}`);
  console.log('\nJobs:');
  console.log(describeRun(result).replace(/^/gm, '  '));
  console.log('\nImages pushed:');
  for (const registry of [env.registry, env.privateRegistry]) printImages(registry);
  status = result.status;
} finally {
  await env.stop();
}
process.exit(status);

function credentials(registry: TestRegistry): string[] {
  return registry === env.privateRegistry ? ['--creds', `${REGISTRY_USER.username}:${REGISTRY_USER.password}`] : [];
}

/** The registry's repositories, as `host/name`. */
function catalog(registry: TestRegistry): string[] {
  const auth = credentials(registry);
  try {
    const response = execFileSync(
      'curl',
      ['-sf', ...(auth.length ? ['-u', auth[1] as string] : []), `http://127.0.0.1:${registry.port}/v2/_catalog`],
      { encoding: 'utf8' },
    );
    const names = (JSON.parse(response) as { repositories?: string[] }).repositories ?? [];
    return names.map((name) => `${registry.host}/${name}`);
  } catch {
    return [];
  }
}

function printImages(registry: TestRegistry): void {
  const auth = credentials(registry);
  for (const ref of catalog(registry).filter((name) => !before.has(name))) {
    const listed = execFileSync('skopeo', ['list-tags', '--tls-verify=false', ...auth, `docker://${ref}`], {
      encoding: 'utf8',
    });
    const tags = (JSON.parse(listed) as { Tags: string[] }).Tags.filter((tag) => !/^sha256-/.test(tag));
    const byDigest = new Map<string, string[]>();
    for (const tag of tags) {
      const raw = execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', ...auth, `docker://${ref}:${tag}`]);
      const digest = `sha256:${createHash('sha256').update(raw).digest('hex')}`;
      byDigest.set(digest, [...(byDigest.get(digest) ?? []), tag]);
    }
    for (const [digest, names] of byDigest) console.log(`  ${ref}@${digest}  ${names.sort().join(', ')}`);
  }
}
