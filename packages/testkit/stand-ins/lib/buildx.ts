// docker/setup-buildx-action (v3 and v4) as far as the workflow tier goes: a builder with the remote driver on the
// BuildKit daemon StandInConfig.buildkitAddress names, created and inspected with the real docker CLI and buildx
// plugin, removed by the post step.
import { randomUUID } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { booleanInput, core, refuse, refuseUnimplemented } from './action.js';
import { standInConfig } from './config.js';
import { dockerConfigDir } from './docker.js';
import { run } from './exec.js';

const IMPLEMENTED = ['name', 'use', 'cleanup', 'cache-binary', 'driver'] as const;

interface NodeInfo {
  name?: string;
  endpoint?: string;
  status?: string;
  'buildkitd-flags'?: string;
  buildkit?: string;
  platforms?: string;
}

/** `docker buildx inspect` text: the builder's driver and its nodes. */
function parseInspect(text: string): { driver: string; nodes: NodeInfo[] } {
  let driver = '';
  const nodes: NodeInfo[] = [];
  let inNodes = false;
  for (const line of text.split('\n')) {
    const [key = '', ...rest] = line.split(':');
    const value = rest.join(':').trim();
    const field = key.trim().toLowerCase();
    if (field === 'nodes') inNodes = true;
    else if (!inNodes && field === 'driver') driver = value;
    else if (inNodes && field === 'name') nodes.push({ name: value });
    else if (inNodes && nodes.length > 0) {
      const node = nodes[nodes.length - 1] as NodeInfo;
      if (field === 'endpoint') node.endpoint = value;
      else if (field === 'status') node.status = value;
      else if (field === 'buildkit daemon flags') node['buildkitd-flags'] = value;
      else if (field === 'buildkit version' || field === 'buildkit') node.buildkit = value;
      else if (field === 'platforms') node.platforms = value.replace(/\*/g, '').replace(/\s+/g, '');
    }
  }
  return { driver, nodes };
}

export async function setupBuildx(): Promise<void> {
  refuseUnimplemented(IMPLEMENTED);
  const driver = core.getInput('driver') || 'docker-container';
  if (driver !== 'docker-container') refuse('driver', `driver ${driver} (the stand-in's builder is always remote)`);
  const address = standInConfig().buildkitAddress;
  if (!address) {
    throw new Error(
      'StandInConfig.buildkitAddress is not set: the stand-in has no BuildKit daemon to point a builder at',
    );
  }
  const plugin = standInConfig().buildxPlugin;
  if (plugin) {
    const plugins = join(dockerConfigDir(), 'cli-plugins');
    const link = join(plugins, 'docker-buildx');
    mkdirSync(plugins, { recursive: true });
    if (existsSync(link) || lstatSync(link, { throwIfNoEntry: false })) rmSync(link, { force: true });
    symlinkSync(plugin, link);
  }
  core.startGroup('Buildx version');
  core.info(run('docker', ['buildx', 'version']).stdout.trim());
  core.endGroup();

  const name = core.getInput('name') || `builder-${randomUUID()}`;
  core.setOutput('name', name);
  core.saveState('builderName', name);
  core.saveState('cleanup', booleanInput('cleanup'));
  const exists = run('docker', ['buildx', 'inspect', name], { check: false }).status === 0;
  if (exists) {
    core.info(`Builder ${name} already exists, skipping creation`);
  } else {
    core.startGroup('Creating a new builder instance');
    const args = ['buildx', 'create', '--name', name, '--driver', 'remote', address];
    if (booleanInput('use')) args.push('--use');
    core.info(run('docker', args).stdout.trim());
    core.endGroup();
  }
  core.startGroup('Booting builder');
  const inspected = run('docker', ['buildx', 'inspect', '--bootstrap', name]).stdout;
  core.info(inspected.trim());
  core.endGroup();
  const { driver: actual, nodes } = parseInspect(inspected);
  const first = nodes[0] ?? {};
  const platforms: string[] = [];
  for (const node of nodes) {
    for (const platform of node.platforms?.split(',') ?? [])
      if (platform && !platforms.includes(platform)) platforms.push(platform);
  }
  core.setOutput('driver', actual);
  core.setOutput('platforms', platforms.join(','));
  core.setOutput('nodes', JSON.stringify(nodes, undefined, 2));
  core.setOutput('endpoint', first.endpoint ?? '');
  core.setOutput('status', first.status ?? '');
  core.setOutput('flags', first['buildkitd-flags'] ?? '');
}

export async function cleanupBuildx(): Promise<void> {
  const name = core.getState('builderName');
  if (!name || core.getState('cleanup') !== 'true') return;
  core.startGroup('Removing builder');
  const removed = run('docker', ['buildx', 'rm', name], { check: false });
  if (removed.status === 0) core.info(`${name} removed`);
  else core.warning(removed.stderr.trim());
  core.endGroup();
}
