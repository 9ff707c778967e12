// docker/login-action stand-in: docker login for each registry (or the registry-auth list), with the ECR path of
// the real action's src/aws.ts; the post step logs out.
import { parse } from 'yaml';
import { booleanInput, core, refuse, refuseUnimplemented, runStandIn } from '../../lib/action.js';
import {
  type AwsCredentials,
  ecrHost,
  environmentCredentials,
  isEcr,
  isPublicEcr,
  parseEcr,
  verifySession,
} from '../../lib/aws.js';
import { dockerLogin, registryEntry } from '../../lib/docker.js';

const IMPLEMENTED = ['registry', 'username', 'password', 'ecr', 'logout', 'registry-auth'] as const;

interface Auth {
  registry: string;
  username: string;
  password: string;
  ecr: string;
}

function authList(): Auth[] {
  const registry = core.getInput('registry');
  const username = core.getInput('username');
  const password = core.getInput('password');
  const ecr = core.getInput('ecr');
  const registryAuth = core.getInput('registry-auth');
  if (registryAuth && (registry || username || password || ecr))
    throw new Error('Cannot use registry-auth with other inputs');
  if (!registryAuth) return [{ registry: registry || 'docker.io', username, password, ecr: ecr || 'auto' }];
  const entries = parse(registryAuth) as Record<string, string | undefined>[] | null;
  const auths = (entries ?? []).map((entry) => {
    if (entry.password) core.setSecret(entry.password);
    if (entry.scope) refuse('registry-auth', 'an entry with scope');
    // An entry without registry is Docker Hub, as the real action reads it.
    return {
      registry: entry.registry || 'docker.io',
      username: entry.username ?? '',
      password: entry.password ?? '',
      ecr: entry.ecr || 'auto',
    };
  });
  if (auths.length === 0) throw new Error('No registry to login');
  return auths;
}

async function loginStandard(auth: Auth): Promise<void> {
  if (!auth.username && !auth.password) throw new Error('Username and password required');
  if (!auth.username) throw new Error('Username required');
  if (!auth.password) throw new Error('Password required');
  core.info(`Logging into ${auth.registry}...`);
  await dockerLogin(auth.registry, auth.username, auth.password);
  core.info('Login Succeeded!');
}

/** The real action's ECR path: an AWS key pair from username/password, else the environment's. */
async function loginEcr(auth: Auth): Promise<void> {
  core.info('Retrieving registries data through AWS SDK...');
  if (isPublicEcr(auth.registry)) refuse('registry', 'Amazon ECR Public');
  const parsed = parseEcr(auth.registry);
  if (!parsed) throw new Error(`${auth.registry} is not an Amazon ECR registry`);
  core.info(`AWS ECR detected with ${parsed.region} region`);
  const credentials: AwsCredentials =
    auth.username && auth.password
      ? { accessKeyId: auth.username, secretAccessKey: auth.password }
      : environmentCredentials();
  const session = verifySession(credentials);
  const accounts = [parsed.account, ...(process.env.AWS_ACCOUNT_IDS?.split(',') ?? [])].filter(
    (account, index, all) => account && all.indexOf(account) === index,
  );
  for (const account of accounts) {
    if (account !== session.account) {
      throw new Error(
        `User: ${session.roleArn} is not authorized to perform: ecr:GetAuthorizationToken on registry ${account}`,
      );
    }
    const host = ecrHost(account, parsed.region);
    const { entry } = registryEntry(host);
    if (!entry.username || !entry.password) {
      throw new Error(`StandInConfig.registries["${host}"] has no username/password for the ECR token to carry`);
    }
    core.setSecret(entry.password);
    core.info(`Logging into https://${host}...`);
    await dockerLogin(host, entry.username, entry.password);
    core.info('Login Succeeded!');
  }
}

runStandIn('docker/login-action', async () => {
  refuseUnimplemented(IMPLEMENTED);
  const logout = booleanInput('logout');
  core.saveState('logout', logout);
  const auths = authList();
  core.saveState('registries', JSON.stringify([...new Set(auths.map((auth) => auth.registry))]));
  for (const auth of auths) {
    const useEcr = /true/i.test(auth.ecr) || (auth.ecr === 'auto' && isEcr(auth.registry));
    if (auths.length > 1) core.startGroup(`Login to ${auth.registry}`);
    try {
      if (useEcr) await loginEcr(auth);
      else await loginStandard(auth);
    } finally {
      if (auths.length > 1) core.endGroup();
    }
  }
});
