// The job's OIDC token as the cloud providers see it: fetched from ACTIONS_ID_TOKEN_REQUEST_URL for an audience
// (@actions/core getIDToken, as the real actions do), then checked like STS and Google's STS would: RS256 signature
// on the issuer's JWKS (the issuer must be on loopback), audience, expiry.
import { createPublicKey, createVerify, type JsonWebKey } from 'node:crypto';
import { core } from './action.js';
import { isLoopback } from './loopback.js';

export interface IdToken {
  raw: string;
  claims: Record<string, unknown>;
}

export async function fetchIdToken(audience: string): Promise<string> {
  return core.getIDToken(audience);
}

export async function verifyIdToken(raw: string, audience: string): Promise<IdToken> {
  const [head = '', body = '', signature = ''] = raw.split('.');
  const header = JSON.parse(Buffer.from(head, 'base64url').toString('utf8')) as { alg?: string; kid?: string };
  const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Record<string, unknown>;
  const issuer = new URL(String(claims.iss ?? ''));
  if (!isLoopback(issuer.hostname)) {
    throw new Error(
      `the token's issuer ${issuer.origin} is not on loopback: the stand-ins check tokens of local issuers only`,
    );
  }
  const discovery = (await (
    await fetch(`${issuer.href.replace(/\/$/, '')}/.well-known/openid-configuration`)
  ).json()) as {
    jwks_uri: string;
  };
  const jwks = (await (await fetch(discovery.jwks_uri)).json()) as { keys: (JsonWebKey & { kid?: string })[] };
  const jwk = jwks.keys.find((key) => key.kid === header.kid) ?? jwks.keys[0];
  if (header.alg !== 'RS256' || !jwk) throw new Error('the OIDC token is not an RS256 token of its issuer');
  const ok = createVerify('RSA-SHA256')
    .update(`${head}.${body}`)
    .verify(createPublicKey({ key: jwk, format: 'jwk' }), Buffer.from(signature, 'base64url'));
  if (!ok) throw new Error('the OIDC token signature does not verify on its issuer JWKS');
  const audiences = ([] as unknown[]).concat(claims.aud);
  if (!audiences.includes(audience))
    throw new Error(`Incorrect token audience: ${audiences.join(',')} (want ${audience})`);
  if (typeof claims.exp === 'number' && claims.exp * 1000 < Date.now()) throw new Error('Token expired');
  return { raw, claims };
}
