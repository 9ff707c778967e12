// google-github-actions/auth stand-in, post: removes the credentials file main exported, as the real cleanup does.
import { rmSync } from 'node:fs';
import { core, runStandIn } from '../../lib/action.js';

runStandIn('google-github-actions/auth', async () => {
  if (core.getInput('create_credentials_file').toLowerCase() !== 'true') {
    core.info('Skipping credential cleanup - "create_credentials_file" is false.');
    return;
  }
  if (core.getInput('cleanup_credentials').toLowerCase() !== 'true') {
    core.info('Skipping credential cleanup - "cleanup_credentials" is false.');
    return;
  }
  const path = process.env.GOOGLE_GHA_CREDS_PATH;
  if (!path) {
    core.info('Skipping credential cleanup - $GOOGLE_GHA_CREDS_PATH is not set.');
    return;
  }
  rmSync(path, { force: true });
  core.info(`Removed exported credentials at "${path}".`);
});
