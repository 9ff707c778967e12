/**
 * Pinned release assets of the scanners and cosign. Values from tool-checksums.md (public pin files that copied
 * them from each release's checksum file); the e2e workflow downloads every pinned asset and checks these hashes.
 * Trust comes only from this table (or a caller's `<tool>-sha256`), never from a checksum file fetched at run time.
 */
import type { ToolName } from './types.js';

/** `linux-x64`, `linux-arm64`, `darwin-arm64`: `${process.platform}-${process.arch}`. */
export type PlatformKey = 'linux-x64' | 'linux-arm64' | 'darwin-arm64';
export const PLATFORMS: readonly PlatformKey[] = ['linux-x64', 'linux-arm64', 'darwin-arm64'];

export interface ToolSpec {
  /** GitHub `owner/repo` of the official releases. */
  repository: string;
  defaultVersion: string;
  /** Release asset name for a version and platform. */
  asset(version: string, platform: PlatformKey): string;
  /** `tar.gz` archives hold the executable at their root; `binary` assets are the executable itself. */
  kind: 'tar.gz' | 'binary';
  /** Versions that must never run, whatever checksum a caller gives. */
  refusedVersions: Readonly<Record<string, string>>;
  /** version -> platform -> SHA-256 of the release asset. */
  sha256: Readonly<Record<string, Readonly<Record<PlatformKey, string>>>>;
}

export type PinTable = Readonly<Record<ToolName, ToolSpec>>;

const TRIVY_OS: Record<PlatformKey, string> = {
  'linux-x64': 'Linux-64bit',
  'linux-arm64': 'Linux-ARM64',
  'darwin-arm64': 'macOS-ARM64',
};
const GO_OS: Record<PlatformKey, string> = {
  'linux-x64': 'linux_amd64',
  'linux-arm64': 'linux_arm64',
  'darwin-arm64': 'darwin_arm64',
};
const COSIGN_OS: Record<PlatformKey, string> = {
  'linux-x64': 'linux-amd64',
  'linux-arm64': 'linux-arm64',
  'darwin-arm64': 'darwin-arm64',
};

const TRIVY_COMPROMISED = 'compromised release (CVE-2026-33634, GHSA-69fq-xp46-6x23, March 2026)';

export const PINS: PinTable = {
  trivy: {
    repository: 'aquasecurity/trivy',
    // The version the real tier builds and runs (the Go module proxy serves no 0.75.0): users run a Trivy a test ran.
    // 0.75.0 stays pinned for callers who ask for it by trivy-version.
    defaultVersion: '0.74.0',
    asset: (version, platform) => `trivy_${version}_${TRIVY_OS[platform]}.tar.gz`,
    kind: 'tar.gz',
    refusedVersions: { '0.69.4': TRIVY_COMPROMISED, '0.69.5': TRIVY_COMPROMISED, '0.69.6': TRIVY_COMPROMISED },
    sha256: {
      '0.75.0': {
        'linux-x64': 'c6e65abddb348e25f10549df887045629cf28cc72453cd1c63acb717316b3f3f',
        'linux-arm64': 'a1ee9f6ffb7d112b64ff726a2a0717c21175c1114361391f4a132956751a13b3',
        'darwin-arm64': '4a77108cccf8e55c8d6823e1e759939a622277e66cd0daa3c1fc621ed69e4568',
      },
      '0.74.0': {
        'linux-x64': '2ae6fe3ee734b7fdf11335663e18c75ea12dccc76062f09f164a3b0f8be4371a',
        'linux-arm64': 'b94ce1976bbf3c15b514b605ee88be7c6d94a29be2302847ff01cb794d47aad5',
        'darwin-arm64': '1caada5e0e2091909357c7525d3aa76f4b660b13821bc143b190c7483e31cc11',
      },
    },
  },
  'osv-scanner': {
    repository: 'google/osv-scanner',
    defaultVersion: '2.6.0',
    asset: (_version, platform) => `osv-scanner_${GO_OS[platform]}`,
    kind: 'binary',
    refusedVersions: {},
    sha256: {
      '2.6.0': {
        'linux-x64': 'ca69b3d3cd08f889a49dc0a383122f71cc528b83803671df5fd874d97485b108',
        'linux-arm64': '2c71403eb443d05891c4f268c3ad771cf4f16e5443463fd7851ef8f454d3c7e4',
        'darwin-arm64': '98c460dcd37de25819babd757d04542045b6243113e209edcd4d89fedb0256b4',
      },
      '2.5.1': {
        'linux-x64': 'f9f25499a2c8cc367b3af45df2ea7eeca7fbccceab9c35079968f4b3652194be',
        'linux-arm64': '3d0f5aa5a6baa8eb32bcef247388e149ef6030a6634ccae6fa0d62681fb27a6d',
        'darwin-arm64': '75c44d6332f892a1e56286f4105a98ed751ae28d215ca0a8b65cc00d84103054',
      },
    },
  },
  syft: {
    repository: 'anchore/syft',
    defaultVersion: '1.54.1',
    asset: (version, platform) => `syft_${version}_${GO_OS[platform]}.tar.gz`,
    kind: 'tar.gz',
    refusedVersions: {},
    sha256: {
      '1.54.1': {
        'linux-x64': 'c069905b391cc4c20a5ba65ad5c10be2a7ba074f8ea6ad203e24d14e303dad47',
        'linux-arm64': 'dfdf0537610113edbefe1f1fc6548bc957b2d77439636ec824fcf0e10d46d054',
        'darwin-arm64': 'b4319c3abaa87a0170ab76ee83ea2260ca34b53aecfa3ab0dd5428d2319d744f',
      },
      '1.51.0': {
        'linux-x64': '2a2e837a2c8d59ec9af5472ee22d3b04ee463c4e44476ecf993fd1e5ab6ebc7f',
        'linux-arm64': '6c0466811541ea03add5213a60a1562f0851e4c0b0ecfdee1a694a9455285900',
        'darwin-arm64': '4f37f4c7fefce0a68e4cf71ba3f5f9829a99e65d89b29f7ee41b8c2c10ea8c59',
      },
    },
  },
  cosign: {
    repository: 'sigstore/cosign',
    // v2 by default: its legacy signatures are what Kyverno verifyImages accepts without `type: SigstoreBundle`.
    defaultVersion: '2.6.5',
    asset: (_version, platform) => `cosign-${COSIGN_OS[platform]}`,
    kind: 'binary',
    refusedVersions: {},
    sha256: {
      '2.6.5': {
        'linux-x64': 'c3b4f5410e608af03a5eb0aaac84a4313d8da131248e08ff1759ac70c79d1644',
        'linux-arm64': '426193b4c5da4d4d643e822f48fe0cc8a476ca1782a272704831f5a0cef716d7',
        'darwin-arm64': '4d41cc18f0563907c0c785b51db76e1d1af10db4422b605ba876b1758e1771ab',
      },
      '3.1.3': {
        'linux-x64': '4629c757b7618056f8ddd7e2625ae9fdd94c0372a65049520bc7d9df9efc7f71',
        'linux-arm64': 'c5d324e091826b0d7a78eb16fef316450b4eb9aaec045611c08ba06f5e73220a',
        'darwin-arm64': '5cf948c2f4dfe59687bdd0b8523709067383e03982cc543475c8a7dc70e92a76',
      },
    },
  },
};

/** SHA-256s of known-malicious assets (the trivy v0.69.4 release archives): refused even when a caller names them. */
export const DENIED_SHA256: ReadonlySet<string> = new Set([
  '385d498d18a3a7c67878ca7322716f9da25683eb1a4bf9e9592da0d5f2ab09f6',
  'e401ae1e6d2442fa9a0c79dc0f3b0457ecfebf74a9c0a920159c49437f663aef',
  '1dc871b02cd7a1fd80babb1b8762a2fd9cc2b735d4d3759d012626de3ccc7a5b',
  '90d61cf37355b89fae9ff84867100e1721c1876007ef1771e465ce5a721141ad',
  '0376b98064636c30f5fbe60fb3b1225516e23e88dd7e909937f81d9265292e7d',
]);

export function currentPlatform(): PlatformKey | undefined {
  const key = `${process.platform}-${process.arch}`;
  return (PLATFORMS as readonly string[]).includes(key) ? (key as PlatformKey) : undefined;
}
