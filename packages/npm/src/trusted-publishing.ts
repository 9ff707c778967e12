import { UserError } from '@golden-image/kit';
import type { IdTokenFetcher } from '@golden-image/signing';
import { describeAnswer, escapedName, NetworkError, type RegistryHttp } from './registry-http.js';

/**
 * npm trusted publishing, done here rather than inside npm: npm's own exchange (lib/utils/oidc.js) swallows every
 * failure and publishes with whatever token is configured. The GitHub OIDC token (audience `npm:<registry host>`)
 * goes to `POST /-/npm/v1/oidc/token/exchange/package/<name>` as a bearer token; the answer's `token` is a
 * short-lived publish token for that one package. Any failure is reported and nothing is published.
 */
export async function exchangeOidcToken(options: {
  http: RegistryHttp;
  packageName: string;
  env: NodeJS.ProcessEnv;
  fetchIdToken: IdTokenFetcher;
  /** Registers a value the logs must never show. */
  mask: (value: string) => void;
}): Promise<string> {
  const { http, packageName } = options;
  const audience = `npm:${http.registry.hostname}`;
  const idToken = await options.fetchIdToken(options.env, audience);
  options.mask(idToken);
  const url = new URL(`/-/npm/v1/oidc/token/exchange/package/${escapedName(packageName)}`, http.registry).href;
  let answer: Awaited<ReturnType<RegistryHttp['post']>>;
  try {
    answer = await http.post(url, '', { authorization: `Bearer ${idToken}` });
  } catch (error) {
    if (error instanceof NetworkError) {
      throw new UserError(`npm trusted publishing: the token exchange at ${url} got no answer (${error.message}).`);
    }
    throw error;
  }
  const advice =
    'Configure this repository and workflow file as a trusted publisher of the package on the registry, or set the ' +
    '"token" input. publish-npm never falls back to another token by itself.';
  if (answer.status < 200 || answer.status > 299) {
    throw new UserError(
      `npm trusted publishing: the registry refused to exchange the GitHub OIDC token for a publish token for ${packageName} (${describeAnswer(answer)}). ${advice}`,
    );
  }
  let token: unknown;
  try {
    token = (JSON.parse(answer.body.toString('utf8')) as { token?: unknown }).token;
  } catch {
    token = undefined;
  }
  if (typeof token !== 'string' || token === '') {
    throw new UserError(
      `npm trusted publishing: the token exchange for ${packageName} answered ${answer.status} without a token. ${advice}`,
    );
  }
  return token;
}
