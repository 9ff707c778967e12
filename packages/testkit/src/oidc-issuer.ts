import { createSign, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { peerEnvironment } from './peer-process.js';

/** What distinguishes one GitHub Actions job from another in its OIDC token. */
export interface GithubJob {
  /** owner/name of the repository whose run it is (the caller of a reusable workflow). */
  repository: string;
  /** The workflow file the run started from, e.g. `.github/workflows/release.yml` (default). */
  workflowFile?: string;
  /** The reusable workflow the job runs, `owner/repo/.github/workflows/x.yml@refs/tags/v1`; absent: a direct job. */
  reusableWorkflow?: string;
  ref?: string;
  eventName?: string;
}

/**
 * Every claim GitHub puts in an Actions OIDC token, shaped like a real one. Fulcio's github-workflow issuer refuses
 * a token missing any of job_workflow_ref, sha, event_name, repository, workflow, ref, job_workflow_sha,
 * runner_environment, repository_id, repository_owner, repository_owner_id, repository_visibility, workflow_ref,
 * workflow_sha, run_id, run_attempt (fulcio pkg/identity/github/principal.go).
 */
export function githubClaims(job: GithubJob): Record<string, string> {
  const ref = job.ref ?? 'refs/heads/main';
  const [owner = ''] = job.repository.split('/');
  const workflowRef = `${job.repository}/${job.workflowFile ?? '.github/workflows/release.yml'}@${ref}`;
  const id = (text: string) => String(Number.parseInt(Buffer.from(text).toString('hex').slice(0, 10), 16));
  const sha = (text: string) => Buffer.from(text).toString('hex').padEnd(40, '0').slice(0, 40);
  const jobWorkflowRef = job.reusableWorkflow ?? workflowRef;
  return {
    sub: `repo:${job.repository}:ref:${ref}`,
    repository: job.repository,
    repository_id: id(job.repository),
    repository_owner: owner,
    repository_owner_id: id(owner),
    repository_visibility: 'public',
    actor: 'octocat',
    actor_id: '583231',
    ref,
    ref_type: ref.startsWith('refs/tags/') ? 'tag' : 'branch',
    sha: sha(`${job.repository}@${ref}`),
    event_name: job.eventName ?? 'push',
    workflow: 'release',
    workflow_ref: workflowRef,
    workflow_sha: sha(workflowRef),
    job_workflow_ref: jobWorkflowRef,
    job_workflow_sha: sha(jobWorkflowRef),
    run_id: '4242',
    run_number: '7',
    run_attempt: '1',
    runner_environment: 'github-hosted',
  };
}

export interface OidcIssuer {
  /** `http://127.0.0.1:PORT`: the `iss` of every token, and where the discovery document lives. */
  url: string;
  /** A signed RS256 JWT with these claims plus iss, aud (default sigstore), iat, nbf, exp, jti. */
  mint(claims: Record<string, unknown>, audience?: string): string;
  /**
   * ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN for a job with these claims: a GET of the URL
   * with `&audience=X` and `Authorization: bearer <token>` answers `{"value": <JWT for audience X>}`, as the
   * Actions runtime does, so cosign's own GitHub provider and the suite's token fetch both run.
   */
  actionsEnv(claims: Record<string, unknown>): {
    ACTIONS_ID_TOKEN_REQUEST_URL: string;
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: string;
  };
  /**
   * The same endpoint for every job of a workflow run: the claims come from `claimsFor(env)`, given the environment
   * of the process that asks (GITHUB_JOB, GITHUB_WORKFLOW, ...); undefined refuses it with 403 as the runtime refuses
   * a job without `id-token: write`.
   */
  actionsEnvByJob(claimsFor: (env: Record<string, string>) => Record<string, unknown> | undefined): {
    ACTIONS_ID_TOKEN_REQUEST_URL: string;
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: string;
  };
  /** Audiences asked for at the Actions token endpoint, in order. */
  tokenRequests: string[];
  /** Every request at the token endpoint: the asking job (GITHUB_JOB), the audience, and whether a token was given. */
  tokenLog: { job: string; workflow: string; audience: string; granted: boolean }[];
  close(): Promise<void>;
}

/**
 * A real OIDC issuer on 127.0.0.1: /.well-known/openid-configuration, its JWKS (one RSA key), and the Actions
 * token endpoint. Fulcio trusts it when its config names this URL with type github-workflow.
 */
export async function startOidcIssuer(): Promise<OidcIssuer> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomBytes(8).toString('hex');
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' };
  const jobs = new Map<string, Record<string, unknown>>();
  const resolvers = new Map<string, (env: Record<string, string>) => Record<string, unknown> | undefined>();
  const tokenRequests: string[] = [];
  const tokenLog: OidcIssuer['tokenLog'] = [];
  let url = '';

  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const mint = (claims: Record<string, unknown>, audience = 'sigstore') => {
    const now = Math.floor(Date.now() / 1000);
    const body = { jti: randomUUID(), iss: url, aud: audience, iat: now, nbf: now - 5, exp: now + 600, ...claims };
    const unsigned = `${b64({ alg: 'RS256', typ: 'JWT', kid })}.${b64(body)}`;
    const signature = createSign('RSA-SHA256').update(unsigned).sign(privateKey).toString('base64url');
    return `${unsigned}.${signature}`;
  };

  const server: Server = createServer((req, res) => {
    const reqUrl = new URL(req.url ?? '/', url);
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    if (reqUrl.pathname === '/.well-known/openid-configuration') {
      return json(200, {
        issuer: url,
        jwks_uri: `${url}/jwks`,
        response_types_supported: ['id_token'],
        subject_types_supported: ['public', 'pairwise'],
        id_token_signing_alg_values_supported: ['RS256'],
        claims_supported: ['sub', 'aud', 'iss', 'repository', 'job_workflow_ref'],
        scopes_supported: ['openid'],
      });
    }
    if (reqUrl.pathname === '/jwks') return json(200, { keys: [jwk] });
    if (reqUrl.pathname === '/idtoken') {
      const bearer = /^bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? '';
      const audience = reqUrl.searchParams.get('audience') ?? '';
      const resolver = resolvers.get(bearer);
      let claims = jobs.get(bearer);
      if (resolver) {
        const env = peerEnvironment(req.socket.remotePort ?? 0) ?? {};
        claims = resolver(env);
        tokenLog.push({
          job: env.GITHUB_JOB ?? '',
          workflow: env.GITHUB_WORKFLOW ?? '',
          audience,
          granted: claims !== undefined,
        });
        if (!claims) return json(403, { message: 'This job was not granted id-token: write.' });
      }
      if (!claims) return json(401, { message: 'bad credentials' });
      tokenRequests.push(audience);
      return json(200, { value: mint(claims, audience || undefined) });
    }
    json(404, { message: 'not found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  /** The token endpoint's variables for a fresh bearer, registered by `register`. */
  const endpointFor = (register: (bearer: string) => void) => {
    const bearer = randomBytes(16).toString('hex');
    register(bearer);
    return { ACTIONS_ID_TOKEN_REQUEST_URL: `${url}/idtoken?api-version=2.0`, ACTIONS_ID_TOKEN_REQUEST_TOKEN: bearer };
  };

  return {
    url,
    mint,
    actionsEnv: (claims) => endpointFor((bearer) => jobs.set(bearer, claims)),
    actionsEnvByJob: (claimsFor) => endpointFor((bearer) => resolvers.set(bearer, claimsFor)),
    tokenRequests,
    tokenLog,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
