// actions/download-artifact v4 stand-in on the v3 protocol: by name straight into path, by pattern (minimatch, as
// v4) or all into <path>/<name>/ unless merge-multiple; the newest generation of each name (lib/artifacts.ts).
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import artifactV1 from '@actions/artifact-v1';
import { Minimatch } from 'minimatch';
import { booleanInput, core, refuseUnimplemented, runStandIn } from '../../lib/action.js';
import { listArtifacts, type StoredArtifact } from '../../lib/artifacts.js';

const IMPLEMENTED = ['name', 'path', 'pattern', 'merge-multiple'] as const;

runStandIn('actions/download-artifact', async () => {
  refuseUnimplemented(IMPLEMENTED);
  const name = core.getInput('name');
  const pattern = core.getInput('pattern');
  const mergeMultiple = booleanInput('merge-multiple');
  let path = core.getInput('path') || process.env.GITHUB_WORKSPACE || process.cwd();
  if (path.startsWith('~')) path = path.replace('~', homedir());
  const resolvedPath = resolve(path);

  const all = await listArtifacts();
  let artifacts: StoredArtifact[];
  if (name) {
    core.info('Downloading single artifact');
    const found = all.get(name);
    if (!found) {
      throw new Error(
        `Unable to download artifact(s): Artifact not found for name: ${name}\n        Please ensure that your artifact is not expired and the artifact was uploaded using a compatible version of toolkit/upload-artifact.`,
      );
    }
    artifacts = [found];
  } else {
    artifacts = [...all.values()];
    if (pattern) {
      core.info(`Filtering artifacts by pattern '${pattern}'`);
      const matcher = new Minimatch(pattern);
      artifacts = artifacts.filter((artifact) => matcher.match(artifact.name));
    } else {
      core.info('No input name, artifact-ids or pattern filtered specified, downloading all artifacts');
      if (!mergeMultiple) core.info('An extra directory with the artifact name will be created for each download');
    }
  }
  if (artifacts.length > 0) core.info('Preparing to download the following artifacts:');
  for (const artifact of artifacts) core.info(`- ${artifact.name} (generation ${artifact.generation})`);
  const client = artifactV1.create();
  for (const artifact of artifacts) {
    const target = name || mergeMultiple ? resolvedPath : join(resolvedPath, artifact.name);
    await client.downloadArtifact(artifact.stored, target, { createArtifactFolder: false });
  }
  core.info(`Total of ${artifacts.length} artifact(s) downloaded`);
  core.setOutput('download-path', resolvedPath);
  core.info('Download artifact has finished successfully');
});
