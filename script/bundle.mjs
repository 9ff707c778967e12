#!/usr/bin/env node
// Rebuilds dist/<action>/index.js for every actions/<action>/index.ts (and the root action), then renders
// action-docs.md from every action.yml. CI runs this and fails when the committed files differ.
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { renderDocs } from './render-docs.mjs';

const root = new URL('..', import.meta.url).pathname;
const actions = readdirSync(join(root, 'actions'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(join(root, 'actions', entry.name, 'index.ts')))
  .map((entry) => entry.name)
  .sort();

/**
 * @actions/core imports its OIDC client, and so @actions/http-client and undici (about 770 KiB), whether or not an
 * action ever asks for an OIDC token. Both modules only define classes: marked free of side effects, they are left
 * out of every bundle that does not use them (push-layout's start-up: about a third less to load).
 */
const pureUnlessUsed = {
  name: 'pure-unless-used',
  setup(build) {
    build.onResolve({ filter: /^@actions\/http-client(\/|$)|^\.\/oidc-utils\.js$/ }, async (args) => {
      if (args.pluginData?.resolving) return undefined;
      if (args.path === './oidc-utils.js' && !args.importer.includes('/@actions/core/')) return undefined;
      const resolved = await build.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: { resolving: true },
      });
      if (resolved.errors.length > 0) return undefined;
      return { path: resolved.path, sideEffects: false };
    });
  },
};

rmSync(join(root, 'dist'), { recursive: true, force: true });
const started = Date.now();
await Promise.all(
  actions.map((name) =>
    build({
      entryPoints: [join(root, 'actions', name, 'index.ts')],
      outfile: join(root, 'dist', name, 'index.js'),
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'esm',
      minify: false,
      legalComments: 'none',
      logLevel: 'warning',
      plugins: [pureUnlessUsed],
      // Some CommonJS dependencies call require(); an ESM bundle has to define it.
      banner: {
        js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
      },
    }),
  ),
);
const docs = await renderDocs(root);
writeFileSync(join(root, 'action-docs.md'), docs);
console.log(
  `bundled ${actions.length} actions (${actions.join(', ')}) in ${Date.now() - started} ms; rendered action-docs.md`,
);
