// aws-actions/configure-aws-credentials stand-in: role-to-assume with the job's OIDC token, as
// AssumeRoleWithWebIdentity would answer it for the account StandInConfig.aws names; the session credentials are
// ones only the ECR stand-ins accept (lib/aws.ts).
import { createHash } from 'node:crypto';
import { booleanInput, core, refuse, refuseUnimplemented, runStandIn } from '../../lib/action.js';
import { mintSession } from '../../lib/aws.js';
import { standInConfig } from '../../lib/config.js';
import { verifyIdToken } from '../../lib/oidc.js';

const IMPLEMENTED = [
  'aws-region',
  'role-to-assume',
  'role-session-name',
  'role-duration-seconds',
  'role-skip-session-tagging',
  'mask-aws-account-id',
  'output-credentials',
  'allowed-account-ids',
] as const;

const bool = (name: string) => (core.getInput(name) ? booleanInput(name) : false);

runStandIn('aws-actions/configure-aws-credentials', async () => {
  refuseUnimplemented(IMPLEMENTED);
  const region = core.getInput('aws-region', { required: true });
  const roleToAssume = core.getInput('role-to-assume');
  const audience = core.getInput('audience') || 'sts.amazonaws.com';
  const roleSessionName = core.getInput('role-session-name') || 'GitHubActions';
  const roleDuration = Number.parseInt(core.getInput('role-duration-seconds'), 10) || 3600;
  const maskAccountId = bool('mask-aws-account-id');
  const outputCredentials = bool('output-credentials');
  const allowed = core
    .getInput('allowed-account-ids')
    .split(',')
    .map((id) => id.trim())
    .filter(Boolean);

  if (!/^[a-z0-9-]+$/.test(region)) throw new Error(`Region is not valid: ${region}`);
  if (roleSessionName.length < 2 || roleSessionName.length > 64) {
    throw new Error(
      `Role session name must be between 2 and 64 characters, got ${roleSessionName.length}: '${roleSessionName}'`,
    );
  }
  if (!/^[\w+=,.@-]*$/.test(roleSessionName)) {
    throw new Error(
      `Role session name is not valid: '${roleSessionName}'. Must satisfy regular expression pattern: [\\w+=,.@-]*`,
    );
  }
  core.exportVariable('AWS_DEFAULT_REGION', region);
  core.exportVariable('AWS_REGION', region);

  if (!roleToAssume) refuse('role-to-assume', 'credentials without a role (ambient or static keys)');
  if (!process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN) {
    core.info(
      'It looks like you might be trying to authenticate with OIDC. Did you mean to set the `id-token` permission? ' +
        'If you are not trying to authenticate with OIDC and the action is working successfully, you can ignore this message.',
    );
    throw new Error(
      'Credentials could not be loaded, please check your action inputs: Could not load credentials from any providers',
    );
  }
  let token: string;
  try {
    token = await core.getIDToken(audience);
  } catch (error) {
    throw new Error(`getIDToken call failed: ${(error as Error).message}`);
  }

  const role = /^arn:aws[\w-]*:iam::(\d{12}):role\/(?:.*\/)?([\w+=,.@-]+)$/.exec(roleToAssume);
  if (!role?.[1] || !role[2]) refuse('role-to-assume', 'a role that is not a full role ARN');
  const [, account, roleName] = role;
  const expected = standInConfig().aws;
  try {
    const verified = await verifyIdToken(token, 'sts.amazonaws.com');
    if (!expected || expected.accountId !== account) {
      throw new Error(
        `Not authorized to perform sts:AssumeRoleWithWebIdentity${expected ? '' : ' (StandInConfig.aws is not set)'}`,
      );
    }
    core.debug(`token subject ${String(verified.claims.sub)}`);
  } catch (error) {
    throw new Error(`Could not assume role with OIDC: ${(error as Error).message}`);
  }

  const credentials = mintSession({
    account,
    roleArn: roleToAssume,
    sessionName: roleSessionName,
    expiration: Math.floor(Date.now() / 1000) + roleDuration,
  });
  const roleId = `AROA${createHash('sha256').update(roleToAssume).digest('hex').slice(0, 17).toUpperCase()}`;
  core.info(`Authenticated as assumedRoleId ${roleId}:${roleSessionName}`);
  for (const secret of Object.values(credentials)) core.setSecret(secret);
  core.exportVariable('AWS_ACCESS_KEY_ID', credentials.accessKeyId);
  core.exportVariable('AWS_SECRET_ACCESS_KEY', credentials.secretAccessKey);
  core.exportVariable('AWS_SESSION_TOKEN', credentials.sessionToken);
  if (outputCredentials) {
    core.setOutput('aws-access-key-id', credentials.accessKeyId);
    core.setOutput('aws-secret-access-key', credentials.secretAccessKey);
    core.setOutput('aws-session-token', credentials.sessionToken);
    core.setOutput('aws-expiration', new Date(Date.now() + roleDuration * 1000).toISOString());
  }
  if (allowed.length > 0 && !allowed.includes(account)) {
    throw new Error(
      `The account ID of the provided credentials (${account}) does not match any of the expected account IDs: ${allowed.join(', ')}`,
    );
  }
  const arn = `arn:aws:sts::${account}:assumed-role/${roleName}/${roleSessionName}`;
  if (maskAccountId) {
    core.setSecret(account);
    core.setSecret(arn);
  }
  core.setOutput('aws-account-id', account);
  core.setOutput('authenticated-arn', arn);
});
