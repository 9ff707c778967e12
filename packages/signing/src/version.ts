import { type ActionContext, runChecked, UserError } from '@golden-image/kit';

export interface CosignVersion {
  major: number;
  minor: number;
  patch: number;
  /** As cosign prints it, for example "v2.6.5". */
  text: string;
}

/**
 * Reads `cosign version` output: since v2.1 an ASCII-art banner on stdout followed by `GitVersion:    v2.6.5`
 * (with `--json`, `"gitVersion": "v2.6.5"`). Returns undefined when no version is found.
 */
export function parseCosignVersion(output: string): CosignVersion | undefined {
  const match = /gitVersion"?:\s*"?(v?(\d+)\.(\d+)\.(\d+)[^\s"]*)/i.exec(output);
  if (!match) return undefined;
  return { text: match[1] ?? '', major: Number(match[2]), minor: Number(match[3]), patch: Number(match[4]) };
}

export async function detectCosignVersion(ctx: ActionContext, cosign: string): Promise<CosignVersion> {
  const result = await runChecked(ctx.runner, cosign, ['version'], 'Reading the cosign version', {
    env: ctx.env,
    silent: true,
  });
  const stdout = result.stdout.toString('utf8');
  const version = parseCosignVersion(`${stdout}\n${result.stderr}`);
  if (!version) {
    throw new UserError(
      `Could not read the cosign version from "${cosign} version"; its output has no GitVersion line.`,
    );
  }
  if (version.major < 2 || (version.major === 2 && version.minor < 4)) {
    throw new UserError(
      `cosign ${version.text} is too old: sign-digest needs cosign v2.4 or newer (v2.6.5 is the default).`,
    );
  }
  return version;
}
