import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { inputProblem, UserError } from '@golden-image/kit';

/**
 * The `osv-offline-db` input: a directory holding OSV-Scanner's offline DB, `osv-scalibr/<Ecosystem>/all.zip` (2.5 and
 * later) or `osv-scanner/<Ecosystem>/all.zip` (2.4). Resolved against the workspace; undefined when not given.
 */
export function resolveOsvOfflineDb(
  named: string | undefined,
  workspace: string,
  input = 'osv-offline-db',
): string | undefined {
  if (!named) return undefined;
  const dir = resolve(workspace, named);
  const problem = (what: string) => new UserError(inputProblem(input, `${JSON.stringify(named)} ${what}`));
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw problem(`is not a directory (looked for ${dir})`);
  const zips = ['osv-scalibr', 'osv-scanner'].flatMap((layout) => {
    const root = join(dir, layout);
    if (!existsSync(root)) return [];
    return readdirSync(root).filter((ecosystem) => existsSync(join(root, ecosystem, 'all.zip')));
  });
  if (zips.length === 0)
    throw problem(
      'holds no OSV database: expected osv-scalibr/<Ecosystem>/all.zip (OSV-Scanner 2.5 and later) or osv-scanner/<Ecosystem>/all.zip (2.4), as written by osv-scanner --offline-vulnerabilities --download-offline-databases',
    );
  return dir;
}
