// aws-actions/configure-aws-credentials stand-in, post: empties the variables main exported, as the real cleanup.
import { core, runStandIn } from '../../lib/action.js';

runStandIn('aws-actions/configure-aws-credentials', async () => {
  for (const name of [
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN',
    'AWS_DEFAULT_REGION',
    'AWS_REGION',
  ]) {
    core.exportVariable(name, '');
  }
});
