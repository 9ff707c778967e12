// aws-actions/amazon-ecr-login stand-in: GetAuthorizationToken with the environment's credentials (those of the
// configure-aws-credentials stand-in), then docker login to the account's registry with the username and password
// StandInConfig.registries has for it.
import { core, refuse, refuseUnimplemented, runStandIn } from '../../lib/action.js';
import { ecrHost, environmentCredentials, verifySession } from '../../lib/aws.js';
import { dockerLogin, registryEntry } from '../../lib/docker.js';

const IMPLEMENTED = ['mask-password', 'skip-logout', 'registry-type'] as const;

runStandIn('aws-actions/amazon-ecr-login', async () => {
  refuseUnimplemented(IMPLEMENTED);
  const maskPassword = (core.getInput('mask-password').toLowerCase() || 'true') !== 'false';
  const registryType = core.getInput('registry-type').toLowerCase() || 'private';
  const skipLogout = core.getInput('skip-logout').toLowerCase() === 'true';
  if (registryType !== 'private' && registryType !== 'public') {
    throw new Error("Invalid input for 'registry-type', possible options are [private, public]");
  }
  if (registryType === 'public') refuse('registry-type', 'Amazon ECR Public');
  if (!maskPassword) {
    core.warning(
      'Your docker password is not masked. See https://github.com/aws-actions/amazon-ecr-login#docker-credentials for more information.',
    );
  }
  const credentials = environmentCredentials();
  core.info('Using environment variable credentials.');
  const region = process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION;
  if (!region) throw new Error('Region is missing');
  const session = verifySession(credentials);
  const registryUri = ecrHost(session.account, region);
  const { entry } = registryEntry(registryUri);
  if (!entry.username || !entry.password) {
    throw new Error(`StandInConfig.registries["${registryUri}"] has no username/password for the ECR token to carry`);
  }
  core.info(`Logging into registry ${registryUri}`);
  core.setOutput('registry', registryUri);
  try {
    await dockerLogin(registryUri, entry.username, entry.password);
  } catch (error) {
    throw new Error(`Could not login to registry ${registryUri}: ${(error as Error).message}`);
  }
  const suffix = registryUri.replace(/[^a-zA-Z0-9_]+/g, '_');
  if (maskPassword) core.setSecret(entry.password);
  core.setOutput(`docker_username_${suffix}`, entry.username);
  core.setOutput(`docker_password_${suffix}`, entry.password);
  if (!skipLogout) core.saveState('registries', registryUri);
});
