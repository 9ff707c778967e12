// The package graph, declared and enforced. Every packages/<name>/package.json names the siblings it imports
// (`"@golden-image/<sibling>": "*"`, testkit under devDependencies), and `checkGraph` reads every import of every
// .ts file under packages/*/{src,test} and actions/* and reports:
//   - an import of a sibling package that package.json does not declare (or a declared sibling never imported);
//   - product code (packages/*/src, an action's own files) importing @golden-image/testkit;
//   - an import of a package or action on a higher floor, or on the same floor (siblings on a floor are independent);
//   - a relative import that leaves its package or action (say '@golden-image/<name>' instead).
// `npm test` runs it (test/package-graph.test.ts); `npm run graph` prints the problems.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/**
 * The floors, lowest first: a unit may import only units on a lower floor. Every package must be listed; every
 * action sits on ACTION_FLOOR except those named here (chain runs the other actions' main()).
 */
export const FLOORS: Readonly<Record<string, number>> = {
  kit: 0,
  oci: 1,
  tools: 1,
  scanners: 2,
  'oci-registry': 2,
  signing: 2,
  'image-build': 2,
  evidence: 3,
  npm: 3,
  'actions/*': 4,
  'actions/chain': 5,
};
/** Test helpers: any test may import them, no product code may. They may import any package (not an action). */
export const TEST_ONLY: readonly string[] = ['testkit'];
const SCOPE = '@golden-image/';

export interface GraphProblem {
  /** The importing file, relative to the root. */
  file: string;
  specifier: string;
  problem: string;
}

interface Unit {
  /** `kit`, `actions/scan-repo`, ... */
  name: string;
  kind: 'package' | 'action';
  dir: string;
  floor: number | undefined;
  /** Declared siblings (package.json): dependencies, and devDependencies for tests. */
  dependencies: Set<string>;
  devDependencies: Set<string>;
}

function floorOf(unit: string): number | undefined {
  if (unit.startsWith('actions/')) return FLOORS[unit] ?? FLOORS['actions/*'];
  return FLOORS[unit];
}

function siblings(deps: Record<string, string> | undefined): Set<string> {
  return new Set(
    Object.keys(deps ?? {})
      .filter((name) => name.startsWith(SCOPE))
      .map((name) => name.slice(SCOPE.length)),
  );
}

function units(root: string): Unit[] {
  const found: Unit[] = [];
  const packages = join(root, 'packages');
  for (const name of existsSync(packages) ? readdirSync(packages).sort() : []) {
    const dir = join(packages, name);
    const manifest = join(dir, 'package.json');
    if (!existsSync(manifest)) continue;
    const json = JSON.parse(readFileSync(manifest, 'utf8')) as {
      dependencies?: Record<string, string>;
      devDependencies?: Record<string, string>;
    };
    found.push({
      name,
      kind: 'package',
      dir,
      floor: floorOf(name),
      dependencies: siblings(json.dependencies),
      devDependencies: siblings(json.devDependencies),
    });
  }
  const actions = join(root, 'actions');
  for (const name of existsSync(actions) ? readdirSync(actions).sort() : []) {
    const dir = join(actions, name);
    if (!statSync(dir).isDirectory()) continue;
    const unit = `actions/${name}`;
    found.push({
      name: unit,
      kind: 'action',
      dir,
      floor: floorOf(unit),
      dependencies: new Set(),
      devDependencies: new Set(),
    });
  }
  return found;
}

function tsFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== 'node_modules') out.push(...tsFiles(path));
    else if (entry.isFile() && entry.name.endsWith('.ts')) out.push(path);
  }
  return out;
}

/** Every module specifier a file names: static imports and re-exports (type-only ones too), dynamic import(). */
export function importsOf(source: string): string[] {
  return ts.preProcessFile(source, true, true).importedFiles.map((file) => file.fileName);
}

/** The unit a path lies in (a package's directory, an action's), or undefined. */
function unitAt(all: Unit[], path: string): Unit | undefined {
  return all.find((unit) => path === unit.dir || path.startsWith(unit.dir + sep));
}

export function checkGraph(root: string): GraphProblem[] {
  const all = units(root);
  const byName = new Map(all.map((unit) => [unit.name, unit]));
  const problems: GraphProblem[] = [];
  for (const unit of all) {
    if (unit.kind === 'package' && unit.floor === undefined && !TEST_ONLY.includes(unit.name)) {
      problems.push({
        file: relative(root, join(unit.dir, 'package.json')),
        specifier: `${SCOPE}${unit.name}`,
        problem: 'this package has no floor: add it to FLOORS in script/package-graph.ts',
      });
    }
    const used = new Set<string>();
    const files =
      unit.kind === 'package'
        ? [...tsFiles(join(unit.dir, 'src')), ...tsFiles(join(unit.dir, 'test'))]
        : tsFiles(unit.dir);
    for (const file of files) {
      const isTest = relative(unit.dir, file).split(sep)[0] === 'test';
      const report = (specifier: string, problem: string) =>
        problems.push({ file: relative(root, file), specifier, problem });
      for (const specifier of importsOf(readFileSync(file, 'utf8'))) {
        let target: Unit | undefined;
        if (specifier.startsWith(SCOPE)) {
          const name = specifier.slice(SCOPE.length).split('/')[0] ?? '';
          target = byName.get(name);
          if (target?.kind !== 'package') {
            report(specifier, 'no such package under packages/');
            continue;
          }
          if (target === unit) {
            if (!isTest) report(specifier, 'a package imports itself by name: use a relative path');
            continue;
          }
          if (unit.kind === 'package') {
            const declared = unit.dependencies.has(name) || (isTest && unit.devDependencies.has(name));
            if (!declared) {
              report(
                specifier,
                `not declared in ${relative(root, join(unit.dir, 'package.json'))} ` +
                  `(${isTest ? 'dependencies or devDependencies' : 'dependencies'})`,
              );
            }
            if (!isTest) used.add(name);
          }
        } else if (specifier.startsWith('.')) {
          target = unitAt(all, resolve(dirname(file), specifier));
          if (target === unit) continue;
          if (target?.kind === 'package') {
            // A test may share another package's test helpers; nothing reaches into a package's src by path.
            const intoTests = resolve(dirname(file), specifier).startsWith(join(target.dir, 'test') + sep);
            if (!(isTest && intoTests))
              report(
                specifier,
                `a relative import reaches into packages/${target.name}: import ${SCOPE}${target.name}`,
              );
            continue;
          }
          if (!target) {
            // Tests may use the repository's shared test helpers and fixtures (test/); product code stays home.
            if (!isTest) report(specifier, `a relative import leaves ${unit.name}`);
            continue;
          }
          if (isTest) continue;
        } else {
          continue;
        }
        if (!target) continue;
        if (TEST_ONLY.includes(target.name)) {
          if (!isTest && !TEST_ONLY.includes(unit.name))
            report(specifier, `${target.name} is for tests only: product code must not import it`);
          continue;
        }
        if (isTest || TEST_ONLY.includes(unit.name)) {
          if (TEST_ONLY.includes(unit.name) && target.kind === 'action')
            report(specifier, 'testkit must not import an action');
          continue;
        }
        if (unit.floor !== undefined && target.floor !== undefined && target.floor >= unit.floor) {
          report(
            specifier,
            `${unit.name} (floor ${unit.floor}) imports ${target.name} (floor ${target.floor}): ` +
              'only lower floors may be imported (FLOORS in script/package-graph.ts)',
          );
        }
      }
    }
    if (unit.kind === 'package') {
      for (const name of unit.dependencies) {
        if (!used.has(name)) {
          problems.push({
            file: relative(root, join(unit.dir, 'package.json')),
            specifier: `${SCOPE}${name}`,
            problem: 'declared in dependencies but never imported by src/: remove it (tests: devDependencies)',
          });
        }
      }
    }
  }
  return problems;
}

export function formatProblems(problems: GraphProblem[]): string {
  return problems.map((p) => `${p.file}: ${p.specifier}: ${p.problem}`).join('\n');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const problems = checkGraph(root);
  if (problems.length > 0) {
    console.error(formatProblems(problems));
    console.error(`${problems.length} package graph problem(s).`);
    process.exitCode = 1;
  } else {
    console.log('The package graph holds: every sibling import declared, no testkit in product code, floors kept.');
  }
}
