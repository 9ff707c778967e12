import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as io from '@actions/io';
import * as tc from '@actions/tool-cache';
import { type ActionContext, UserError } from '@golden-image/kit';
import { restoreCacheBestEffort, saveCacheBestEffort } from './actions-cache.js';
import { currentPlatform, DENIED_SHA256, PINS, type PinTable, type PlatformKey } from './pins.js';
import { versionProblem } from './request.js';
import type { ToolRequest } from './types.js';

export interface EnsureOptions {
  /** Replaces the embedded pin table (tests). */
  pins?: PinTable;
  /** Replaces the detected platform (tests). */
  platform?: PlatformKey;
}

/**
 * Returns the absolute path of a verified executable, or the bare tool name when install is false (then it must be
 * on PATH). The release asset is downloaded once per runner (and kept in @actions/cache), checked against the
 * embedded SHA-256 on every use, and extracted afresh for every step.
 */
export async function ensureTool(
  ctx: ActionContext,
  request: ToolRequest,
  options: EnsureOptions = {},
): Promise<string> {
  const pins = options.pins ?? PINS;
  const spec = pins[request.tool];
  const version = request.version ?? spec.defaultVersion;
  const platform = options.platform ?? currentPlatform();
  const base = request.mirror ?? 'https://github.com';
  const describe = (asset: string) => `${base}/${spec.repository}/releases/download/v${version}/${asset}`;

  if (!request.install) {
    const found = await io.which(request.tool, false);
    if (!found) {
      const url = platform ? describe(spec.asset(version, platform)) : `${base}/${spec.repository}/releases`;
      throw new UserError(
        `${request.tool} was not found on PATH (install-tools: false). Put ${request.tool} ${version} on PATH (${url}), or set install-tools: true.`,
      );
    }
    ctx.info(`Using ${request.tool} from PATH: ${found} (install-tools: false; its version is not checked).`);
    return request.tool;
  }

  const refused = versionProblem(request.tool, version, pins);
  if (refused) throw new UserError(`${request.tool}-version ${refused}`);
  if (!platform) {
    throw new UserError(
      `${request.tool} ${version}: no pinned release for ${process.platform}/${process.arch} (pins cover linux x64, linux arm64 and macOS arm64). Put ${request.tool} on PATH and set install-tools: false.`,
    );
  }
  const asset = spec.asset(version, platform);
  const url = describe(asset);
  const expected = request.sha256 ?? spec.sha256[version]?.[platform];
  if (!expected) {
    throw new UserError(
      `${request.tool} ${version} (${url}): the suite has no checksum for this version and platform; give it in "${request.tool}-sha256".`,
    );
  }
  const pinned = spec.sha256[version]?.[platform];
  if (pinned && request.sha256 && pinned !== request.sha256) {
    throw new UserError(
      `${request.tool} ${version} (${url}): "${request.tool}-sha256" is ${request.sha256}, but the suite pins ${pinned} for this asset. Remove the override or fix it.`,
    );
  }
  if (DENIED_SHA256.has(expected))
    throw new UserError(
      `${request.tool} ${version} (${url}): the checksum ${expected} belongs to a known-malicious asset.`,
    );

  ensureToolCacheEnv(ctx);
  const downloads = join(
    process.env.RUNNER_TOOL_CACHE as string,
    '_golden-image-downloads',
    `${request.tool}-${version}-${platform}-${expected.slice(0, 16)}`,
  );
  const archive = join(downloads, asset);
  const cacheKey = `golden-image-tool-${request.tool}-${version}-${platform}-${expected}`;
  const what = `${request.tool} ${version}`;
  if (!existsSync(archive)) await restoreCacheBestEffort(ctx, what, [downloads], cacheKey);
  let downloaded = false;
  if (existsSync(archive) && (await sha256Of(archive)) !== expected) {
    ctx.warning(`${what}: the cached ${asset} does not match SHA-256 ${expected}; downloading it again.`);
    await rm(archive, { force: true });
  }
  if (!existsSync(archive)) {
    await mkdir(dirname(archive), { recursive: true });
    ctx.info(`Downloading ${what} from ${url}`);
    try {
      await tc.downloadTool(url, archive);
    } catch (error) {
      await rm(archive, { force: true });
      const detail = error instanceof Error ? error.message : String(error);
      throw new UserError(
        `Could not download ${what} from ${url}: ${detail}. Check the network, or set tool-mirror, or put the tool on PATH with install-tools: false.`,
      );
    }
    downloaded = true;
    const actual = await sha256Of(archive);
    if (actual !== expected) {
      await rm(archive, { force: true });
      throw new UserError(
        `Checksum mismatch for ${what} downloaded from ${url}: expected SHA-256 ${expected}, got ${actual}. The file was deleted and not used.`,
      );
    }
  }
  ctx.info(`${what}: ${asset} verified (SHA-256 ${expected}).`);

  // Extracted afresh for this step into a directory of its own, from the archive just verified: nothing that a
  // cache or an earlier step left on the runner is ever run (a tool-cache directory with a planted executable
  // beside a copied marker once ran as "verified").
  const staging = await mkdtemp(join(process.env.RUNNER_TEMP as string, `golden-image-${request.tool}-`));
  if (spec.kind === 'tar.gz') {
    try {
      await tc.extractTar(archive, staging);
    } catch (error) {
      throw new UserError(
        `Could not extract ${what} (${url}): ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    if (!existsSync(join(staging, request.tool)))
      throw new UserError(`${what} (${url}): the archive holds no "${request.tool}" executable at its root.`);
  } else {
    await copyFile(archive, join(staging, request.tool));
  }
  await chmod(join(staging, request.tool), 0o755);
  if (downloaded) await saveCacheBestEffort(ctx, what, [downloads], cacheKey);
  return join(staging, request.tool);
}

/** @actions/tool-cache reads these from process.env; off a runner, point them at this run's temp dir. */
function ensureToolCacheEnv(ctx: ActionContext): void {
  if (!process.env.RUNNER_TEMP) process.env.RUNNER_TEMP = ctx.tempDir;
  if (!process.env.RUNNER_TOOL_CACHE) {
    process.env.RUNNER_TOOL_CACHE = join(ctx.tempDir, 'tool-cache');
    ctx.info(`RUNNER_TOOL_CACHE is not set (not on a runner); caching tools under ${process.env.RUNNER_TOOL_CACHE}.`);
  }
}

export async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
