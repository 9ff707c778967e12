// Bundles the workflow tier's stand-ins for third-party actions (packages/testkit/stand-ins) into folders act takes
// with --local-repository owner/repo@<pinned sha>=<folder>, each with the absolute path of the run's StandInConfig
// JSON baked in (esbuild define STAND_IN_CONFIG).
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { standIns } from '../../stand-ins/catalogue.js';

export const standInsDir = resolve(new URL('../../stand-ins', import.meta.url).pathname);

export async function bundleStandIns(outDir: string, configPath: string): Promise<{ localRepositories: string[] }> {
  const localRepositories: string[] = [];
  const builds: Promise<unknown>[] = [];
  for (const standIn of standIns) {
    const target = resolve(outDir, standIn.dir);
    for (const action of standIn.actions) {
      const from = join(standInsDir, standIn.dir, action);
      const to = join(target, action);
      mkdirSync(to, { recursive: true });
      copyFileSync(join(from, 'action.yml'), join(to, 'action.yml'));
      for (const [source, bundle] of [
        ['main.ts', 'index.js'],
        ['post.ts', 'post.js'],
      ] as const) {
        if (!existsSync(join(from, source))) continue;
        builds.push(
          build({
            entryPoints: [join(from, source)],
            outfile: join(to, bundle),
            bundle: true,
            platform: 'node',
            target: 'node20',
            format: 'cjs',
            minify: false,
            legalComments: 'none',
            logLevel: 'error',
            define: { STAND_IN_CONFIG: JSON.stringify(resolve(configPath)) },
          }),
        );
      }
    }
    for (const ref of standIn.refs) localRepositories.push(`${standIn.repository}@${ref.sha}=${target}`);
  }
  await Promise.all(builds);
  return { localRepositories };
}
