// `npm run bench -- workflow [runs]`: the README's Quick start (the reusable workflow: plan, repository gates, one
// build job per platform, merge, scan, push, sign, attest, promote) beside the root action in one job, both run by
// act on this machine with the same tools, registry and two-platform image, and where the difference goes.
import {
  callerRepository,
  type JobRun,
  runWorkflow,
  sampleImageFiles,
  startWorkflowEnvironment,
  type WorkflowEnvironment,
  type WorkflowRun,
} from '@golden-image/testkit';

const REUSABLE = (image: string) => `name: publish
on: [push]
jobs:
  publish:
    permissions: { contents: read, packages: write, id-token: write }
    uses: golden-image/golden-image/.github/workflows/docker-publish.yml@v1
    with:
      image: \${{ vars.REGISTRY }}/${image}
`;

const ROOT_ACTION = (image: string) => `name: release
on: [push]
jobs:
  release:
    runs-on: ubuntu-24.04
    permissions: { contents: read, packages: write, id-token: write }
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683
      - uses: docker/setup-buildx-action@37fe631027851001ddb9b187196cc803df7f5f0e
      - name: The private Sigstore instance's CA chain
        env:
          CHAIN: \${{ vars.GOLDEN_IMAGE_CERTIFICATE_CHAIN }}
        run: printf '%s\\n' "$CHAIN" > golden-image-certificate-chain.pem
      - uses: golden-image/golden-image@v1
        with:
          image: \${{ vars.REGISTRY }}/${image}
          platforms: linux/amd64,linux/arm64
          cache-from: none
          cache-to: none
          tls-verify: 'false'
          install-tools: 'false'
          db-repository: \${{ vars.GOLDEN_IMAGE_DB_REPOSITORY }}
          java-db-repository: \${{ vars.GOLDEN_IMAGE_JAVA_DB_REPOSITORY }}
          osv-offline-db: \${{ vars.GOLDEN_IMAGE_OSV_OFFLINE_DB }}
          fulcio-url: \${{ vars.GOLDEN_IMAGE_FULCIO_URL }}
          transparency-log: 'false'
          ct-log: 'false'
          certificate-chain: golden-image-certificate-chain.pem
`;

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const span = (run: WorkflowRun) =>
  Math.max(...run.jobs.map((job) => job.endedAt)) - Math.min(...run.jobs.map((job) => job.startedAt));

/** What a job spent on each kind of work, from act's own step timings. */
function kinds(job: JobRun): Record<string, number> {
  const out: Record<string, number> = { setup: 0, transfer: 0, checks: 0, work: 0 };
  for (const step of job.steps) {
    const kind = /^(Set up job|Complete job)$|Check out|^actions\/checkout/.test(step.name)
      ? 'setup'
      : /artifact|Upload|Download|Fetch the evidence|Hand the evidence/i.test(step.name)
        ? 'transfer'
        : /^Check |Pair each layout|Merge the platforms/.test(step.name)
          ? 'checks'
          : 'work';
    out[kind] = (out[kind] ?? 0) + step.ms;
  }
  return out;
}

async function once(env: WorkflowEnvironment, workflow: string, image: string): Promise<WorkflowRun> {
  const repo = callerRepository(`acme/${image.replace('/', '-')}`, {
    ...sampleImageFiles(),
    '.github/workflows/caller.yml': workflow,
  });
  const run = await runWorkflow({
    caller: repo,
    workflow: 'caller.yml',
    event: 'push',
    payload: {
      ref: 'refs/heads/main',
      after: repo.sha,
      repository: { full_name: repo.repository, default_branch: 'main' },
    },
    vars: env.vars,
    oidc: env.issuer,
    standIns: env.standIns,
  });
  const failed = run.jobs.filter((job) => job.result === 'failure');
  if (run.status !== 0 || failed.length > 0)
    throw new Error(
      `the run failed: ${failed.map((job) => `${job.name}\n  ${job.log.slice(-15).join('\n  ')}`).join('\n')}`,
    );
  return run;
}

export async function benchWorkflow(runs = 2): Promise<string[]> {
  const env = await startWorkflowEnvironment();
  const lines: string[] = [];
  try {
    const reusable: WorkflowRun[] = [];
    const root: WorkflowRun[] = [];
    for (let i = 0; i < runs; i++) {
      reusable.push(await once(env, REUSABLE(`acme/bench-workflow-${i}`), `acme/bench-workflow-${i}`));
      root.push(await once(env, ROOT_ACTION(`acme/bench-root-${i}`), `acme/bench-root-${i}`));
    }
    const a = median(reusable.map(span));
    const b = median(root.map(span));
    lines.push(
      `two platforms, ${runs} run(s) each, median wall time from the first job's start to the last job's end:`,
      `  reusable workflow (Quick start): ${seconds(a)}`,
      `  root action, one job:             ${seconds(b)}`,
      `  ratio:                            ${(a / b).toFixed(2)}`,
      '',
      'the reusable workflow, job by job (last run; jobs of one stage run side by side, two at a time here):',
      '  job                                     | wall  | setup | artifacts | checks | work',
    );
    const last = reusable.at(-1) as WorkflowRun;
    const totals: Record<string, number> = { setup: 0, transfer: 0, checks: 0, work: 0 };
    for (const job of last.jobs) {
      const k = kinds(job);
      for (const [name, ms] of Object.entries(k)) totals[name] = (totals[name] ?? 0) + ms;
      const name = job.name.split('/').slice(2).join('/') || job.name;
      lines.push(
        `  ${name.slice(0, 40).padEnd(40)}| ${seconds(job.endedAt - job.startedAt).padStart(5)} | ${seconds(k.setup ?? 0).padStart(5)} | ${seconds(k.transfer ?? 0).padStart(9)} | ${seconds(k.checks ?? 0).padStart(6)} | ${seconds(k.work ?? 0)}`,
      );
    }
    lines.push(
      `  summed over the jobs: setup ${seconds(totals.setup ?? 0)}, artifact transfer ${seconds(totals.transfer ?? 0)}, repeated verification ${seconds(totals.checks ?? 0)}, the work itself ${seconds(totals.work ?? 0)}`,
    );
    const rootJob = (root.at(-1) as WorkflowRun).jobs[0] as JobRun;
    const rk = kinds(rootJob);
    lines.push(
      `  the root action's job: setup ${seconds(rk.setup ?? 0)}, the work itself ${seconds(rk.work ?? 0)} (its summary times each step)`,
    );
    return lines;
  } finally {
    await env.stop();
  }
}
