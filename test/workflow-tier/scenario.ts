// What the workflow-tier scenarios share: a caller's repository as the README writes one, the events GitHub sends,
// and what reached the registry, read back with skopeo.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  type CallerRepository,
  callerRepository,
  type JobRun,
  runWorkflow,
  sampleImageFiles,
  type WorkflowEnvironment,
  type WorkflowRun,
  type WorkflowRunOptions,
} from '@golden-image/testkit';
import { parse } from 'yaml';

export const OWNER_REPO = 'acme/app';
export { sampleImageFiles };

/** A caller job that shows the reusable workflow's outputs in its summary, where the scenarios read them. */
export const REPORT_JOB = (needs: string) => `
  report:
    needs: ${needs}
    if: always()
    runs-on: ubuntu-24.04
    permissions: {}
    steps:
      - name: The outputs
        env:
          OUTPUTS: \${{ toJSON(needs.${needs}.outputs) }}
        run: printf '<outputs>%s</outputs>\\n' "$OUTPUTS" >> "$GITHUB_STEP_SUMMARY"
`;

const indent = (text: string, by: string) =>
  text
    .trim()
    .split('\n')
    .map((line) => `${by}${line}`)
    .join('\n');

/**
 * A caller of docker-publish.yml as the README writes one, with these `with:` and `secrets:` lines, the report job,
 * and any jobs of its own (`jobs`, YAML at the level of a job).
 */
export function callerOf(
  options: { with?: string; secrets?: string; permissions?: string; on?: string; jobs?: string } = {},
): string {
  const permissions = options.permissions ?? 'contents: read, packages: write, id-token: write';
  return [
    'name: publish',
    `on: ${options.on ?? "\n  push:\n  pull_request:\n  schedule:\n    - cron: '0 3 * * *'\n  workflow_dispatch:"}`,
    'jobs:',
    '  publish:',
    `    permissions: { ${permissions} }`,
    '    uses: golden-image/golden-image/.github/workflows/docker-publish.yml@v1',
    ...(options.with ? ['    with:', indent(options.with, '      ')] : []),
    ...(options.secrets ? ['    secrets:', indent(options.secrets, '      ')] : []),
    REPORT_JOB('publish'),
    ...(options.jobs ? [indent(options.jobs, '  ')] : []),
    '',
  ].join('\n');
}

/** A `run:` step (YAML at step level) that waits for the run's first artifact whose name matches a jq test. */
export function waitForArtifactStep(test: string, interval = 1): string {
  return `- name: Wait for an artifact of the run
  id: wait
  run: |
    for i in $(seq 1 600); do
      list="$(curl -sf -H "Authorization: Bearer $ACTIONS_RUNTIME_TOKEN" "\${ACTIONS_RUNTIME_URL}_apis/pipelines/workflows/\${GITHUB_RUN_ID}/artifacts?api-version=6.0-preview" || true)"
      name="$(jq -r '.value[]?.name | select(${test})' <<< "$list" 2>/dev/null | head -n 1)"
      if [ -n "$name" ]; then echo "name=$name" >> "$GITHUB_OUTPUT"; exit 0; fi
      sleep ${interval}
    done
    exit 1`;
}

/** The workflow outputs the report job wrote. */
export function reportedOutputs(run: WorkflowRun): Record<string, string> {
  const summary = run.job('report').summary;
  const match = /<outputs>([\s\S]*)<\/outputs>/.exec(summary);
  if (!match) throw new Error(`no outputs in the report job's summary:\n${summary}\n${failureText(run)}`);
  return JSON.parse(match[1] as string) as Record<string, string>;
}

export function caller(workflow: string, files: Record<string, string> = sampleImageFiles(), branch = 'main') {
  return callerRepository(OWNER_REPO, { ...files, '.github/workflows/caller.yml': workflow }, { branch });
}

/** The event payloads GitHub sends, with what the workflows read from them. */
export function payload(event: string, repo: CallerRepository, extra: Record<string, unknown> = {}) {
  const repository = { full_name: repo.repository, default_branch: 'main', name: repo.repository.split('/')[1] };
  const ref = `refs/heads/${repo.branch}`;
  switch (event) {
    case 'push':
      return { ref, before: '0'.repeat(40), after: repo.sha, repository, ...extra };
    case 'pull_request':
      return {
        action: 'opened',
        number: 7,
        pull_request: { number: 7, head: { ref: repo.branch, sha: repo.sha }, base: { ref: 'main' } },
        repository,
        ...extra,
      };
    case 'schedule':
      return { schedule: '0 3 * * *', ...extra };
    case 'workflow_dispatch':
      return { ref, inputs: {}, repository, ...extra };
    default:
      return { repository, ...extra };
  }
}

/** Runs the caller's workflow with this environment's registries, tools, token endpoint and variables. */
export function run(
  env: WorkflowEnvironment,
  repo: CallerRepository,
  event: string,
  options: Partial<WorkflowRunOptions> = {},
): Promise<WorkflowRun> {
  return runWorkflow({
    caller: repo,
    workflow: 'caller.yml',
    event,
    payload: payload(event, repo),
    vars: env.vars,
    oidc: env.issuer,
    standIns: env.standIns,
    ...options,
  });
}

/** The jobs that failed, with their last lines: what a failing expectation prints. */
export function failureText(run: WorkflowRun): string {
  return run.jobs
    .map(
      (job) => `${job.name}: ${job.result}${job.result === 'failure' ? `\n  ${job.log.slice(-25).join('\n  ')}` : ''}`,
    )
    .join('\n');
}

/** Fails with the failed jobs' last lines unless every job that ran succeeded and act exited 0. */
export function expectSucceeded(run: WorkflowRun): void {
  const failed = run.jobs.filter((job) => job.result === 'failure');
  if (run.status !== 0 || failed.length > 0)
    throw new Error(`the run failed (act exit code ${run.status}):\n${failureText(run)}`);
}

/** Each job's result by the name after the caller job (`publish/docker-publish/sign image` -> `sign image`). */
export function results(run: WorkflowRun): Record<string, string> {
  return Object.fromEntries(run.jobs.map((job) => [job.name.split('/').slice(2).join('/') || job.name, job.result]));
}

export function stepRan(job: JobRun, name: RegExp): boolean {
  return job.steps.some((step) => name.test(step.name) && step.stage === 'Main' && step.result !== 'skipped');
}

/** What the registry holds, read with skopeo (plain HTTP to the local registries, with credentials when given). */
export class RegistryView {
  /** `address`: read a registry that answers to a real host's name at this loopback address instead. */
  constructor(
    private readonly creds?: { username: string; password: string },
    private readonly address?: string,
  ) {}

  private at(reference: string): string {
    return this.address ? `${this.address}:443${reference.slice(reference.indexOf('/'))}` : reference;
  }

  private skopeo(args: string[]): { status: number; stdout: string; stderr: string } {
    const creds = this.creds ? ['--creds', `${this.creds.username}:${this.creds.password}`] : [];
    const result = spawnSync('skopeo', [args[0] as string, '--tls-verify=false', ...creds, ...args.slice(1)], {
      encoding: 'utf8',
    });
    return { status: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
  }

  tags(repository: string): string[] {
    const result = this.skopeo(['list-tags', `docker://${this.at(repository)}`]);
    if (result.status !== 0) return [];
    return ((JSON.parse(result.stdout) as { Tags: string[] }).Tags ?? []).sort();
  }

  /** The digest a reference resolves to (of the raw manifest or index), or undefined. */
  digest(reference: string): string | undefined {
    const creds = this.creds ? ['--creds', `${this.creds.username}:${this.creds.password}`] : [];
    try {
      const raw = execFileSync(
        'skopeo',
        ['inspect', '--raw', '--tls-verify=false', ...creds, `docker://${this.at(reference)}`],
        {
          stdio: ['ignore', 'pipe', 'ignore'],
        },
      );
      return `sha256:${createHash('sha256').update(raw).digest('hex')}`;
    } catch {
      return undefined;
    }
  }

  /** The index (or manifest) a reference resolves to. */
  manifest(reference: string): {
    mediaType?: string;
    manifests?: { digest: string; platform?: { os: string; architecture: string } }[];
  } {
    const result = this.skopeo(['inspect', '--raw', `docker://${this.at(reference)}`]);
    return JSON.parse(result.stdout) as ReturnType<RegistryView['manifest']>;
  }
}

/** The platforms of an index, attestation manifests left out. */
export function platformsOf(index: ReturnType<RegistryView['manifest']>): string[] {
  return (index.manifests ?? [])
    .map((entry) => `${entry.platform?.os}/${entry.platform?.architecture}`)
    .filter((platform) => platform !== 'unknown/unknown')
    .sort();
}

/** The caller workflow file as YAML, for scenarios that check what they ran. */
export function workflowOf(repo: CallerRepository): { jobs: Record<string, unknown> } {
  return parse(execFileSync('cat', [`${repo.dir}/.github/workflows/caller.yml`], { encoding: 'utf8' })) as {
    jobs: Record<string, unknown>;
  };
}
