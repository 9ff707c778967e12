// What each cosign release can do: ONE table, read by every argv builder and every gate of the suite.
import { inputProblem } from '@golden-image/kit';
import { PINS } from '@golden-image/tools';

/** How a signature or attestation is stored: legacy (the .sig/.att tags) or new (Sigstore bundles as referrers). */
export type BundleFormat = 'legacy' | 'new';

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

/** What one cosign release can do. Every argv builder and every gate reads it from COSIGN_ABILITIES. */
export interface CosignAbilities {
  /**
   * Signs a Sigstore bundle (bundle-format new) that Kyverno can find. cosign 2.6 signs bundles too, but writes the
   * bundle manifest's artifactType inside its config descriptor: the referrers index lists it as
   * application/vnd.oci.empty.v1+json and Kyverno, which selects application/vnd.dev.sigstore.bundle*, never finds
   * it (real tier: kyverno.real, "a bundle signed by cosign 2.6.5 is invisible"). So new needs v3, everywhere.
   */
  signsFindableBundles: boolean;
  /**
   * Signs and verifies the new bundle format by default: a legacy signature needs `--new-bundle-format=false`
   * (and v3's verify otherwise decides on any attached bundle); without it, bundles need `--new-bundle-format`.
   */
  bundleByDefault: boolean;
  /** Fetches a signing config by default (`--use-signing-config`), which refuses private instances and no log. */
  signingConfig: boolean;
  /**
   * `verify` looks only at attached Sigstore bundles once any is attached, with no flag to look at the legacy
   * signature (cosign 2.6.3 and later of v2): a legacy signature is then checked with the pinned cosign v3.
   */
  bundlesHideLegacy: boolean;
  /** `verify` of a key-signed bundle wants trusted material even with no log; an empty trusted root satisfies it. */
  keyBundleNeedsTrustedRoot: boolean;
}

/** The table: each row holds from its version up to the next row's. Older than the last row is refused. */
export const COSIGN_ABILITIES: readonly { from: string; can: CosignAbilities }[] = [
  {
    from: '3.0.0',
    can: {
      signsFindableBundles: true,
      bundleByDefault: true,
      signingConfig: true,
      bundlesHideLegacy: false,
      keyBundleNeedsTrustedRoot: false,
    },
  },
  {
    from: '2.6.3',
    can: {
      signsFindableBundles: false,
      bundleByDefault: false,
      signingConfig: false,
      bundlesHideLegacy: true,
      keyBundleNeedsTrustedRoot: true,
    },
  },
  {
    from: '2.4.0',
    can: {
      signsFindableBundles: false,
      bundleByDefault: false,
      signingConfig: false,
      bundlesHideLegacy: false,
      keyBundleNeedsTrustedRoot: true,
    },
  },
];

const parts = (version: string) => version.replace(/^v/, '').split('.').map(Number);
function atLeast(version: CosignVersion, from: string): boolean {
  const [major = 0, minor = 0, patch = 0] = parts(from);
  if (version.major !== major) return version.major > major;
  if (version.minor !== minor) return version.minor > minor;
  return version.patch >= patch;
}

/** The row of a version; undefined when it is older than every row (too old for the suite). */
export function abilitiesOf(version: CosignVersion): CosignAbilities | undefined {
  return COSIGN_ABILITIES.find((row) => atLeast(version, row.from))?.can;
}

/** A version as the pins spell it ("3.1.3"), as CosignVersion. */
export function cosignVersionOf(text: string): CosignVersion {
  const [major = 0, minor = 0, patch = 0] = parts(text);
  return { major, minor, patch, text: `v${text.replace(/^v/, '')}` };
}

/** The newest pinned cosign v3: what a legacy check falls back to, and what refusals advise. */
export function pinnedCosignV3(): string | undefined {
  return Object.keys(PINS.cosign.sha256)
    .filter((version) => cosignVersionOf(version).major >= 3)
    .sort((a, b) => a.localeCompare(b, undefined, { numeric: true }))
    .at(-1);
}

/**
 * bundle-format new with a cosign that cannot sign it findably: the refusal, or undefined. `version` is the cosign
 * in use when known (after `cosign version`), else the one the inputs will install.
 */
export function bundleFormatProblem(format: BundleFormat, version: CosignVersion, known: boolean): string | undefined {
  if (format !== 'new' || abilitiesOf(version)?.signsFindableBundles) return undefined;
  const v3 = pinnedCosignV3() ?? '3.1.3';
  return known
    ? inputProblem(
        'bundle-format',
        `"new" needs cosign v3 to sign, but cosign ${version.text} is in use (cosign 2.6 writes bundles Kyverno cannot find); set "cosign-version" to ${v3} or use bundle-format: legacy.`,
      )
    : inputProblem(
        'bundle-format',
        `"new" needs cosign v3 to sign (cosign 2.6 writes bundles Kyverno cannot find); set cosign-version to a v3 release (for example ${v3}), or use legacy`,
      );
}
