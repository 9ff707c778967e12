/**
 * What a tool run in an environment the suite controls may take from the job: how to find programs, reach the
 * network and trust TLS. Nothing that configures the tool itself.
 */
export const HOST_ENV_NAMES: readonly string[] = [
  'PATH',
  'TMPDIR',
  'LANG',
  'TZ',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'NODE_EXTRA_CA_CERTS',
];

/** The job's values of HOST_ENV_NAMES (unset ones left out). */
export function hostEnv(jobEnv: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of HOST_ENV_NAMES) if (jobEnv[name] !== undefined) env[name] = jobEnv[name];
  return env;
}
