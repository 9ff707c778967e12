// Every recording the tool doubles replay, in one catalogue: how the real tool (at the pinned version) is run to
// make it, offline, with the project's own DBs and sample images. `npm run doubles:record` writes them into
// test/doubles/fidelity/recorded/<tool>-<version>-<name>.json, each with the tool, version and command in its
// RECORDING_KEY; the doubles replay only recordings of the version they stand for (test/doubles/lib/pins.mjs);
// the real tier (fidelity/recordings.real.test.ts) checks each recording's version is the binary's and that the
// binary still reports the same on the same input.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import {
  alpineFiles,
  buildLayout,
  offlineOsvDb,
  offlineTrivyCache,
  repoRoot,
  SAMPLE_MUSL,
} from '@golden-image/testkit';
import { PINS } from '@golden-image/tools';

export const RECORDED_DIR = join(repoRoot, 'test', 'doubles', 'fidelity', 'recorded');
/** The top-level key a recording carries besides the tool's own output; the doubles drop it when they replay. */
export const RECORDING_KEY = 'golden-image-recording';

export type RecordedTool = 'trivy' | 'osv-scanner' | 'syft';

export interface RecordingInfo {
  tool: RecordedTool;
  version: string;
  name: string;
  /** The command that made it, with the run's scratch directory written as <work>. */
  command: string[];
}

export interface Run {
  args: string[];
  env: Record<string, string>;
  /** The file the tool writes its output to. */
  output: string;
}

export interface Recording {
  tool: RecordedTool;
  name: string;
  /** What the recording shows, for people. */
  about: string;
  /** Prepares the input under `work` and returns how the real tool is run on it. */
  prepare(work: string): Promise<Run>;
}

const REPOS = join(repoRoot, 'test', 'fixtures', 'repos');
const copyRepo = (name: string, work: string) => {
  const dir = join(work, name);
  cpSync(join(REPOS, name), dir, { recursive: true });
  return dir;
};

/** The suite's own Trivy argv (packages/scanners trivy-run.ts commonArgs), on the project's offline DB. */
async function trivyRun(work: string, target: string[], scanners: 'vuln' | 'secret' = 'vuln'): Promise<Run> {
  const cache = join(work, 'cache');
  if (!existsSync(join(cache, 'db'))) await offlineTrivyCache(cache);
  writeFileSync(join(work, 'empty.trivyignore'), '');
  const output = join(work, 'report.json');
  const flags = ['--format', 'json', '--output', output, '--cache-dir', cache, '--cache-backend', 'memory'];
  flags.push('--skip-db-update', '--skip-java-db-update', '--skip-version-check', '--disable-telemetry');
  flags.push('--scanners', scanners, '--list-all-pkgs=false', '--ignorefile', join(work, 'empty.trivyignore'));
  flags.push('--no-progress');
  return { args: [target[0] as string, ...flags, ...target.slice(1)], env: {}, output };
}

/** One platform of the Alpine sample image with the given apk packages (test/fixtures/advisories/trivy/alpine.yaml). */
async function alpineLayout(work: string, platform: string, packages: Record<string, string>): Promise<string> {
  const dir = join(work, 'sample-image');
  await buildLayout(dir, {
    platforms: [platform],
    files: { [platform]: alpineFiles(platform, packages) },
    attestations: false,
  });
  return dir;
}

/** `osv-scanner scan source` as scan-repo runs it, offline against the project's OSV records. */
function osvRun(work: string, repo: string, extra: string[]): Run {
  const db = offlineOsvDb(join(work, 'db')).dir;
  const output = join(work, 'report.json');
  const args = ['scan', 'source', '-r', '--format', 'json', '--output-file', output, '--offline', ...extra, repo];
  return { args, env: { OSV_SCALIBR_LOCAL_DB_CACHE_DIRECTORY: db }, output };
}

export const RECORDINGS: readonly Recording[] = [
  {
    tool: 'trivy',
    name: 'alpine-amd64-clean',
    about: 'image --input of the Alpine sample, linux/amd64, every package fixed: Results without Vulnerabilities',
    prepare: async (work) =>
      trivyRun(work, ['image', '--input', await alpineLayout(work, 'linux/amd64', { musl: SAMPLE_MUSL.fixed })]),
  },
  {
    tool: 'trivy',
    name: 'alpine-arm64-vulnerable',
    about: 'image --input of the Alpine sample, linux/arm64, musl vulnerable: one CRITICAL, fixed',
    prepare: async (work) =>
      trivyRun(work, ['image', '--input', await alpineLayout(work, 'linux/arm64', { musl: SAMPLE_MUSL.vulnerable })]),
  },
  {
    tool: 'trivy',
    name: 'alpine-all-severities',
    about: 'image --input, linux/amd64: CRITICAL (musl), HIGH and an unfixed MEDIUM (busybox), LOW (zlib)',
    prepare: async (work) =>
      trivyRun(work, [
        'image',
        '--input',
        await alpineLayout(work, 'linux/amd64', {
          musl: SAMPLE_MUSL.vulnerable,
          busybox: '1.36.1-r29',
          zlib: '1.3.1-r0',
        }),
      ]),
  },
  {
    tool: 'trivy',
    name: 'fs-npm-vulnerable',
    about: 'fs of test/fixtures/repos/npm-vulnerable: lodash CVE-2099-2001 (HIGH, GHSA vendor ID), fixed in 4.17.21',
    prepare: (work) => trivyRun(work, ['fs', copyRepo('npm-vulnerable', work)]),
  },
  {
    tool: 'trivy',
    name: 'fs-npm-clean',
    about: 'fs of test/fixtures/repos/npm-clean: a lockfile target without Vulnerabilities',
    prepare: (work) => trivyRun(work, ['fs', copyRepo('npm-clean', work)]),
  },
  {
    tool: 'trivy',
    name: 'fs-empty',
    about: 'fs of an empty directory: the other clean shape, no Results at all',
    prepare: (work) => {
      mkdirSync(join(work, 'empty'));
      return trivyRun(work, ['fs', join(work, 'empty')]);
    },
  },
  {
    tool: 'trivy',
    name: 'fs-secret-github-pat-slack',
    about: 'fs --scanners secret of a package with a GitHub token in .env and a Slack webhook in lib/config.js',
    prepare: (work) => {
      const dir = join(work, 'package');
      mkdirSync(join(dir, 'lib'), { recursive: true });
      // Random values of the right shapes, made for the run; Trivy masks what it matched.
      const alnum = (n: number) =>
        randomBytes(n * 2)
          .toString('base64')
          .replace(/[^A-Za-z0-9]/g, '')
          .slice(0, n);
      writeFileSync(join(dir, '.env'), `GITHUB_TOKEN=ghp_${alnum(36)}\n`);
      writeFileSync(
        join(dir, 'lib', 'config.js'),
        `module.exports = { hook: 'https://hooks.slack.com/services/T${alnum(8).toUpperCase()}/B${alnum(8).toUpperCase()}/${alnum(24)}' };\n`,
      );
      writeFileSync(join(dir, 'package.json'), '{"name":"golden-secret","version":"1.0.0"}\n');
      return trivyRun(work, ['fs', dir], 'secret');
    },
  },
  ...(['npm-vulnerable', 'npm-clean', 'npm-malicious'] as const).map(
    (name): Recording => ({
      tool: 'osv-scanner',
      name,
      about: `scan source of test/fixtures/repos/${name}, offline, no call analysis`,
      prepare: async (work) => osvRun(work, copyRepo(name, work), ['--no-call-analysis=all']),
    }),
  ),
  ...(['go-uncalled', 'go-called'] as const).map(
    (name): Recording => ({
      tool: 'osv-scanner',
      name,
      about: `scan source of test/fixtures/repos/${name}, offline, Go call analysis with its osv-scanner.toml`,
      prepare: async (work) => {
        const repo = copyRepo(name, work);
        return osvRun(work, repo, ['--call-analysis=go', '--config', join(repo, 'osv-scanner.toml')]);
      },
    }),
  ),
  {
    tool: 'syft',
    name: 'npm-vulnerable',
    about: 'scan dir: of test/fixtures/repos/npm-vulnerable, CycloneDX JSON',
    prepare: async (work) => {
      const output = join(work, 'sbom.cdx.json');
      return {
        args: ['scan', `dir:${copyRepo('npm-vulnerable', work)}`, '-q', '-o', `cyclonedx-json=${output}`],
        env: { SYFT_CHECK_FOR_APP_UPDATE: 'false' },
        output,
      };
    },
  },
  {
    tool: 'syft',
    name: 'alpine-amd64',
    about: 'scan oci-dir: of the Alpine sample, linux/amd64 (as attest-evidence runs it), CycloneDX JSON',
    prepare: async (work) => {
      const output = join(work, 'sbom.cdx.json');
      const layout = await alpineLayout(work, 'linux/amd64', { musl: SAMPLE_MUSL.fixed });
      return {
        args: ['scan', `oci-dir:${layout}`, '-q', '-o', `cyclonedx-json=${output}`],
        env: { SYFT_CHECK_FOR_APP_UPDATE: 'false' },
        output,
      };
    },
  },
];

/** The version a recording of `tool` must be of: the suite's pin, which is what the real tier runs. */
export function pinnedVersion(tool: RecordedTool): string {
  return PINS[tool].defaultVersion;
}

/** The recording's file: `<tool>-<pinned version>-<name>.json`. */
export function recordingFile(tool: RecordedTool, name: string, version = pinnedVersion(tool)): string {
  return join(RECORDED_DIR, `${tool}-${version}-${name}.json`);
}

/** The path of a recording the fast tier replays; fails at once when it is not in the catalogue or not recorded. */
export function recording(tool: RecordedTool, name: string): string {
  if (!RECORDINGS.some((r) => r.tool === tool && r.name === name))
    throw new Error(`no recording ${tool} ${name} in test/doubles/recordings.ts`);
  const file = recordingFile(tool, name);
  if (!existsSync(file))
    throw new Error(`${file} is missing: the pin moved without new recordings; run npm run doubles:record`);
  return file;
}

/** A recording file's RECORDING_KEY, or undefined when it has none. */
export function recordingInfo(file: string): RecordingInfo | undefined {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  return parsed[RECORDING_KEY] as RecordingInfo | undefined;
}

/** Every file in the recordings directory. */
export function recordedFiles(): string[] {
  return readdirSync(RECORDED_DIR)
    .filter((name) => name.endsWith('.json'))
    .map((name) => join(RECORDED_DIR, name));
}

/** The tool's output as written, with RECORDING_KEY first (so `head` shows who made it). */
export function withRecordingInfo(output: string, info: RecordingInfo): string {
  const parsed = JSON.parse(output) as Record<string, unknown>;
  return `${JSON.stringify({ [RECORDING_KEY]: info, ...parsed }, null, 2)}\n`;
}

export const fileName = (file: string) => basename(file);

/** How each tool says its version, and where in the answer. */
const VERSION_COMMAND: Record<RecordedTool, { args: string[]; pattern: RegExp }> = {
  trivy: { args: ['--version'], pattern: /^Version:\s*v?(\S+)/m },
  'osv-scanner': { args: ['--version'], pattern: /^osv-scanner version:\s*v?(\S+)/m },
  syft: { args: ['version'], pattern: /^Version:\s*v?(\S+)/m },
};

/** The version a real binary says it is (undefined when it says nothing readable). */
export function binaryVersion(tool: RecordedTool, bin: string): string | undefined {
  const { args, pattern } = VERSION_COMMAND[tool];
  const result = spawnSync(bin, args, { encoding: 'utf8', timeout: 60_000 });
  return pattern.exec(`${result.stdout}\n${result.stderr}`)?.[1];
}

export interface Made {
  code: number | null;
  stderr: string;
  /** The tool's output file, or undefined when it wrote none. */
  output?: string;
  command: string[];
}

/** Runs the real tool on a recording's prepared input, in a scratch directory with a private HOME. */
export async function runRecording(recording: Recording, bin: string, work: string): Promise<Made> {
  mkdirSync(join(work, 'home'), { recursive: true });
  const run = await recording.prepare(work);
  const result = spawnSync(bin, run.args, {
    cwd: work,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: join(work, 'home'), ...run.env },
  });
  return {
    code: result.status,
    stderr: result.stderr,
    ...(existsSync(run.output) ? { output: readFileSync(run.output, 'utf8') } : {}),
    command: [recording.tool, ...run.args.map((arg) => arg.split(work).join('<work>'))],
  };
}
