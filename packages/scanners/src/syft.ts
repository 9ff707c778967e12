import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ActionContext, lastLines, UserError } from '@golden-image/kit';
import { scannerEnv } from './scanner-env.js';

export const SBOM_FORMATS = ['cyclonedx-json', 'spdx-json', 'syft-json'] as const;
export type SbomFormat = (typeof SBOM_FORMATS)[number];

export interface SbomInfo {
  format: SbomFormat;
  components: number;
  specVersion?: string;
}

/**
 * `syft scan dir:PATH -o FORMAT=FILE`, then checks the file is an SBOM of that format. Run in `workDir` with a
 * private HOME there: no SYFT_* variable, ./.syft.yaml or ~/.syft.yaml of the job changes the SBOM.
 */
export async function syftDir(
  ctx: ActionContext,
  syft: string,
  options: { path: string; format: SbomFormat; output: string; workDir: string },
): Promise<SbomInfo> {
  const args = ['scan', `dir:${options.path}`, '-o', `${options.format}=${options.output}`];
  // The start-up update check is a network call nobody asked for.
  const env = scannerEnv(ctx.env, join(options.workDir, 'home'), { SYFT_CHECK_FOR_APP_UPDATE: 'false' });
  const result = await ctx.runner.run(syft, args, { env, cwd: options.workDir });
  if (result.exitCode !== 0)
    throw new UserError(`Syft failed on ${options.path} (exit code ${result.exitCode}): ${lastLines(result.stderr)}`);
  let text: string;
  try {
    text = await readFile(options.output, 'utf8');
  } catch {
    throw new UserError(`Syft exited 0 but wrote no SBOM to ${options.output}.`);
  }
  return readSbom(text, options.format, options.output);
}

/** Checks an SBOM's top-level shape and counts its components/packages. */
export function readSbom(text: string, format: SbomFormat, source: string): SbomInfo {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new UserError(`The SBOM ${source} is not valid JSON.`);
  }
  const bad = (why: string) => new UserError(`The SBOM ${source} is not ${format}: ${why}.`);
  if (!doc || typeof doc !== 'object') throw bad('not a JSON object');
  if (format === 'cyclonedx-json') {
    if (doc.bomFormat !== 'CycloneDX') throw bad('bomFormat is not "CycloneDX"');
    const components = Array.isArray(doc.components) ? doc.components.length : 0;
    return { format, components, ...(typeof doc.specVersion === 'string' ? { specVersion: doc.specVersion } : {}) };
  }
  if (format === 'spdx-json') {
    if (typeof doc.spdxVersion !== 'string') throw bad('no spdxVersion');
    return { format, components: Array.isArray(doc.packages) ? doc.packages.length : 0, specVersion: doc.spdxVersion };
  }
  if (!Array.isArray(doc.artifacts)) throw bad('no artifacts list');
  return { format, components: doc.artifacts.length };
}
