import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HOST_ENV_NAMES } from '@golden-image/kit';

/** What npm may take from the job when nothing of the job's own code runs (publish, lockfile resolution). */
const PASSED_THROUGH = [...HOST_ENV_NAMES, 'CI'];
/** The run's identity, which npm's provenance statement records (GITHUB_WORKFLOW_REF, RUNNER_ENVIRONMENT...). */
const RUN_IDENTITY = /^(GITHUB_|RUNNER_)/;
const OIDC = ['ACTIONS_ID_TOKEN_REQUEST_URL', 'ACTIONS_ID_TOKEN_REQUEST_TOKEN'];
/**
 * The job's keys to the Actions services: with them a lifecycle script could save a cache entry or an artifact that
 * a later job restores. The job's own code never gets them (nor OIDC, nor the npm token).
 */
const RUNTIME = [
  'ACTIONS_RUNTIME_TOKEN',
  'ACTIONS_RUNTIME_URL',
  'ACTIONS_CACHE_URL',
  'ACTIONS_RESULTS_URL',
  'ACTIONS_CACHE_SERVICE_V2',
];

export interface NpmSandbox {
  /** The private user config (mode 0600): registry and token lines, nothing from the job's ~/.npmrc. */
  userconfig: string;
  env: NodeJS.ProcessEnv;
}

/**
 * A private user config and global config (and, unless the job's code runs, HOME) for one npm run, so neither the job's ~/.npmrc, a global npmrc,
 * nor `npm_config_*` variables (set by any npm that started this process, or by the job) change what npm does.
 * `jobCode`: the job's own lifecycle scripts will run (pack), so they keep the job's environment otherwise, less its
 * OIDC, npm and Actions-service credentials;
 * without it only PATH, proxies, CA settings and the run's identity pass, plus OIDC when `oidc` is set.
 */
export async function npmSandbox(
  jobEnv: NodeJS.ProcessEnv,
  dir: string,
  options: { jobCode?: boolean; oidc?: boolean; config?: string[] } = {},
): Promise<NpmSandbox> {
  const home = join(dir, 'home');
  await mkdir(home, { recursive: true, mode: 0o700 });
  const userconfig = join(home, '.npmrc');
  const globalconfig = join(home, 'npmrc-global');
  await writeFile(userconfig, (options.config ?? []).map((line) => `${line}\n`).join(''), { mode: 0o600 });
  await writeFile(globalconfig, '', { mode: 0o600 });
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(jobEnv)) {
    if (value === undefined || /^npm_/i.test(name)) continue;
    const keep = options.jobCode
      ? !OIDC.includes(name) && !RUNTIME.includes(name) && name !== 'NODE_AUTH_TOKEN'
      : PASSED_THROUGH.includes(name) || RUN_IDENTITY.test(name) || (options.oidc === true && OIDC.includes(name));
    if (keep) env[name] = value;
  }
  // The job's own scripts keep the job's HOME (git's safe.directory, tool caches); npm's config files stay private.
  const own = options.jobCode ? {} : { HOME: home, npm_config_cache: join(home, '.npm') };
  return {
    userconfig,
    env: {
      ...env,
      ...own,
      npm_config_userconfig: userconfig,
      npm_config_globalconfig: globalconfig,
      npm_config_update_notifier: 'false',
      npm_config_fund: 'false',
      npm_config_audit: 'false',
    },
  };
}

/** The `//host[:port]/path/` key npm files a registry's settings under ("nerf dart"). */
export function registryKey(registry: URL): string {
  const path = registry.pathname.endsWith('/') ? registry.pathname : `${registry.pathname}/`;
  return `//${registry.host}${path}`;
}
