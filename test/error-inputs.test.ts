// Every input an error message (or warning, or summary line) names exists on the action that prints it.
//
// Each action is bundled in memory as dist/ is (esbuild, tree-shaken), so what is checked is exactly the code that
// action runs, the shared packages included. Every string and template piece of the suite's own modules in that
// bundle is searched for the ways the suite names an input: `Input "x"`, inputProblem('x', …), `"x" input(s)`,
// `x: true` (and the other values inputs take), `set x to`. A name that is an input of any action must be an input
// of this one.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { repoRoot } from '@golden-image/testkit';
import { describe, expect, test } from '@jest/globals';
import { build } from 'esbuild';
import ts from 'typescript';
import { parse } from 'yaml';

const actionDirs = readdirSync(join(repoRoot, 'actions'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .filter((name) => {
    try {
      readFileSync(join(repoRoot, 'actions', name, 'index.ts'));
      readFileSync(join(repoRoot, name === 'chain' ? 'action.yml' : join('actions', name, 'action.yml')));
      return true;
    } catch {
      return false;
    }
  });

function inputsOf(name: string): string[] {
  const file = name === 'chain' ? 'action.yml' : join('actions', name, 'action.yml');
  const action = parse(readFileSync(join(repoRoot, file), 'utf8')) as { inputs?: Record<string, unknown> };
  return Object.keys(action.inputs ?? {});
}

/** Every input of every action: the names a message could mean. */
const known = new Set(actionDirs.flatMap(inputsOf));

const VALUES = 'true|false|none|auto|skopeo|imagetools|buildah|buildx|exact|any-ref|legacy|new|\\d+';
const SHAPES: RegExp[] = [
  /Input "([a-z0-9-]+)"/g,
  /"([a-z0-9-]+)"(?=(?:,? (?:and|or) "[a-z0-9-]+")* inputs?\b)/g,
  new RegExp(`(?<![\\w./-])"?([a-z][a-z0-9-]*)"?: (?:${VALUES})\\b`, 'g'),
  /\bset "?([a-z][a-z0-9-]*)"?(?: and "?[a-z][a-z0-9-]*"?)? to\b/g,
  /\bset "?[a-z][a-z0-9-]*"? and "?([a-z][a-z0-9-]*)"? to\b/g,
  /\b([a-z][a-z0-9]*(?:-[a-z0-9]+)+) inputs?\b/g,
];

/** Every action's bundle, built once (esbuild shares the work between entry points). */
let bundles: Promise<Map<string, string>> | undefined;
function bundleOf(name: string): Promise<string> {
  bundles ??= build({
    entryPoints: Object.fromEntries(actionDirs.map((dir) => [dir, join(repoRoot, 'actions', dir, 'index.ts')])),
    outdir: join(repoRoot, 'dist-error-inputs'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    write: false,
    logLevel: 'silent',
  }).then((result) => new Map(result.outputFiles.map((file) => [basename(file.path, '.js'), file.text])));
  return bundles.then((all) => all.get(name) ?? '');
}

/** The strings of the suite's own modules in the action's bundle, with the inputs each one names. */
async function mentions(name: string): Promise<{ input: string; text: string }[]> {
  const text = await bundleOf(name);
  // esbuild starts every module with a `// path` line: keep the modules of this repository.
  const parts = text.split(/^\/\/ ((?:node_modules|packages|actions|test|script)\/\S+)$/m);
  let ours = '';
  for (let i = 1; i < parts.length; i += 2) if (!parts[i]?.startsWith('node_modules/')) ours += `${parts[i + 1]}\n`;
  const source = ts.createSourceFile('bundle.js', ours, ts.ScriptTarget.Latest, false, ts.ScriptKind.JS);
  const found: { input: string; text: string }[] = [];
  const visit = (node: ts.Node) => {
    if (
      ts.isCallExpression(node) &&
      /^inputProblem\d*$/.test(node.expression.getText(source)) &&
      node.arguments[0] &&
      ts.isStringLiteralLike(node.arguments[0])
    ) {
      found.push({ input: node.arguments[0].text, text: node.getText(source).slice(0, 160) });
    }
    if (
      ts.isStringLiteralLike(node) ||
      ts.isTemplateHead(node) ||
      ts.isTemplateMiddle(node) ||
      ts.isTemplateTail(node)
    ) {
      for (const shape of SHAPES)
        for (const match of node.text.matchAll(shape)) {
          const input = match[1] as string;
          if (known.has(input)) found.push({ input, text: node.text.slice(0, 160) });
        }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/**
 * Names that appear in an action's bundle but that action can never print, each with the reason. Static search sees
 * every string of a shared module, including branches the action never takes.
 */
const UNREACHABLE: Record<string, Record<string, string>> = {
  chain: {
    // The root action runs the other actions' code with inputs it sets itself (messages about them come from its own
    // wiring, never from a value the user gave, and it prefixes them with the step's name).
    'layout-path': "set by the chain from build-oci's output",
    digest: 'set by the chain from the step before',
    path: 'set by the chain from context',
    secrets: 'set by the chain from build-secrets',
    engine: 'set by the chain (skopeo)',
    'require-signature': 'set by the chain from sign',
    'certificate-identity': "set by the chain from sign-digest's output",
    'certificate-oidc-issuer': "set by the chain from sign-digest's output",
    // Inputs of the steps the root action leaves at their defaults: their messages only fire when they are set.
    'bundle-format': 'sign-digest input the chain never sets (legacy)',
    'cosign-version': 'tool input the chain never sets (the pinned version)',
    verify: 'sign-digest input the chain never sets (true)',
    report: "set by the chain from scan-layout's output (attest-evidence)",
    'kyverno-policy': "set by the chain from sign-digest's output (attest-evidence)",
    'evidence-dir': 'attest-evidence input of mode attach; the chain runs mode release',
    tag: 'attest-evidence input of mode rescan; the chain runs mode release',
    'github-provenance': 'attest-evidence input the chain never sets (auto)',
    'source-repository': 'sign-digest input the chain never sets',
    'osv-config': 'scan-repo input the chain never sets',
    'allow-immutable-tags':
      'promote-tags input the chain sets itself, for rolling-tags that look immutable (rolling whatever they look like)',
    'certificate-identity-regexp': 'sign-digest, attest-evidence and promote-tags input the chain never sets',
    'policy-identity-match': 'sign-digest input the chain never sets (exact)',
    'public-key': "set by the chain from sign-digest's output (attest-evidence)",
  },
  'sign-digest': {
    'public-key':
      "checkKeyInputs' refusal of a public-key without a key, for attest-evidence: sign-digest has no public-key input",
  },
  'build-oci': { digest: "verifyLayout's expected-digest message; build-oci never passes an expected digest" },
  'merge-layouts': {
    digest: "verifyLayout's expected-digest message, which merge-layouts prefixes with the line of its digests input",
  },
};

/**
 * Found by this test in code other engineers own and are changing; each names who fixes it. The test fails when one
 * of these is fixed (remove it here) or a new one appears.
 */
const KNOWN: Record<string, string[]> = {
  chain: [],
  'publish-npm': ['key'], // signing's requireGithubOidc advises `key`, which publish-npm does not have
  'attest-evidence': [],
};

describe('every input an error message names exists on the action that prints it', () => {
  test.each(actionDirs)('%s', async (name) => {
    const inputs = new Set([...inputsOf(name), ...Object.keys(UNREACHABLE[name] ?? {})]);
    const missing = (await mentions(name)).filter((mention) => !inputs.has(mention.input));
    const known = KNOWN[name] ?? [];
    expect([...new Set(missing.map((mention) => mention.input))].sort()).toEqual([...known].sort());
    const unknown = missing.filter((mention) => !known.includes(mention.input));
    expect(unknown.map((mention) => `${mention.input}: ${mention.text}`)).toEqual([]);
  });

  test('the search finds what it looks for (it cannot pass by finding nothing)', async () => {
    const found = new Set((await mentions('push-layout')).map((mention) => mention.input));
    for (const input of ['allow-overwrite', 'tls-verify', 'username', 'password', 'digest', 'image'])
      expect(found).toContain(input);
  });
});
