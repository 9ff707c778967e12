// docker/login-action stand-in, post: docker logout of every registry main logged in to, when logout is true.
import { core, runStandIn } from '../../lib/action.js';
import { dockerLogout } from '../../lib/docker.js';

runStandIn('docker/login-action', async () => {
  if (!/true/i.test(core.getState('logout'))) return;
  for (const registry of JSON.parse(core.getState('registries') || '[]') as string[]) {
    core.startGroup(`Logout from ${registry}`);
    core.info(dockerLogout(registry) ? `Removing login credentials for ${registry}` : `Not logged in to ${registry}`);
    core.endGroup();
  }
});
