// `npm run tools:real`: every real tool the suite drives or its real tier needs, at the pinned version, in
// $GOLDEN_IMAGE_TOOLS_DIR/bin (default ~/.cache/golden-image/tools/bin). Where the official release can be
// downloaded, the suite's own installer fetches it (pinned SHA-256 checked); otherwise the tool is built from its
// Go module (CGO_ENABLED=0, -trimpath). A tool already there at the right version is not touched.
//
//   npm run tools:real                 every tool
//   npm run tools:real -- trivy cosign only those
//   GOLDEN_IMAGE_TOOLS_SOURCE=build    never try downloads (=download: never build)
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureTool, PINS, type ToolName } from '@golden-image/tools';
import { REAL_TOOLS, type RealTool } from './real-tools/catalogue.js';
import { scriptContext } from './real-tools/context.js';
import { substitutionProblem, upstreamDirectives } from './real-tools/versions.js';

const PATCHES = join(dirname(fileURLToPath(import.meta.url)), 'real-tools', 'patches');
const toolsDir = process.env.GOLDEN_IMAGE_TOOLS_DIR || join(homedir(), '.cache', 'golden-image', 'tools');
const binDir = join(toolsDir, 'bin');
const source = (process.env.GOLDEN_IMAGE_TOOLS_SOURCE || 'auto') as 'auto' | 'build' | 'download';

interface Stamp {
  /** The version the suite asked for; `version` is what was installed (the same: substitutes are refused). */
  pinned: string;
  version: string;
  from: string;
  recipe: string;
}

const stampPath = (tool: RealTool) => join(binDir, `.${tool.bin}.json`);
function readStamp(tool: RealTool): Stamp | undefined {
  try {
    return JSON.parse(readFileSync(stampPath(tool), 'utf8')) as Stamp;
  } catch {
    return undefined;
  }
}

/** The proxy's list of a module's versions (empty when it cannot be asked). */
function servedVersions(module: string): string[] {
  const result = spawnSync('go', ['list', '-m', '-versions', module], { encoding: 'utf8', env: goEnv({}) });
  if (result.status !== 0) return [];
  return result.stdout.trim().split(/\s+/).slice(1);
}

function goEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-trimpath -buildvcs=false', ...extra };
}

function go(args: string[], cwd: string, extra: Record<string, string>): void {
  const result = spawnSync('go', args, { cwd, env: goEnv(extra), encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`go ${args.join(' ')} failed:\n${(result.stderr || '').slice(-4000)}`);
}

/**
 * Builds the tool's main package inside a wrapper module that requires the tool's module at `version` and copies
 * its replace/exclude lines (`go install mod@version` refuses modules that have them; the wrapper works for all).
 */
function buildFromModule(tool: RealTool, version: string): void {
  const work = mkdtempSync(join(tmpdir(), `golden-image-build-${tool.bin}-`));
  try {
    // Exits non-zero when the module needs a newer Go, but has fetched its go.mod by then: that is all we need.
    const listed = spawnSync('go', ['mod', 'download', '-json', `${tool.module}@${version}`], {
      env: goEnv({}),
      encoding: 'utf8',
    });
    const info = JSON.parse(listed.stdout || '{}') as { GoMod?: string; Dir?: string; Error?: string };
    if (!info.GoMod || !existsSync(info.GoMod))
      throw new Error(`go mod download ${tool.module}@${version}: ${info.Error ?? listed.stderr}`);
    const upstream = readFileSync(info.GoMod, 'utf8');
    const goLine = /^go (\S+)/m.exec(upstream)?.[1] ?? '1.26';
    const toolchain = toolchainFor(goLine);
    let directives = upstreamDirectives(upstream);
    if (tool.patches?.length) {
      // The module's source, patched, stands in for the module (a replace directive to a local copy).
      if (!info.Dir) throw new Error(`go mod download ${tool.module}@${version} gave no source directory`);
      const source = join(work, 'src');
      cpSync(info.Dir, source, { recursive: true });
      execFileSync('chmod', ['-R', 'u+w', source]);
      for (const name of tool.patches) execFileSync('patch', ['-p1', '-s', '-d', source, '-i', join(PATCHES, name)]);
      directives += `\nreplace ${tool.module} => ./src\n`;
    }
    writeFileSync(
      join(work, 'go.mod'),
      `module golden-image.local/build-${tool.bin}\n\ngo ${goLine}\n\nrequire ${tool.module} ${version}\n\n${directives}\n`,
    );
    // The tool's own requirements decide every version (minimal version selection over one requirement).
    const env = { ...tool.env, ...toolchain };
    go(['mod', 'download', tool.module], work, env);
    go(['get', `${tool.pkg}@${version}`], work, env);
    const ldflags = ['-s', '-w', ...(tool.ldflags?.(version) ?? [])].join(' ');
    const tags = tool.tags?.length ? ['-tags', tool.tags.join(' ')] : [];
    go(['build', ...tags, '-ldflags', ldflags, '-o', join(binDir, tool.bin), tool.pkg], work, env);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * A module that needs a newer Go than the machine's is built with the one newer toolchain these machines may take
 * from the Go module proxy (go1.27.3, about 10 s to fetch the first time).
 */
const NEWER_TOOLCHAIN = 'go1.27.3';
function toolchainFor(goLine: string): Record<string, string> {
  const local = execFileSync('go', ['env', 'GOVERSION'], { env: goEnv({}), encoding: 'utf8' })
    .trim()
    .replace(/^go/, '');
  const parts = (v: string) => v.split('.').map((n) => Number.parseInt(n, 10) || 0);
  const [need, have] = [parts(goLine), parts(local)];
  for (let i = 0; i < 3; i++) {
    if ((need[i] ?? 0) !== (have[i] ?? 0))
      return (need[i] ?? 0) > (have[i] ?? 0) ? { GOTOOLCHAIN: NEWER_TOOLCHAIN } : {};
  }
  return {};
}

/** Downloads the official release through the suite's installer (pinned SHA-256 checked). */
async function download(tool: RealTool & { suiteTool: ToolName }, version: string): Promise<void> {
  const ctx = scriptContext(join(toolsDir, 'installer'));
  const path = await ensureTool(ctx, { tool: tool.suiteTool, version, install: true });
  copyFileSync(path, join(binDir, tool.bin));
  chmodSync(join(binDir, tool.bin), 0o755);
}

let canDownload: boolean | undefined;
async function releasesReachable(): Promise<boolean> {
  if (source === 'build') return false;
  if (source === 'download') return true;
  if (canDownload === undefined) {
    try {
      const response = await fetch('https://github.com/', { method: 'HEAD', signal: AbortSignal.timeout(5000) });
      canDownload = response.status < 500;
    } catch {
      canDownload = false;
    }
  }
  return canDownload;
}

async function ensure(tool: RealTool): Promise<{ from: string; version: string; seconds: number }> {
  const started = Date.now();
  const pinned = tool.suiteTool ? PINS[tool.suiteTool].defaultVersion : tool.version;
  const patches = (tool.patches ?? []).map((name) => readFileSync(join(PATCHES, name), 'utf8'));
  const recipe = JSON.stringify([tool.module, tool.pkg, tool.env, tool.tags, tool.ldflags?.('V'), ...patches]);
  const stamp = readStamp(tool);
  // A binary is current when it IS the pinned version (whatever it was pinned as when built) and built the same way.
  if (stamp && stamp.version === pinned && stamp.recipe === recipe && existsSync(join(binDir, tool.bin))) {
    return { from: `already there (${stamp.from})`, version: stamp.version, seconds: 0 };
  }
  if (tool.suiteTool && (await releasesReachable())) {
    const suiteTool = tool.suiteTool;
    await download({ ...tool, suiteTool }, pinned);
    const from = `official release, SHA-256 checked by the installer`;
    writeFileSync(stampPath(tool), JSON.stringify({ pinned, version: pinned, from, recipe } satisfies Stamp));
    return { from, version: pinned, seconds: (Date.now() - started) / 1000 };
  }
  if (source === 'download')
    throw new Error(`${tool.bin}: GOLDEN_IMAGE_TOOLS_SOURCE=download but it has no release download`);
  const goVersion = `v${pinned.replace(/^v/, '')}`;
  // A substitute is never built: the real tier would then pass with a version users never run.
  const problem = substitutionProblem(tool.bin, tool.module, goVersion, servedVersions(tool.module));
  if (problem) throw new Error(problem);
  const version = goVersion;
  buildFromModule(tool, version);
  const from = `built from ${tool.module}@${version}`;
  writeFileSync(
    stampPath(tool),
    JSON.stringify({ pinned, version: version.replace(/^v/, ''), from, recipe } satisfies Stamp),
  );
  return { from, version: version.replace(/^v/, ''), seconds: (Date.now() - started) / 1000 };
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((name) => !REAL_TOOLS.some((tool) => tool.bin === name));
  if (unknown.length)
    throw new Error(`Unknown tool(s): ${unknown.join(', ')}. Known: ${REAL_TOOLS.map((t) => t.bin).join(', ')}`);
  mkdirSync(binDir, { recursive: true });
  console.log(`Real tools in ${binDir} (source: ${source})`);
  const started = Date.now();
  let failed = 0;
  for (const tool of REAL_TOOLS.filter((t) => wanted.length === 0 || wanted.includes(t.bin))) {
    try {
      const got = await ensure(tool);
      console.log(
        `  ${tool.bin.padEnd(14)} ${got.version.padEnd(9)} ${got.seconds.toFixed(0).padStart(5)} s  ${got.from}`,
      );
    } catch (error) {
      failed++;
      console.error(`  ${tool.bin.padEnd(14)} FAILED: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  console.log(`Done in ${((Date.now() - started) / 1000).toFixed(0)} s${failed ? `, ${failed} failed` : ''}.`);
  if (failed) process.exitCode = 1;
}

await main();
