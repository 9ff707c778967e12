// Runs a caller's workflow through nektos/act on the host, as GitHub would run it: the reusable workflows of this
// checkout (one commit, see repositories.ts), third-party actions replaced by the project's stand-ins, act's
// artifact and cache servers on loopback, and an OIDC token endpoint that gives a token only to jobs granted
// id-token: write.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { tempDir } from '../fixtures.js';
import type { OidcIssuer } from '../oidc-issuer.js';
import { realToolsBin } from '../real-tools.js';
import { freePort } from '../registry.js';
import { type CallerContext, jobClaims, resolveJob } from './permissions.js';
import { type CallerRepository, goldenImageSnapshot, type Snapshot } from './repositories.js';
import type { StandInConfig } from './stand-in-config.js';
import { bundleStandIns } from './stand-ins.js';

/** Runner labels the workflows and examples use; act runs all of them on this host. */
const LABELS = ['ubuntu-24.04', 'ubuntu-24.04-arm', 'ubuntu-latest', 'ubuntu-22.04'];
const GOLDEN_IMAGE = 'golden-image/golden-image';

export interface WorkflowRunOptions {
  caller: CallerRepository;
  /** File name under the caller's .github/workflows. */
  workflow: string;
  event: string;
  /** The event payload (act -e). */
  payload?: Record<string, unknown>;
  /** Only this job of the caller (act -j), with what it needs. */
  job?: string;
  vars?: Record<string, string>;
  secrets?: Record<string, string>;
  /** The runner machine's own environment, seen by every step (act on the host passes its environment on). */
  runnerEnv?: Record<string, string>;
  /** The token endpoint; absent: no token for any job (a fork's pull request, Dependabot). */
  oidc?: OidcIssuer;
  standIns: Omit<StandInConfig, 'repositories' | 'sarifDir'> & Partial<Pick<StandInConfig, 'repositories'>>;
  /** Kept across runs to play a later run or attempt against the same caches and artifacts. */
  state?: { artifacts: string; cache: string };
  /**
   * Host names the runner resolves to these addresses (a cloud registry's host -> 127.0.0.1): act runs in a mount
   * namespace of its own whose /etc/hosts has them (root only). Nothing outside the run sees them.
   */
  hosts?: Record<string, string>;
  /** golden-image itself; default: this checkout as one commit. */
  snapshot?: Snapshot;
  timeoutMs?: number;
}

export interface StepRun {
  name: string;
  stage: string;
  result: string;
  /** How long it ran, as act measured it. */
  ms: number;
}

export interface JobRun {
  /** act's name for the job: `<caller job>/<workflow name>/<job name>` for a reusable workflow's job. */
  name: string;
  id: string;
  matrix: Record<string, unknown>;
  result: string;
  steps: StepRun[];
  /** Step outputs as they were set, by output name (the last value wins). */
  outputs: Record<string, string>;
  summary: string;
  log: string[];
  /** The first and the last line act logged for the job (epoch ms). */
  startedAt: number;
  endedAt: number;
}

export interface WorkflowRun {
  status: number;
  jobs: JobRun[];
  /** The one job whose name matches; throws when none or several do. */
  job(name: string | RegExp): JobRun;
  /** Every line act printed, as text, for a failure message. */
  text: string;
  /** Where upload-sarif put what it uploaded. */
  sarifDir: string;
  state: { artifacts: string; cache: string };
}

interface LogLine {
  job?: string;
  jobID?: string;
  matrix?: Record<string, unknown>;
  msg?: string;
  step?: string;
  stage?: string;
  stepResult?: string;
  jobResult?: string;
  command?: string;
  name?: string;
  arg?: string;
  content?: string;
  raw_output?: boolean;
  time?: string;
  /** nanoseconds */
  executionTime?: number;
}

/** `uses:` references to golden-image in the caller's workflows (workflows and actions), by ref. */
function goldenImageRefs(callerDir: string, workflow: string): string[] {
  const text = readFileSync(join(callerDir, '.github', 'workflows', workflow), 'utf8');
  const refs = new Set<string>();
  for (const match of text.matchAll(/golden-image\/golden-image[^@\s]*@([^\s#'"]+)/g)) refs.add(match[1] as string);
  return [...refs];
}

export async function runWorkflow(options: WorkflowRunOptions): Promise<WorkflowRun> {
  const act = join(realToolsBin, 'act');
  const snapshot = options.snapshot ?? goldenImageSnapshot();
  const runDir = tempDir('golden-image-act-');
  const state = options.state ?? { artifacts: join(runDir, 'artifacts'), cache: join(runDir, 'cache') };
  const home = join(runDir, 'home');
  const sarifDir = join(runDir, 'sarif');
  for (const dir of [state.artifacts, state.cache, home, sarifDir]) mkdirSync(dir, { recursive: true });

  const refs = goldenImageRefs(options.caller.dir, options.workflow);
  const config: StandInConfig = {
    ...options.standIns,
    repositories: {
      [GOLDEN_IMAGE]: snapshot.dir,
      [options.caller.repository]: options.caller.dir,
      ...options.standIns.repositories,
    },
    sarifDir,
  };
  // The runner's own containers config: skopeo and buildah speak plain HTTP to the local registries (cosign,
  // Trivy and BuildKit do so for localhost by themselves). Each job has a HOME of its own (act is patched so), and
  // skopeo 1.9 reads no variable naming the file, so it is the machine's /etc/containers/registries.conf, in the
  // run's own mount namespace (see below).
  const insecure = Object.entries(config.registries).filter(([, registry]) => !registry.tls);
  const registriesConf = join(runDir, 'registries.conf');
  writeFileSync(
    registriesConf,
    [
      'unqualified-search-registries = []',
      ...insecure.map(([host]) => `[[registry]]\nlocation = ${JSON.stringify(host)}\ninsecure = true`),
      '',
    ].join('\n'),
  );
  const configPath = join(runDir, 'stand-in.json');
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const { localRepositories } = await bundleStandIns(join(runDir, 'stand-ins'), configPath);

  const caller: CallerContext = {
    dir: options.caller.dir,
    repository: options.caller.repository,
    workflowFile: options.workflow,
    ref:
      (options.payload?.ref as string | undefined) ??
      (options.event.startsWith('pull_request')
        ? `refs/pull/${options.payload?.number ?? 1}/merge`
        : `refs/heads/${options.caller.branch}`),
    sha: options.caller.sha,
    remotes: Object.fromEntries(
      refs.flatMap((ref) =>
        ['docker-publish.yml', 'npm-publish.yml'].map((file) => [
          `${GOLDEN_IMAGE}/.github/workflows/${file}@${ref}`,
          { dir: snapshot.dir, sha: snapshot.sha },
        ]),
      ),
    ),
  };
  const tokenEnv = options.oidc?.actionsEnvByJob((env) => {
    const job = resolveJob(caller, env.GITHUB_WORKFLOW ?? '', env.GITHUB_JOB ?? '');
    return job?.idToken ? jobClaims(caller, job, env) : undefined;
  });

  const dotenv = (values: Record<string, string>) =>
    Object.entries(values)
      .map(([key, value]) => `${key}=${JSON.stringify(value)}`)
      .join('\n');
  const varFile = join(runDir, 'vars.env');
  const secretFile = join(runDir, 'secrets.env');
  writeFileSync(varFile, dotenv(options.vars ?? {}));
  writeFileSync(secretFile, dotenv(options.secrets ?? {}), { mode: 0o600 });
  const noEnv = join(runDir, 'none.env');
  writeFileSync(noEnv, '');
  const eventFile = join(runDir, 'event.json');
  writeFileSync(eventFile, JSON.stringify(options.payload ?? {}));

  const args = [
    options.event,
    '--json',
    '-W',
    join(options.caller.dir, '.github', 'workflows', options.workflow),
    '-e',
    eventFile,
    ...LABELS.flatMap((label) => ['-P', `${label}=-self-hosted`]),
    ...(options.job ? ['-j', options.job] : []),
    '--no-skip-checkout',
    '--defaultbranch',
    'main',
    '--artifact-server-addr',
    '127.0.0.1',
    '--artifact-server-port',
    String(await freePort()),
    '--artifact-server-path',
    state.artifacts,
    '--cache-server-addr',
    '127.0.0.1',
    '--cache-server-port',
    String(await freePort()),
    '--cache-server-path',
    state.cache,
    '--action-cache-path',
    join(runDir, 'act-cache'),
    '--var-file',
    varFile,
    '--secret-file',
    secretFile,
    '--env-file',
    noEnv,
    ...refs.flatMap((ref) => ['--local-repository', `${GOLDEN_IMAGE}@${ref}=${snapshot.dir}`]),
    ...localRepositories.flatMap((entry) => ['--local-repository', entry]),
  ];
  const env: NodeJS.ProcessEnv = {
    PATH: [
      realToolsBin,
      dirname(process.execPath),
      '/usr/local/sbin',
      '/usr/local/bin',
      '/usr/sbin',
      '/usr/bin',
      '/sbin',
      '/bin',
    ].join(':'),
    HOME: home,
    LANG: 'C.UTF-8',
    ...tokenEnv,
    ...options.runnerEnv,
  };

  const lines: LogLine[] = [];
  const text: string[] = [];
  const status = await new Promise<number>((resolve, reject) => {
    // act runs in a mount namespace of its own, where the machine's files it changes for this run are bind mounts
    // that nothing outside the run sees: /etc/hosts (with `hosts`) and the containers registries.conf.
    const hostsFile = join(runDir, 'hosts');
    const entries = Object.entries(options.hosts ?? {}).map(([name, address]) => `${address} ${name}`);
    writeFileSync(hostsFile, `${readFileSync('/etc/hosts', 'utf8')}\n${entries.join('\n')}\n`);
    mkdirSync('/etc/containers', { recursive: true });
    if (!existsSync('/etc/containers/registries.conf')) writeFileSync('/etc/containers/registries.conf', '');
    const script =
      'mount --bind "$0" /etc/hosts && mount --bind "$1" /etc/containers/registries.conf && shift && exec "$@"';
    const command = 'unshare';
    const argv = ['--mount', '--propagation', 'private', 'sh', '-c', script, hostsFile, registriesConf, act, ...args];
    const child = spawn(command, argv, {
      cwd: options.caller.dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const timer = setTimeout(() => {
      text.push(`act did not finish in ${options.timeoutMs ?? 1_200_000} ms: killed`);
      process.kill(-(child.pid as number), 'SIGKILL');
    }, options.timeoutMs ?? 1_200_000);
    let buffer = '';
    const take = (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      const parts = buffer.split('\n');
      buffer = parts.pop() ?? '';
      for (const part of parts) {
        if (!part.trim()) continue;
        try {
          const line = JSON.parse(part) as LogLine;
          lines.push(line);
          text.push(`${line.job ? `[${line.job}] ` : ''}${(line.msg ?? '').trimEnd()}`);
        } catch {
          text.push(part);
        }
      }
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (buffer.trim()) text.push(buffer);
      resolve(code ?? 1);
    });
  });

  const jobs = new Map<string, JobRun>();
  for (const line of lines) {
    if (!line.job) continue;
    // act pads names to line up its log
    line.job = line.job.trim();
    let job = jobs.get(line.job);
    if (!job) {
      job = {
        name: line.job,
        id: line.jobID ?? '',
        matrix: line.matrix ?? {},
        result: 'unknown',
        steps: [],
        outputs: {},
        summary: '',
        log: [],
        startedAt: Number.POSITIVE_INFINITY,
        endedAt: 0,
      };
      jobs.set(line.job, job);
    }
    const at = line.time ? Date.parse(line.time) : Number.NaN;
    if (!Number.isNaN(at)) {
      job.startedAt = Math.min(job.startedAt, at);
      job.endedAt = Math.max(job.endedAt, at);
    }
    if (line.jobResult) job.result = line.jobResult;
    if (line.stepResult && line.step)
      job.steps.push({
        name: line.step,
        stage: line.stage ?? '',
        result: line.stepResult,
        ms: (line.executionTime ?? 0) / 1e6,
      });
    if (line.command === 'set-output' && line.name) job.outputs[line.name] = line.arg ?? '';
    if (line.command === 'summary' && line.content) job.summary += line.content;
    if (line.msg) job.log.push(line.msg.trimEnd());
  }
  // act logs the caller job of a reusable workflow too, with no steps and no result of its own.
  const all = [...jobs.values()].filter((job) => job.steps.length > 0 || job.result !== 'unknown');
  return {
    status,
    jobs: all,
    job(name) {
      const found = all.filter((job) =>
        typeof name === 'string' ? job.name === name || job.name.endsWith(`/${name}`) : name.test(job.name),
      );
      if (found.length !== 1)
        throw new Error(
          `${found.length} jobs match ${String(name)}; the run has: ${all.map((job) => job.name).join(', ')}`,
        );
      return found[0] as JobRun;
    },
    text: text.join('\n'),
    sarifDir,
    state,
  };
}

/** A readable one-line-per-job account of a run, for failure messages. */
export function describeRun(run: WorkflowRun): string {
  return run.jobs.map((job) => `${job.name}: ${job.result}`).join('\n');
}

/** The caller workflow's job ids (to check a scenario covers them). */
export function workflowJobs(path: string): string[] {
  return Object.keys((parse(readFileSync(path, 'utf8')) as { jobs: Record<string, unknown> }).jobs);
}
