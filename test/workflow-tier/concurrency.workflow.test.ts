// act runs jobs but never evaluates their concurrency groups: these are evaluated here by act's own expression
// engine (packages/testkit/programs/gha-expr), from the workflow file as it is.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluateTemplate, repoRoot } from '@golden-image/testkit';
import { describe, expect, test } from '@jest/globals';
import { parse } from 'yaml';

type Job = { concurrency?: { group: string; 'cancel-in-progress'?: boolean } };
const workflow = parse(readFileSync(join(repoRoot, '.github/workflows/docker-publish.yml'), 'utf8')) as {
  jobs: Record<string, Job>;
};

/** The image job's concurrency group for an event, as GitHub evaluates it before the job starts. */
function imageGroup(event: { event: string; ref: string; push: string; image?: string }): Promise<string> {
  return evaluateTemplate(workflow.jobs.image?.concurrency?.group ?? '', {
    github: { repository: 'acme/app', event_name: event.event, ref: event.ref },
    inputs: { image: event.image ?? '' },
    needs: { plan: { outputs: { push: event.push }, result: 'success' } },
  });
}

describe('concurrency: a pull request never waits in, or cancels, a release of the same image', () => {
  test('pull requests get a group of their own; releases of one image share one and are never cancelled', async () => {
    const release = await imageGroup({ event: 'push', ref: 'refs/heads/main', push: 'true' });
    const nightly = await imageGroup({ event: 'schedule', ref: 'refs/heads/main', push: 'true' });
    const pr7 = await imageGroup({ event: 'pull_request', ref: 'refs/pull/7/merge', push: 'false' });
    const pr8 = await imageGroup({ event: 'pull_request', ref: 'refs/pull/8/merge', push: 'false' });
    expect(release).toBe('docker-publish-acme/app-publish');
    expect(nightly).toBe(release);
    expect(new Set([release, pr7, pr8]).size).toBe(3);
    expect(workflow.jobs.image?.concurrency?.['cancel-in-progress']).toBe(false);
    // another image of the same repository publishes on its own
    expect(
      await imageGroup({ event: 'push', ref: 'refs/heads/main', push: 'true', image: 'ghcr.io/acme/tool' }),
    ).not.toBe(release);
  });
});
