// The package graph is declared in packages/*/package.json and kept by script/package-graph.ts; this runs it inside
// `npm test` over the real tree, and shows it failing on planted bad imports (in a copy of the tree and a fixture).
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { repoRoot, tempDir } from '@golden-image/testkit';
import { describe, expect, test } from '@jest/globals';
import { checkGraph, FLOORS, formatProblems, importsOf } from '../script/package-graph.js';

function copyOfTree(): string {
  const root = tempDir('golden-image-graph-');
  for (const dir of ['packages', 'actions']) {
    cpSync(join(repoRoot, dir), join(root, dir), {
      recursive: true,
      filter: (source) => !source.includes('node_modules') && !source.includes(`${join('testkit', 'programs')}`),
    });
  }
  return root;
}

function plant(root: string, file: string, line: string): void {
  const path = join(root, file);
  writeFileSync(path, `${line}\n${readFileSync(path, 'utf8')}`);
}

describe('the package graph', () => {
  test('holds for the tree as it is', () => {
    const problems = checkGraph(repoRoot);
    expect(formatProblems(problems)).toBe('');
  });

  test('every package has a floor, and every floor is below the actions', () => {
    const packages = ['kit', 'oci', 'tools', 'scanners', 'oci-registry', 'signing', 'image-build', 'evidence', 'npm'];
    for (const name of packages) expect(FLOORS[name]).toBeLessThan(FLOORS['actions/*'] as number);
    expect(FLOORS.kit).toBe(0);
    expect(FLOORS['actions/chain']).toBeGreaterThan(FLOORS['actions/*'] as number);
  });

  test('reads static, type-only, re-exported and dynamic imports', () => {
    const source = [
      "import { a } from '@golden-image/kit';",
      "import type { B } from '@golden-image/oci';",
      "export { c } from './c.js';",
      "const d = await import('@golden-image/tools');",
    ].join('\n');
    expect(importsOf(source)).toEqual(['@golden-image/kit', '@golden-image/oci', './c.js', '@golden-image/tools']);
  });

  describe('fails on a planted bad import in a copy of the tree', () => {
    test.each([
      [
        'a low package imports a higher one (kit -> signing)',
        'packages/kit/src/errors.ts',
        "import type { Signer } from '@golden-image/signing';",
        /packages\/kit\/src\/errors\.ts: @golden-image\/signing: not declared in packages\/kit\/package\.json[\s\S]*kit \(floor 0\) imports signing \(floor 2\)/,
      ],
      [
        'a package imports a sibling on its own floor (signing -> scanners), undeclared',
        'packages/signing/src/shell.ts',
        "import { SEVERITIES } from '@golden-image/scanners';",
        /@golden-image\/scanners: not declared[\s\S]*signing \(floor 2\) imports scanners \(floor 2\)/,
      ],
      [
        'an action imports testkit',
        'actions/scan-repo/main.ts',
        "import { createTestContext } from '@golden-image/testkit';",
        /actions\/scan-repo\/main\.ts: @golden-image\/testkit: testkit is for tests only/,
      ],
      [
        'a package imports testkit in product code',
        'packages/oci/src/digest.ts',
        "import { repoRoot } from '@golden-image/testkit';",
        /packages\/oci\/src\/digest\.ts: @golden-image\/testkit: not declared[\s\S]*testkit is for tests only/,
      ],
      [
        'a package imports an action',
        'packages/evidence/src/kinds.ts',
        "import { main } from '../../../actions/attest-evidence/main.js';",
        /evidence \(floor 3\) imports actions\/attest-evidence \(floor 4\)/,
      ],
      [
        'an action reaches into a package by path',
        'actions/sign-digest/main.ts',
        "import { signArgs } from '../../packages/signing/src/args.js';",
        /a relative import reaches into packages\/signing: import @golden-image\/signing/,
      ],
      [
        'an action imports another action (only chain may)',
        'actions/promote-tags/main.ts',
        "import { main as sign } from '../sign-digest/main.js';",
        /actions\/promote-tags \(floor 4\) imports actions\/sign-digest \(floor 4\)/,
      ],
    ])('%s', (_label, file, line, message) => {
      const root = copyOfTree();
      expect(checkGraph(root)).toEqual([]);
      plant(root, file, line);
      const problems = checkGraph(root);
      expect(problems.length).toBeGreaterThan(0);
      expect(formatProblems(problems)).toMatch(message);
    });

    test('a sibling declared but never imported', () => {
      const root = copyOfTree();
      const manifest = join(root, 'packages/oci/package.json');
      const json = JSON.parse(readFileSync(manifest, 'utf8'));
      json.dependencies['@golden-image/tools'] = '*';
      writeFileSync(manifest, JSON.stringify(json));
      expect(formatProblems(checkGraph(root))).toMatch(
        /packages\/oci\/package\.json: @golden-image\/tools: declared in dependencies but never imported/,
      );
    });
  });

  test('fails on a fixture tree: a new package with no floor, tests allowed testkit only as a devDependency', () => {
    const root = tempDir('golden-image-graph-fixture-');
    const write = (file: string, text: string) => {
      mkdirSync(dirname(join(root, file)), { recursive: true });
      writeFileSync(join(root, file), text);
    };
    const manifest = (name: string, deps: Record<string, string> = {}, dev: Record<string, string> = {}) =>
      JSON.stringify({ name: `@golden-image/${name}`, dependencies: deps, devDependencies: dev });
    write('packages/kit/package.json', manifest('kit'));
    write('packages/kit/src/index.ts', 'export const kit = 1;\n');
    write('packages/testkit/package.json', manifest('testkit', { '@golden-image/kit': '*' }));
    write('packages/testkit/src/index.ts', "export { kit } from '@golden-image/kit';\n");
    write('packages/shiny/package.json', manifest('shiny', { '@golden-image/kit': '*' }));
    write('packages/shiny/src/index.ts', "import { kit } from '@golden-image/kit';\nexport const shiny = kit;\n");
    write('packages/shiny/test/shiny.test.ts', "import { kit } from '@golden-image/testkit';\n");
    const problems = formatProblems(checkGraph(root));
    expect(problems).toMatch(/packages\/shiny\/package\.json: @golden-image\/shiny: this package has no floor/);
    expect(problems).toMatch(
      /packages\/shiny\/test\/shiny\.test\.ts: @golden-image\/testkit: not declared in packages\/shiny\/package\.json \(dependencies or devDependencies\)/,
    );
  });
});
