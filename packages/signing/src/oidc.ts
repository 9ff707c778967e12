import { HttpClient } from '@actions/http-client';
import { BearerCredentialHandler } from '@actions/http-client/lib/auth';
import { UserError } from '@golden-image/kit';

export const GITHUB_OIDC_ISSUER = 'https://token.actions.githubusercontent.com';
export const SIGSTORE_AUDIENCE = 'sigstore';

/** Fetches a GitHub Actions OIDC token for an audience; injectable so tests can hand out crafted tokens. */
export type IdTokenFetcher = (env: NodeJS.ProcessEnv, audience: string) => Promise<string>;

export function hasGithubOidc(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.ACTIONS_ID_TOKEN_REQUEST_URL && env.ACTIONS_ID_TOKEN_REQUEST_TOKEN);
}

export function requireGithubOidc(env: NodeJS.ProcessEnv): void {
  if (hasGithubOidc(env)) return;
  throw new UserError(
    'Keyless signing needs a GitHub OIDC token, and this job has none (ACTIONS_ID_TOKEN_REQUEST_URL / ' +
      'ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set). Add `permissions: id-token: write` to the job (a reusable ' +
      'workflow needs it in its caller too), or sign with a key (the "key" input).',
  );
}

/**
 * What @actions/core's getIDToken does (same HTTP client, so proxies and retries behave alike), reading the request
 * URL and token from the given env instead of process.env. The token is a secret: the caller masks it.
 */
export const fetchGithubIdToken: IdTokenFetcher = async (env, audience) => {
  requireGithubOidc(env);
  const client = new HttpClient(
    'actions/oidc-client',
    [new BearerCredentialHandler(env.ACTIONS_ID_TOKEN_REQUEST_TOKEN ?? '')],
    {
      allowRetries: true,
      maxRetries: 10,
    },
  );
  const url = `${env.ACTIONS_ID_TOKEN_REQUEST_URL}&audience=${encodeURIComponent(audience)}`;
  let value: unknown;
  try {
    value = (await client.getJson<{ value?: unknown }>(url)).result?.value;
  } catch (error) {
    const status = (error as { statusCode?: number }).statusCode;
    throw new UserError(
      `Requesting the GitHub OIDC token failed${status ? ` (HTTP ${status})` : ''}: ${(error as Error).message}`,
    );
  }
  if (typeof value !== 'string' || value === '') throw new UserError('The GitHub OIDC token response has no "value"');
  return value;
};

/** The JWT payload, decoded without checking the signature: it only predicts the certificate identity. */
export function decodeJwtClaims(token: string): Record<string, unknown> {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[1])
    throw new UserError('The GitHub OIDC token is not a JWT (expected three dot-separated parts)');
  try {
    const claims: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    if (claims && typeof claims === 'object' && !Array.isArray(claims)) return claims as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new UserError('The GitHub OIDC token payload is not a JSON object');
}

export interface KeylessIdentity {
  identity: string;
  issuer: string;
  /** The workflow that started the run, when it differs from the identity (a reusable workflow was called). */
  caller?: string;
  /** What Fulcio writes into the certificate's GitHub extensions: the run's repository, git ref and trigger. */
  repository?: string;
  ref?: string;
  trigger?: string;
}

/**
 * Fulcio puts `https://github.com/<job_workflow_ref>` in the certificate: the workflow file the job RAN, which for a
 * reusable workflow is the called workflow, not the caller (cosign #1313).
 */
export function identityFromClaims(claims: Record<string, unknown>): KeylessIdentity {
  const jobWorkflowRef = claims.job_workflow_ref;
  if (typeof jobWorkflowRef !== 'string' || !/^[^/\s]+\/[^/\s]+\/.+@.+$/.test(jobWorkflowRef)) {
    throw new UserError(
      `The GitHub OIDC token has no usable job_workflow_ref claim (got ${JSON.stringify(jobWorkflowRef)}); set the ` +
        '"certificate-identity" input to the identity the certificate will carry.',
    );
  }
  const issuer = typeof claims.iss === 'string' && claims.iss !== '' ? claims.iss : GITHUB_OIDC_ISSUER;
  const identity = `https://github.com/${jobWorkflowRef}`;
  const workflowRef = claims.workflow_ref;
  const caller =
    typeof workflowRef === 'string' && workflowRef !== jobWorkflowRef ? `https://github.com/${workflowRef}` : undefined;
  const text = (name: string) => {
    const value = claims[name];
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  return {
    identity,
    issuer,
    ...(caller ? { caller } : {}),
    ...(text('repository') ? { repository: text('repository') } : {}),
    ...(text('ref') ? { ref: text('ref') } : {}),
    ...(text('event_name') ? { trigger: text('event_name') } : {}),
  };
}
