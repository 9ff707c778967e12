// actions/upload-artifact v4 stand-in on the v3 protocol: v4's file search (common root, hidden files excluded by
// default), if-no-files-found, the 409 conflict of a second upload without overwrite, and replacement with overwrite
// (a new generation that downloads take; see lib/artifacts.ts).
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { dirname, normalize, relative, sep } from 'node:path';
import artifactV1 from '@actions/artifact-v1';
import * as glob from '@actions/glob';
import { booleanInput, core, refuseUnimplemented, runStandIn } from '../../lib/action.js';
import { checkArtifactName, listArtifacts, storedName } from '../../lib/artifacts.js';

const IMPLEMENTED = [
  'name',
  'path',
  'if-no-files-found',
  'retention-days',
  'compression-level',
  'overwrite',
  'include-hidden-files',
] as const;

/** The deepest directory every search path lies in (v4 takes it as the artifact's root with several paths). */
function commonAncestor(paths: string[]): string {
  const split = paths.map((path) => normalize(path).split(sep));
  const shortest = Math.min(...split.map((parts) => parts.length));
  const common: string[] = [];
  for (let index = 0; index < shortest; index++) {
    const part = split[0]?.[index];
    if (part === undefined || split.some((parts) => parts[index] !== part)) break;
    common.push(part);
  }
  const joined = common.join(sep);
  return joined === '' && paths[0]?.startsWith(sep) ? sep : joined || '.';
}

async function search(pattern: string, includeHidden: boolean): Promise<{ files: string[]; root: string }> {
  const globber = await glob.create(pattern, {
    followSymbolicLinks: true,
    implicitDescendants: true,
    omitBrokenSymbolicLinks: true,
    excludeHiddenFiles: !includeHidden,
  });
  const files = (await globber.glob()).filter((path) => !statSync(path).isDirectory());
  const searchPaths = globber.getSearchPaths();
  if (searchPaths.length > 1) {
    const root = commonAncestor(searchPaths);
    core.info(`Multiple search paths detected. The least common ancestor is ${root}`);
    return { files, root };
  }
  const only = searchPaths[0] ?? '.';
  // One file named directly keeps no directory: its parent is the root.
  if (files.length === 1 && files[0] === only) return { files, root: dirname(only) };
  return { files, root: only };
}

/** v4 reports the SHA-256 of the zip it uploaded; v3 uploads files, so this is the SHA-256 of their sorted listing. */
function digestOf(files: string[], root: string): string {
  const hash = createHash('sha256');
  for (const file of files
    .map((path) => ({ path, name: relative(root, path) }))
    .sort((a, b) => (a.name < b.name ? -1 : 1))) {
    hash.update(`${file.name}\0${createHash('sha256').update(readFileSync(file.path)).digest('hex')}\n`);
  }
  return hash.digest('hex');
}

runStandIn('actions/upload-artifact', async () => {
  refuseUnimplemented(IMPLEMENTED);
  const name = core.getInput('name');
  const searchPath = core.getInput('path', { required: true });
  const overwrite = booleanInput('overwrite');
  const includeHidden = booleanInput('include-hidden-files');
  const ifNoFilesFound = core.getInput('if-no-files-found');
  if (!['warn', 'error', 'ignore'].includes(ifNoFilesFound)) {
    throw new Error(
      `Unrecognized if-no-files-found input. Provided: ${ifNoFilesFound}. Available options: warn,error,ignore`,
    );
  }
  const retentionText = core.getInput('retention-days');
  const retentionDays = retentionText ? Number.parseInt(retentionText, 10) : undefined;
  if (retentionDays !== undefined && Number.isNaN(retentionDays)) throw new Error('Invalid retention-days');
  const levelText = core.getInput('compression-level');
  if (levelText) {
    const level = Number.parseInt(levelText, 10);
    if (Number.isNaN(level)) throw new Error('Invalid compression-level');
    if (level < 0 || level > 9) throw new Error('Invalid compression-level. Valid values are 0-9');
    // The v3 protocol gzips each file when that makes it smaller; it takes no level.
  }

  const { files, root } = await search(searchPath, includeHidden);
  if (files.length === 0) {
    const message = `No files were found with the provided path: ${searchPath}. No artifacts will be uploaded.`;
    if (ifNoFilesFound === 'error') throw new Error(message);
    if (ifNoFilesFound === 'warn') core.warning(message);
    else core.info(message);
    return;
  }
  core.info(`With the provided path, there will be ${files.length} file${files.length === 1 ? '' : 's'} uploaded`);
  checkArtifactName(name);
  core.info('Artifact name is valid!');

  const existing = await listArtifacts();
  const previous = existing.get(name);
  if (previous && !overwrite) {
    throw new Error(
      'Failed to CreateArtifact: Received non-retryable error: Failed request: (409) Conflict: an artifact with this name already exists on the workflow run',
    );
  }
  const generation = previous ? previous.generation + 1 : 1;
  if (previous) core.info(`Artifact '${name}' is replaced (overwrite: true): this upload is generation ${generation}`);

  const response = await artifactV1.create().uploadArtifact(storedName(name, generation), files, root, {
    continueOnError: false,
    ...(retentionDays ? { retentionDays } : {}),
  });
  if (response.failedItems.length > 0) throw new Error(`Failed to upload ${response.failedItems.join(', ')}`);
  const id = existing.size + 1;
  const digest = digestOf(files, root);
  const server = process.env.GITHUB_SERVER_URL || 'https://github.com';
  const url = `${server}/${process.env.GITHUB_REPOSITORY}/actions/runs/${process.env.GITHUB_RUN_ID}/artifacts/${id}`;
  core.info(
    `Artifact ${name} has been successfully uploaded! Final size is ${response.size} bytes. Artifact ID is ${id}`,
  );
  core.setOutput('artifact-id', id);
  core.setOutput('artifact-digest', digest);
  core.info(`Artifact download URL: ${url}`);
  core.setOutput('artifact-url', url);
});
