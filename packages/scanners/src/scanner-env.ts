import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { hostEnv } from '@golden-image/kit';

// Trivy reads TRIVY_<FLAG> for every flag (TRIVY_SEVERITY, TRIVY_IGNORE_UNFIXED...), Syft SYFT_*, OSV-Scanner
// OSV_*, and each reads config files from HOME and the working directory, any of which would change what the gate
// sees: a scanner gets only the job's host settings (hostEnv).

/**
 * The whole environment of a scanner run: the job's host settings, a private HOME (no ~/.syft.yaml or
 * ~/.config/trivy), the job's Docker config for registry logins (DOCKER_CONFIG, else the job's ~/.docker), and the
 * suite's own settings in `own`. Run the scanner in a scratch working directory as well (no ./trivy.yaml).
 */
export function scannerEnv(
  jobEnv: NodeJS.ProcessEnv,
  home: string,
  own: Record<string, string> = {},
): NodeJS.ProcessEnv {
  mkdirSync(home, { recursive: true });
  const env = hostEnv(jobEnv);
  const dockerConfig = jobEnv.DOCKER_CONFIG || (jobEnv.HOME ? join(jobEnv.HOME, '.docker') : undefined);
  if (dockerConfig) env.DOCKER_CONFIG = dockerConfig;
  env.HOME = home;
  env.XDG_CONFIG_HOME = join(home, '.config');
  env.XDG_CACHE_HOME = join(home, '.cache');
  return { ...env, ...own };
}
