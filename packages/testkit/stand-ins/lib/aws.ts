// Session credentials as the AWS stand-ins mint and check them. configure-aws-credentials turns a verified OIDC
// token into an access key id, secret and session token that carry the role's account, signed with the stand-ins'
// shared key (config.ts); the ECR stand-ins accept exactly those, and answer anything else (a GitHub token pair,
// keys without their session token) as STS and ECR do.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { standInKey } from './config.js';

export interface AwsSession {
  account: string;
  roleArn: string;
  sessionName: string;
  /** Seconds since the epoch. */
  expiration: number;
}

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export const INVALID_TOKEN = 'The security token included in the request is invalid.';

const mac = (label: string, text: string) => createHmac('sha256', standInKey()).update(`${label}\0${text}`).digest();

function keyIdFor(sessionToken: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const bytes = mac('access-key-id', sessionToken);
  return `ASIA${Array.from(bytes.subarray(0, 16), (byte) => alphabet[byte % 32]).join('')}`;
}

const secretFor = (accessKeyId: string) => mac('secret', accessKeyId).toString('base64').slice(0, 40);

export function mintSession(session: AwsSession): Required<AwsCredentials> {
  const payload = Buffer.from(JSON.stringify(session)).toString('base64url');
  const sessionToken = `${payload}.${mac('session', payload).toString('base64url')}`;
  const accessKeyId = keyIdFor(sessionToken);
  return { accessKeyId, secretAccessKey: secretFor(accessKeyId), sessionToken };
}

/** The session these credentials belong to, or the error AWS answers (UnrecognizedClientException, expired token). */
export function verifySession(credentials: AwsCredentials): AwsSession {
  const [payload = '', signature = ''] = (credentials.sessionToken ?? '').split('.');
  const expected = mac('session', payload);
  const given = Buffer.from(signature, 'base64url');
  const valid =
    payload !== '' &&
    given.length === expected.length &&
    timingSafeEqual(given, expected) &&
    credentials.accessKeyId === keyIdFor(credentials.sessionToken ?? '') &&
    credentials.secretAccessKey === secretFor(credentials.accessKeyId);
  if (!valid) throw Object.assign(new Error(INVALID_TOKEN), { name: 'UnrecognizedClientException' });
  const session = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as AwsSession;
  if (session.expiration * 1000 < Date.now()) {
    throw Object.assign(new Error('The security token included in the request is expired'), {
      name: 'ExpiredTokenException',
    });
  }
  return session;
}

/** The SDK's default chain, as far as the stand-ins go: the environment's keys. */
export function environmentCredentials(): AwsCredentials {
  const accessKeyId = process.env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = process.env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) {
    throw Object.assign(new Error('Could not load credentials from any providers'), {
      name: 'CredentialsProviderError',
    });
  }
  return { accessKeyId, secretAccessKey, sessionToken: process.env.AWS_SESSION_TOKEN || undefined };
}

/** The ECR host pattern docker/login-action v4.1.0 recognises (src/aws.ts): account, region. */
const ECR_REGISTRY = /^(([0-9]{12})\.(dkr\.ecr|dkr-ecr)\.(.+)\.(on\.aws|amazonaws\.(com(.cn)?|eu)))(\/([^:]+)(:.+)?)?$/;
const ECR_PUBLIC = /public\.ecr\.aws|ecr-public\.aws\.com/;

export function parseEcr(registry: string): { account: string; region: string } | undefined {
  const match = ECR_REGISTRY.exec(registry);
  return match?.[2] && match[4] ? { account: match[2], region: match[4] } : undefined;
}

export const isEcr = (registry: string): boolean => ECR_REGISTRY.test(registry) || ECR_PUBLIC.test(registry);
export const isPublicEcr = (registry: string): boolean => ECR_PUBLIC.test(registry);

export const ecrHost = (account: string, region: string): string => `${account}.dkr.ecr.${region}.amazonaws.com`;
