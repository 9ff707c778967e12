// docker/setup-qemu-action stand-in: installs nothing (no Docker engine, no privileged binfmt container here); it
// reports the platforms this host can run, native plus the qemu interpreters registered in binfmt_misc.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { core, refuseUnimplemented, runStandIn } from '../../lib/action.js';

const IMPLEMENTED = ['platforms'] as const;
const BINFMT = '/proc/sys/fs/binfmt_misc';

/** qemu-<arch> interpreter -> the platforms tonistiigi/binfmt reports for it. */
const QEMU: Record<string, string[]> = {
  aarch64: ['linux/arm64'],
  arm: ['linux/arm/v7', 'linux/arm/v6'],
  riscv64: ['linux/riscv64'],
  ppc64le: ['linux/ppc64le'],
  s390x: ['linux/s390x'],
  mips64el: ['linux/mips64le'],
  mips64: ['linux/mips64'],
  loongarch64: ['linux/loong64'],
  x86_64: ['linux/amd64'],
  i386: ['linux/386'],
};
/** What `--install all` sets up, by the short names the platforms input takes. */
const ALL = ['arm64', 'arm', 'riscv64', 'ppc64le', 's390x', '386', 'mips64le', 'mips64', 'loong64', 'amd64'];

function available(): string[] {
  const native =
    process.arch === 'x64' ? ['linux/amd64', 'linux/386'] : process.arch === 'arm64' ? ['linux/arm64'] : [];
  const found = [...native];
  if (existsSync(BINFMT)) {
    for (const entry of readdirSync(BINFMT)) {
      if (entry === 'register' || entry === 'status') continue;
      const text = readFileSync(join(BINFMT, entry), 'utf8');
      const arch = /interpreter \S*qemu-([\w]+?)(?:-static)?\s/.exec(text)?.[1];
      if (!text.startsWith('enabled') || !arch) continue;
      for (const platform of QEMU[arch] ?? []) if (!found.includes(platform)) found.push(platform);
    }
  }
  return found;
}

const short = (platform: string) => platform.replace(/^linux\//, '').split('/')[0] ?? platform;

runStandIn('docker/setup-qemu-action', async () => {
  refuseUnimplemented(IMPLEMENTED);
  const requested = core
    .getInput('platforms')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  const platforms = available();
  const have = new Set(platforms.map(short));
  if (requested.length === 0 || requested.includes('all')) {
    const missing = ALL.filter((arch) => !have.has(arch));
    if (missing.length > 0) {
      core.warning(
        `The real setup-qemu-action would install emulators for ${missing.join(', ')}; this stand-in cannot, and this host runs only ${platforms.join(', ')}`,
      );
    }
  } else {
    const missing = requested.filter((platform) => !have.has(short(platform)));
    if (missing.length > 0) {
      throw new Error(
        `input 'platforms': ${missing.join(', ')} cannot run on this host (no qemu interpreter in ${BINFMT}) and the stand-in for docker/setup-qemu-action installs none`,
      );
    }
  }
  core.info(platforms.join(','));
  core.setOutput('platforms', platforms.join(','));
});
