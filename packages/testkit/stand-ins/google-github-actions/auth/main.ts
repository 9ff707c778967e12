// google-github-actions/auth stand-in: Workload Identity Federation with the job's OIDC token for the provider and
// service account StandInConfig.gcp names; the credentials file and variables as the real action writes them, and
// the access token the Artifact Registry stand-in registry takes as oauth2accesstoken's password.
import { randomBytes } from 'node:crypto';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { core, refuse, refuseUnimplemented, runStandIn } from '../../lib/action.js';
import { standInConfig } from '../../lib/config.js';
import { verifyIdToken } from '../../lib/oidc.js';

const IMPLEMENTED = [
  'project_id',
  'workload_identity_provider',
  'service_account',
  'create_credentials_file',
  'export_environment_variables',
  'token_format',
  'cleanup_credentials',
  'access_token_lifetime',
  'access_token_scopes',
] as const;

const secretsWarning =
  'If you are specifying input values via GitHub secrets, ensure the secret is being injected into the environment. ' +
  'By default, secrets are not passed to workflows triggered from forks, including Dependabot.';

/** The real action's project ID from a service account e-mail: the first label of the domain. */
function projectOfServiceAccount(serviceAccount: string): string | undefined {
  const [, domain, ...rest] = serviceAccount.split('@');
  const labels = domain?.split('.') ?? [];
  return rest.length === 0 && labels.length >= 2 ? labels[0] : undefined;
}

const bool = (name: string) => core.getInput(name).trim().toLowerCase() === 'true';

function accessToken(): string {
  const gcp = standInConfig().gcp;
  if (gcp?.accessToken) return gcp.accessToken;
  const passwords = Object.entries(standInConfig().registries)
    .filter(([host, entry]) => host.endsWith('-docker.pkg.dev') && entry.password)
    .map(([, entry]) => entry.password as string);
  const distinct = [...new Set(passwords)];
  if (distinct.length !== 1 || !distinct[0]) {
    throw new Error(
      `StandInConfig.gcp.accessToken is not set and registries have ${distinct.length} distinct *-docker.pkg.dev passwords`,
    );
  }
  return distinct[0];
}

runStandIn('google-github-actions/auth', async () => {
  refuseUnimplemented(IMPLEMENTED);
  const provider = core.getInput('workload_identity_provider');
  const serviceAccount = core.getInput('service_account');
  const tokenFormat = core.getInput('token_format');
  const audience = core.getInput('audience') || `https://iam.googleapis.com/${provider}`;
  const exportVariables = bool('export_environment_variables');
  const projectId = core.getInput('project_id') || projectOfServiceAccount(serviceAccount);
  if (!provider) {
    throw new Error(
      `google-github-actions/auth failed with: The GitHub Action workflow must specify exactly one of "workload_identity_provider" or "credentials_json"! ${secretsWarning}`,
    );
  }
  const requestUrl = process.env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const requestToken = process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (!requestUrl || !requestToken) {
    throw new Error(
      'google-github-actions/auth failed with: GitHub Actions did not inject $ACTIONS_ID_TOKEN_REQUEST_TOKEN or $ACTIONS_ID_TOKEN_REQUEST_URL into this job. This most likely means the GitHub Actions workflow permissions are incorrect, or this job is being run from a fork. For more information, please see https://docs.github.com/en/actions/security-guides/automatic-token-authentication#permissions-for-the-github_token',
    );
  }
  const oidcToken = await core.getIDToken(audience);
  const gcp = standInConfig().gcp;
  const stsAudience = `//iam.googleapis.com/${provider}`;
  try {
    await verifyIdToken(oidcToken, `https://iam.googleapis.com/${provider}`);
    if (!gcp || gcp.workloadIdentityProvider !== provider) {
      throw new Error(`(400) invalid_target: The target service indicated by the "audience" parameters is invalid`);
    }
  } catch (error) {
    throw new Error(
      `google-github-actions/auth failed with: failed to generate Google Cloud federated token for ${stsAudience}: ${(error as Error).message}`,
    );
  }

  if (bool('create_credentials_file')) {
    const workspace = process.env.GITHUB_WORKSPACE;
    if (!workspace) throw new Error('google-github-actions/auth failed with: $GITHUB_WORKSPACE is not set');
    if (readdirSync(workspace).length === 0) {
      core.info(
        '⚠️ The "create_credentials_file" option is true, but the current GitHub workspace is empty. Did you forget to use "actions/checkout" before this step? If you do not intend to share authentication with future steps in this job, set "create_credentials_file" to false.',
      );
    }
    const path = join(workspace, `gha-creds-${randomBytes(8).toString('hex')}.json`);
    const url = new URL(requestUrl);
    url.searchParams.set('audience', audience);
    const credentials: Record<string, unknown> = {
      type: 'external_account',
      audience: stsAudience,
      subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
      token_url: 'https://sts.googleapis.com/v1/token',
      credential_source: {
        url: url.toString(),
        headers: { Authorization: `Bearer ${requestToken}` },
        format: { type: 'json', subject_token_field_name: 'value' },
      },
    };
    if (serviceAccount) {
      credentials.service_account_impersonation_url = `https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/${serviceAccount}:generateAccessToken`;
    }
    writeFileSync(path, JSON.stringify(credentials), { mode: 0o640 });
    core.info(`Created credentials file at "${path}"`);
    core.setOutput('credentials_file_path', path);
    if (exportVariables) {
      for (const name of [
        'CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE',
        'GOOGLE_APPLICATION_CREDENTIALS',
        'GOOGLE_GHA_CREDS_PATH',
      ]) {
        core.exportVariable(name, path);
      }
    }
  }
  if (projectId) {
    core.setOutput('project_id', projectId);
    if (exportVariables) {
      for (const name of [
        'CLOUDSDK_CORE_PROJECT',
        'CLOUDSDK_PROJECT',
        'GCLOUD_PROJECT',
        'GCP_PROJECT',
        'GOOGLE_CLOUD_PROJECT',
      ]) {
        core.exportVariable(name, projectId);
      }
    }
  } else {
    core.info(
      '⚠️ Failed to compute a project ID from the given inputs. Neither the "project_id" output nor any environment variables will be exported. If you require these values in other steps, specify the "project_id" input directly.',
    );
  }
  // The federated token of Google's STS: opaque to the workflow, masked like the real one.
  const authToken = `ya29.d.stand-in-${randomBytes(24).toString('base64url')}`;
  core.setSecret(authToken);
  core.setOutput('auth_token', authToken);

  switch (tokenFormat) {
    case '':
      break;
    case 'access_token': {
      if (!serviceAccount) {
        throw new Error(
          `google-github-actions/auth failed with: The GitHub Action workflow must specify a "service_account" to use when generating an OAuth 2.0 Access Token. ${secretsWarning}`,
        );
      }
      if (gcp?.serviceAccount !== serviceAccount) {
        throw new Error(
          `google-github-actions/auth failed with: failed to generate Google Cloud OAuth 2.0 Access Token for ${serviceAccount}: (403) Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).`,
        );
      }
      const token = accessToken();
      core.setSecret(token);
      core.setOutput('access_token', token);
      break;
    }
    case 'id_token':
      refuse('token_format', 'id_token');
      break;
    default:
      throw new Error(`google-github-actions/auth failed with: Unknown token format "${tokenFormat}"`);
  }
});
