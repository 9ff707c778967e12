#!/usr/bin/env node
// Makes sure the system tools the tests and the demo run for real are installed: skopeo, the distribution
// registry, buildah, htpasswd, openssl, jq (the tests run the reusable workflow's shell steps). Installs them with
// apt-get when it can (root or passwordless sudo on Debian/Ubuntu); otherwise stops with the one command that would.
import { execFileSync, spawnSync } from 'node:child_process';

const needs = [
  { commands: ['skopeo'], pkg: 'skopeo' },
  { commands: ['docker-registry', 'registry'], pkg: 'docker-registry' },
  { commands: ['buildah'], pkg: 'buildah' },
  { commands: ['htpasswd'], pkg: 'apache2-utils' },
  { commands: ['openssl'], pkg: 'openssl' },
  { commands: ['jq'], pkg: 'jq' },
];
const has = (command) => spawnSync('sh', ['-c', 'command -v "$1"', 'sh', command], { stdio: 'ignore' }).status === 0;
const missing = needs.filter((need) => !need.commands.some(has)).map((need) => need.pkg);
if (missing.length === 0) process.exit(0);

const install = `apt-get update && apt-get install -y ${missing.join(' ')}`;
const isRoot = process.getuid?.() === 0;
const sudo = !isRoot && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0;
if (!has('apt-get') || (!isRoot && !sudo)) {
  console.error(`Missing: ${missing.join(', ')}. Install them first:\n  sudo ${install}`);
  process.exit(1);
}
console.log(`Installing ${missing.join(', ')} with apt-get…`);
const prefix = isRoot ? [] : ['sudo', '-n'];
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
const run = (argv) => execFileSync(argv[0], argv.slice(1), { stdio: 'inherit', env });
run([...prefix, 'apt-get', 'update', '-qq']);
run([...prefix, 'apt-get', 'install', '-y', '-qq', ...missing]);
