// Static checks of what users meet through `uses:` lines: workflows, action.yml files, README examples, docs.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@golden-image/testkit';
import { describe, expect, test } from '@jest/globals';
import { parse } from 'yaml';
import * as attestEvidence from '../actions/attest-evidence/main.js';
import * as buildOci from '../actions/build-oci/main.js';
import * as chain from '../actions/chain/main.js';
import * as mergeLayouts from '../actions/merge-layouts/main.js';
import * as packNpm from '../actions/pack-npm/main.js';
import * as promoteTags from '../actions/promote-tags/main.js';
import * as publishNpm from '../actions/publish-npm/main.js';
import * as pushLayout from '../actions/push-layout/main.js';
import * as scanLayout from '../actions/scan-layout/main.js';
import * as scanNpm from '../actions/scan-npm/main.js';
import * as scanRepo from '../actions/scan-repo/main.js';
import * as signDigest from '../actions/sign-digest/main.js';

type Step = { uses?: string; with?: Record<string, unknown> };
type Job = { steps?: Step[]; permissions?: unknown; uses?: string };
type Workflow = { jobs: Record<string, Job>; on: Record<string, { inputs?: Record<string, { default?: string }> }> };

const read = (path: string) => readFileSync(join(repoRoot, path), 'utf8');
const workflows = readdirSync(join(repoRoot, '.github/workflows')).filter((file) => file.endsWith('.yml'));
const actionNames = readdirSync(join(repoRoot, 'actions')).filter((name) =>
  existsSync(join(repoRoot, 'actions', name, 'action.yml')),
);
const actionYml = (name: string) =>
  parse(read(name === '.' ? 'action.yml' : `actions/${name}/action.yml`)) as {
    inputs?: Record<string, unknown>;
    outputs?: Record<string, unknown>;
    runs: { using: string; main: string };
  };

/** The suite's action a `uses:` names (local path or published reference), or undefined for a third-party one. */
function suiteAction(uses: string): string | undefined {
  return /^(?:\.\/|\.\/\.golden-image\/|golden-image\/golden-image\/)actions\/([a-z-]+)/.exec(uses)?.[1];
}

function steps(): { file: string; step: Step }[] {
  return workflows.flatMap((file) => {
    const workflow = parse(read(`.github/workflows/${file}`)) as Workflow;
    return Object.values(workflow.jobs).flatMap((job) => (job.steps ?? []).map((step) => ({ file, step })));
  });
}

describe('workflows', () => {
  test('every third-party action is pinned by a full commit SHA', () => {
    for (const { file, step } of steps()) {
      if (!step.uses || step.uses.startsWith('./') || suiteAction(step.uses)) continue;
      expect(`${file}: ${step.uses}`).toMatch(/@[0-9a-f]{40}$/);
    }
  });

  test('every job declares its permissions', () => {
    for (const file of workflows) {
      const workflow = parse(read(`.github/workflows/${file}`)) as Workflow;
      for (const [name, job] of Object.entries(workflow.jobs)) {
        // docker-publish's code-scanning job inherits the caller's grant on purpose (see the comment there).
        const inherits = `${file}/${name}` === 'docker-publish.yml/code-scanning' && !('permissions' in workflow);
        expect(`${file}/${name}: ${job.permissions || inherits ? 'set' : 'missing'}`).toMatch(/set$/);
      }
    }
  });

  test('every step using a suite action passes only inputs that action declares', () => {
    let checked = 0;
    for (const { file, step } of steps()) {
      const name = step.uses && suiteAction(step.uses);
      if (!name) continue;
      expect(actionNames).toContain(name);
      const declared = Object.keys(actionYml(name).inputs ?? {});
      for (const key of Object.keys(step.with ?? {}))
        expect(`${file} ${name}: ${key}`).toBe(`${file} ${name}: ${declared.includes(key) ? key : '(undeclared)'}`);
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(12);
  });

  test('without an OIDC token the reusable workflows run their own release (package.json version), and no input chooses the code', () => {
    const { version } = JSON.parse(read('package.json')) as { version: string };
    for (const file of ['docker-publish.yml', 'npm-publish.yml']) {
      const text = read(`.github/workflows/${file}`);
      expect(`${file}: ${/GOLDEN_IMAGE_RELEASE: (\S+)/.exec(text)?.[1]}`).toBe(`${file}: v${version}`);
      const workflow = parse(text) as Workflow;
      expect(
        Object.keys(workflow.on.workflow_call?.inputs ?? {}).filter((name) => name.startsWith('golden-image')),
      ).toEqual([]);
    }
  });
});

describe('actions and docs', () => {
  test.each(actionNames)('%s: node24 bundle in dist/, every input and output in action-docs.md', (name) => {
    const action = actionYml(name);
    expect(action.runs).toEqual({ using: 'node24', main: `../../dist/${name}/index.js` });
    const docs = read('action-docs.md');
    for (const key of [...Object.keys(action.inputs ?? {}), ...Object.keys(action.outputs ?? {})])
      expect(docs).toContain(`\`${key}\``);
  });

  test('README examples use only declared inputs of the suite actions', () => {
    const blocks = [...read('README.md').matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');
    let checked = 0;
    for (const block of blocks) {
      for (const match of block.matchAll(/uses: (\S+)\n( +)with:\n((?:\2 {2,}.*\n)+)/g)) {
        const name = suiteAction(match[1] ?? '');
        if (!name) continue;
        const indent = `${match[2] ?? ''}  `;
        const keys = [...(match[3] ?? '').matchAll(new RegExp(`^${indent}([a-z-]+):`, 'gm'))].map((key) => key[1]);
        const declared = Object.keys(actionYml(name).inputs ?? {});
        for (const key of keys)
          expect(`${name}: ${key}`).toBe(`${name}: ${declared.includes(key ?? '') ? key : '(undeclared)'}`);
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(2);
  });
});

describe('each action.yml declares exactly the inputs its main() reads', () => {
  const modules: Record<string, { inputs: Record<string, unknown> }> = {
    '.': chain,
    'attest-evidence': attestEvidence,
    'build-oci': buildOci,
    'merge-layouts': mergeLayouts,
    'promote-tags': promoteTags,
    'push-layout': pushLayout,
    'scan-layout': scanLayout,
    'scan-repo': scanRepo,
    'sign-digest': signDigest,
    'pack-npm': packNpm,
    'scan-npm': scanNpm,
    'publish-npm': publishNpm,
  };
  test('every action is covered', () => {
    expect(
      Object.keys(modules)
        .filter((name) => name !== '.')
        .sort(),
    ).toEqual([...actionNames].sort());
  });
  test.each(Object.keys(modules))('%s', async (name) => {
    const { inputs } = modules[name] as { inputs: Record<string, unknown> };
    expect(Object.keys(actionYml(name).inputs ?? {}).sort()).toEqual(Object.keys(inputs).sort());
  });
  test('the root action is in action-docs.md with every input and output', () => {
    const action = actionYml('.');
    const docs = read('action-docs.md');
    for (const key of [...Object.keys(action.inputs ?? {}), ...Object.keys(action.outputs ?? {})])
      expect(docs).toContain(`\`${key}\``);
  });
});
