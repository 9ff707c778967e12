// Static checks of the npm reusable workflow and its example caller: the least-privilege split, the hand-off of
// one tarball by integrity, and the release pin. (test/workflows.test.ts checks every workflow's pins and inputs.)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@golden-image/testkit';
import { describe, expect, test } from '@jest/globals';
import { parse } from 'yaml';

type Step = { id?: string; uses?: string; with?: Record<string, unknown>; env?: Record<string, string>; run?: string };
type Job = {
  needs?: string | string[];
  permissions?: Record<string, string>;
  steps?: Step[];
  uses?: string;
  with?: Record<string, unknown>;
  secrets?: Record<string, string>;
};
type Workflow = {
  on: { workflow_call?: { inputs: Record<string, { default?: unknown }>; secrets: Record<string, unknown> } };
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
};

const read = (path: string) => readFileSync(join(repoRoot, path), 'utf8');
const workflow = parse(read('.github/workflows/npm-publish.yml')) as Workflow;
const text = read('.github/workflows/npm-publish.yml');
/** A GitHub expression as written in a workflow. */
const expr = (inner: string) => `\${{ ${inner} }}`;
const stepOf = (job: string, action: string) =>
  workflow.jobs[job]?.steps?.find((step) => step.uses === `./.golden-image/actions/${action}`) as Step;

describe('npm-publish.yml', () => {
  test('code (which golden-image), then pack -> scan -> publish; publish needs the scan to pass', () => {
    expect(Object.keys(workflow.jobs)).toEqual(['code', 'pack', 'scan', 'publish']);
    expect(workflow.jobs.pack?.needs).toBe('code');
    expect(workflow.jobs.scan?.needs).toEqual(['code', 'pack']);
    expect(workflow.jobs.publish?.needs).toEqual(['code', 'pack', 'scan']);
  });

  test('least privilege: only publish gets id-token: write and the npm token; nothing writes contents', () => {
    expect(workflow.permissions).toEqual({ contents: 'read' });
    expect(workflow.jobs.pack?.permissions).toEqual({ contents: 'read' });
    expect(workflow.jobs.scan?.permissions).toEqual({ contents: 'read' });
    expect(workflow.jobs.publish?.permissions).toEqual({ contents: 'read', 'id-token': 'write' });
    // The code job mints a token only to read which commit of golden-image runs; it runs no package code.
    expect(workflow.jobs.code?.permissions).toEqual({ 'id-token': 'write' });
    expect(workflow.jobs.code?.steps?.filter((step) => step.uses)).toEqual([]);
    expect(JSON.stringify(workflow.jobs.code)).not.toMatch(/\bnpm (ci|install|pack|publish|run)\b/);
    const uses = (job: string, secret: string) => JSON.stringify(workflow.jobs[job]).includes(`secrets.${secret}`);
    expect(['pack', 'scan', 'publish'].filter((job) => uses(job, 'npm-token'))).toEqual(['publish']);
    expect(['pack', 'scan', 'publish'].filter((job) => uses(job, 'install-token'))).toEqual(['pack', 'scan']);
    expect(text.match(/secrets\.npm-token/g)).toHaveLength(1);
  });

  test('one tarball handed on: scan and publish get the path and integrity pack reported, never a re-pack', () => {
    expect(stepOf('pack', 'pack-npm').id).toBe('pack');
    expect(workflow.jobs.pack?.steps?.filter((step) => step.uses?.includes('pack-npm'))).toHaveLength(1);
    for (const job of ['scan', 'publish']) {
      const step = stepOf(job, job === 'scan' ? 'scan-npm' : 'publish-npm');
      expect(step.with?.integrity).toBe(expr('needs.pack.outputs.integrity'));
      expect(step.with?.['tarball-path']).toBe(
        `${expr('runner.temp')}/golden-image-npm/${expr('needs.pack.outputs.file')}`,
      );
      expect(JSON.stringify(workflow.jobs[job]?.steps)).not.toMatch(/npm (pack|ci|install)/);
    }
    expect(stepOf('publish', 'publish-npm').with?.tag).toBe(expr('inputs.tag'));
  });

  test('the example caller passes only declared inputs and secrets, and grants id-token: write', () => {
    const example = parse(read('examples/workflows/npm-publish.yml')) as Workflow;
    const callers = Object.values(example.jobs).filter((job) => job.uses?.includes('npm-publish.yml'));
    expect(callers).toHaveLength(1);
    const [caller] = callers as [Job];
    expect(caller.uses).toBe('golden-image/golden-image/.github/workflows/npm-publish.yml@v1');
    expect(caller.permissions).toEqual({ contents: 'read', 'id-token': 'write' });
    const declared = Object.keys(workflow.on.workflow_call?.inputs ?? {});
    for (const key of Object.keys(caller.with ?? {})) expect(declared).toContain(key);
    const secrets = Object.keys(workflow.on.workflow_call?.secrets ?? {});
    for (const key of Object.keys(caller.secrets ?? {})) expect(secrets).toContain(key);
  });
});
