// aws-actions/amazon-ecr-login stand-in, post: docker logout of the registries main logged in to.
import { core, runStandIn } from '../../lib/action.js';
import { dockerLogout } from '../../lib/docker.js';

runStandIn('aws-actions/amazon-ecr-login', async () => {
  const registries = core.getState('registries');
  if (!registries) {
    core.debug('No Docker registries to logout from');
    return;
  }
  for (const registry of registries.split(',')) {
    core.info(`Logging out of registry ${registry}`);
    dockerLogout(registry);
  }
});
