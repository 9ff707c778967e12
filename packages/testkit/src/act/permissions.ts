// What GitHub decides before a job runs and act does not: which jobs may have an OIDC token, and with which claims.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { githubClaims } from '../oidc-issuer.js';

type Permissions = string | Record<string, string> | undefined;
interface Job {
  name?: string;
  uses?: string;
  permissions?: Permissions;
}
interface Workflow {
  name?: string;
  permissions?: Permissions;
  jobs: Record<string, Job>;
}

const read = (path: string) => parse(readFileSync(path, 'utf8')) as Workflow;

function grants(permissions: Permissions, scope: string, level = 'write'): boolean {
  if (permissions === 'write-all') return true;
  if (typeof permissions !== 'object' || permissions === null) return false;
  return permissions[scope] === level || (level === 'read' && permissions[scope] === 'write');
}

export interface ResolvedJob {
  /** owner/repo/.github/workflows/file.yml@ref of the workflow file the job is defined in. */
  jobWorkflowRef: string;
  jobWorkflowSha: string;
  /** The job's effective grant of id-token: write (the caller job's and the reusable job's permissions both). */
  idToken: boolean;
}

export interface CallerContext {
  /** The caller's repository checkout (workflow files under .github/workflows). */
  dir: string;
  repository: string;
  workflowFile: string;
  ref: string;
  sha: string;
  /** Reusable workflow references (`owner/repo/.github/workflows/x.yml@ref`) -> the directory holding that repository, and its commit. */
  remotes: Record<string, { dir: string; sha: string }>;
}

/**
 * Finds the job asking for a token by the workflow name and job id in its environment (act sets GITHUB_WORKFLOW to
 * the name of the workflow file the job is written in, reusable ones included) and works out its grant and identity.
 */
export function resolveJob(caller: CallerContext, workflowName: string, jobId: string): ResolvedJob | undefined {
  const callerWorkflow = read(join(caller.dir, '.github', 'workflows', caller.workflowFile));
  const callerRef = `${caller.repository}/.github/workflows/${caller.workflowFile}@${caller.ref}`;
  const callerJobPermissions = (job: Job) => job.permissions ?? callerWorkflow.permissions;
  if (
    (callerWorkflow.name ?? caller.workflowFile) === workflowName &&
    callerWorkflow.jobs[jobId] &&
    !callerWorkflow.jobs[jobId]?.uses
  ) {
    const job = callerWorkflow.jobs[jobId] as Job;
    return {
      jobWorkflowRef: callerRef,
      jobWorkflowSha: caller.sha,
      idToken: grants(callerJobPermissions(job), 'id-token'),
    };
  }
  for (const callerJob of Object.values(callerWorkflow.jobs)) {
    if (!callerJob.uses) continue;
    const local = callerJob.uses.startsWith('./');
    const remote = caller.remotes[callerJob.uses];
    if (!local && !remote) continue;
    const path = local
      ? join(caller.dir, callerJob.uses)
      : join(remote?.dir ?? '', callerJob.uses.replace(/^[^/]+\/[^/]+\/(.*)@.*$/, '$1'));
    const called = read(path);
    if ((called.name ?? '') !== workflowName || !called.jobs[jobId]) continue;
    const inner = called.jobs[jobId] as Job;
    // A reusable workflow's job gets at most what the calling job grants; a job without permissions inherits them.
    const outer = callerJobPermissions(callerJob);
    const idToken =
      grants(outer, 'id-token') && (inner.permissions === undefined || grants(inner.permissions, 'id-token'));
    const [, at = ''] = callerJob.uses.split('@');
    const ref = /^[0-9a-f]{40}$/.test(at)
      ? at
      : at.startsWith('refs/')
        ? at
        : /^v\d/.test(at)
          ? `refs/tags/${at}`
          : `refs/heads/${at}`;
    return {
      jobWorkflowRef: local
        ? `${caller.repository}/${callerJob.uses.replace(/^\.\//, '')}@${caller.ref}`
        : `${callerJob.uses.split('@')[0]}@${ref}`,
      jobWorkflowSha: local ? caller.sha : (remote?.sha ?? ''),
      idToken,
    };
  }
  return undefined;
}

/** The claims GitHub puts in a job's token: those of githubClaims, with this run's commits, run and workflow. */
export function jobClaims(
  caller: CallerContext,
  job: ResolvedJob,
  env: Record<string, string>,
): Record<string, string> {
  const ref = env.GITHUB_REF || caller.ref;
  return {
    ...githubClaims({
      repository: caller.repository,
      workflowFile: `.github/workflows/${caller.workflowFile}`,
      reusableWorkflow: job.jobWorkflowRef,
      ref,
      eventName: env.GITHUB_EVENT_NAME || 'push',
    }),
    actor: env.GITHUB_ACTOR || 'octocat',
    sha: env.GITHUB_SHA || caller.sha,
    workflow: env.GITHUB_WORKFLOW || '',
    workflow_sha: caller.sha,
    job_workflow_sha: job.jobWorkflowSha,
    run_id: env.GITHUB_RUN_ID || '1',
    run_number: env.GITHUB_RUN_NUMBER || '1',
    run_attempt: env.GITHUB_RUN_ATTEMPT || '1',
  };
}
