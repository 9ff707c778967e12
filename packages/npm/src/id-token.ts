/**
 * Whether this job can mint an OIDC token: ACTIONS_ID_TOKEN_REQUEST_URL is set and the token endpoint answers. On
 * GitHub the variable is set only in jobs granted id-token: write; a runner that sets it everywhere (act) answers
 * 4xx for the others. Anything but a 4xx counts as holding it (the safe answer).
 */
export async function holdsIdToken(env: NodeJS.ProcessEnv): Promise<boolean> {
  const url = env.ACTIONS_ID_TOKEN_REQUEST_URL;
  if (!url) return false;
  try {
    const response = await fetch(`${url}${url.includes('?') ? '&' : '?'}audience=golden-image-permission-check`, {
      headers: { authorization: `bearer ${env.ACTIONS_ID_TOKEN_REQUEST_TOKEN ?? ''}` },
      signal: AbortSignal.timeout(10_000),
    });
    await response.body?.cancel();
    return !(response.status >= 400 && response.status < 500);
  } catch {
    return true;
  }
}
