// The workflow tier's stand-ins, checked without running them: every action the workflows pin by SHA has a stand-in
// for exactly that SHA, and each stand-in's action.yml declares the real action.yml's inputs and outputs (the
// unedited copy beside it, upstream-action.yml, see stand-ins/SOURCES.md).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@golden-image/testkit';
import { describe, expect, test } from '@jest/globals';
import { parse } from 'yaml';
import { standInsDir } from '../src/act/stand-ins.js';
import { standIns } from '../stand-ins/catalogue.js';

interface ActionYaml {
  description?: string;
  inputs?: Record<string, { required?: unknown; default?: unknown } | null>;
  outputs?: Record<string, unknown>;
  runs?: { using?: string; main?: string; post?: string };
}

const readYaml = (path: string) => parse(readFileSync(path, 'utf8')) as ActionYaml;

/** Every `uses: owner/repo[/path]@<40 hex>` of the workflows, with the version its comment names. */
function pinnedUses(): { file: string; repository: string; action: string; sha: string; version: string }[] {
  const found = [];
  for (const dir of ['.github/workflows', 'examples/workflows']) {
    for (const name of readdirSync(join(repoRoot, dir)).filter((file) => /\.ya?ml$/.test(file))) {
      const text = readFileSync(join(repoRoot, dir, name), 'utf8');
      for (const match of text.matchAll(
        /uses:\s*([\w.-]+)\/([\w.-]+)((?:\/[\w.-]+)*)@([0-9a-f]{40})(?:\s*#\s*(\S+))?/g,
      )) {
        found.push({
          file: `${dir}/${name}`,
          repository: `${match[1]}/${match[2]}`,
          action: (match[3] ?? '').replace(/^\//, ''),
          sha: match[4] ?? '',
          version: match[5] ?? '',
        });
      }
    }
  }
  return found;
}

const normalInputs = (yaml: ActionYaml) =>
  Object.fromEntries(
    Object.entries(yaml.inputs ?? {}).map(([name, spec]) => [
      name,
      { required: spec?.required ?? null, default: spec?.default === undefined ? null : spec.default },
    ]),
  );

describe('stand-ins for the actions the workflows pin', () => {
  const uses = pinnedUses();

  test('the workflows pin actions (the scan finds them)', () => {
    expect(uses.length).toBeGreaterThan(30);
  });

  test.each(
    uses.map((use) => ({
      ...use,
      label: `${use.file}: ${use.repository}${use.action ? `/${use.action}` : ''}@${use.sha}`,
    })),
  )('$label has a stand-in for exactly that SHA', (use) => {
    const standIn = standIns.find(
      (entry) => entry.repository === use.repository && entry.refs.some((ref) => ref.sha === use.sha),
    );
    expect(standIn).toBeDefined();
    expect(standIn?.actions).toContain(use.action);
    expect(standIn?.refs.find((ref) => ref.sha === use.sha)?.version).toBe(use.version);
  });

  test('the catalogue lists no stand-in the workflows do not pin', () => {
    for (const standIn of standIns) {
      for (const ref of standIn.refs) {
        expect(uses.some((use) => use.repository === standIn.repository && use.sha === ref.sha)).toBe(true);
      }
    }
  });
});

describe.each(
  standIns.flatMap((standIn) => standIn.actions.map((action) => [join(standIn.dir, action), standIn, action] as const)),
)('stand-in %s', (dir, standIn) => {
  const folder = join(standInsDir, dir);
  const mine = readYaml(join(folder, 'action.yml'));
  const upstream = readYaml(join(folder, 'upstream-action.yml'));

  test('declares exactly the real action.yml inputs (names, required, defaults) and outputs', () => {
    expect(normalInputs(mine)).toEqual(normalInputs(upstream));
    expect(Object.keys(mine.outputs ?? {}).sort()).toEqual(Object.keys(upstream.outputs ?? {}).sort());
  });

  test('runs its bundle with node20, and says what it stands in for', () => {
    const post = existsSync(join(folder, 'post.ts'));
    expect(existsSync(join(folder, 'main.ts'))).toBe(true);
    expect(mine.runs).toEqual({ using: 'node20', main: 'index.js', ...(post ? { post: 'post.js' } : {}) });
    const [ref] = standIn.refs;
    expect(mine.description).toMatch(
      new RegExp(
        `^Stand-in for ${standIn.repository} ${ref?.version} \\(${ref?.sha}\\) in golden-image's workflow tier: .+`,
      ),
    );
  });

  test('its upstream copy is listed in SOURCES.md with the pinned commit', () => {
    const sources = readFileSync(join(standInsDir, 'SOURCES.md'), 'utf8');
    const row = sources.split('\n').find((line) => line.startsWith(`| ${dir}/upstream-action.yml |`));
    expect(row).toContain(standIn.refs[0]?.sha);
  });
});
