import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BuiltLayout, buildLayout } from '../layout-builder.js';
import { zip } from './osv-db.js';

/** apk's name for each architecture (the `A:` field of /lib/apk/db/installed). */
const APK_ARCH: Record<string, string> = {
  'linux/amd64': 'x86_64',
  'linux/arm64': 'aarch64',
  'linux/arm/v7': 'armv7',
  'linux/386': 'x86',
  'linux/s390x': 's390x',
  'linux/ppc64le': 'ppc64le',
};

/** Fixed and vulnerable versions, per test/fixtures/advisories/trivy/alpine.yaml (CVE-2099-1001, CRITICAL). */
export const SAMPLE_MUSL = { vulnerable: '1.2.5-r0', fixed: '1.2.5-r1', advisory: 'CVE-2099-1001' } as const;

/**
 * The files of a FROM-scratch image that Trivy takes for Alpine 3.20: /etc/alpine-release, /etc/os-release and an
 * apk installed-database listing `packages` (name -> version) for the platform's architecture.
 */
export function alpineFiles(platform: string, packages: Record<string, string>): Record<string, string> {
  const arch = APK_ARCH[platform] ?? platform.split('/')[1] ?? 'x86_64';
  const installed = Object.entries(packages)
    .map(([name, version]) => `P:${name}\nV:${version}\nA:${arch}\nL:MIT\no:${name}\n`)
    .join('\n');
  return {
    'etc/alpine-release': '3.20.3\n',
    'etc/os-release': 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.20.3\nPRETTY_NAME="Alpine Linux v3.20"\n',
    'lib/apk/db/installed': `${installed}\n`,
  };
}

export interface SampleLayoutOptions {
  /** Default linux/amd64, linux/arm64. */
  platforms?: string[];
  /** Platforms whose musl is the vulnerable version (default linux/arm64 only: not the first platform). */
  vulnerable?: string[];
  /** BuildKit-style attestation manifests after the platform manifests (default true). */
  attestations?: boolean;
}

/**
 * A deterministic multi-platform OCI layout of an Alpine-like FROM-scratch image where only the `vulnerable`
 * platforms carry musl 1.2.5-r0 (CVE-2099-1001 in the project's offline Trivy DB); the others carry the fix.
 */
export async function alpineSampleLayout(dir?: string, options: SampleLayoutOptions = {}): Promise<BuiltLayout> {
  const platforms = options.platforms ?? ['linux/amd64', 'linux/arm64'];
  const vulnerable = new Set(options.vulnerable ?? ['linux/arm64']);
  const files = Object.fromEntries(
    platforms.map((platform) => [
      platform,
      alpineFiles(platform, { musl: vulnerable.has(platform) ? SAMPLE_MUSL.vulnerable : SAMPLE_MUSL.fixed }),
    ]),
  );
  return buildLayout(dir ?? (await mkdtemp(join(tmpdir(), 'golden-image-sample-'))), {
    platforms,
    files,
    attestations: options.attestations ?? true,
  });
}

/** The same image with the fix on every platform. */
export function cleanAlpineSampleLayout(dir?: string, options: Omit<SampleLayoutOptions, 'vulnerable'> = {}) {
  return alpineSampleLayout(dir, { ...options, vulnerable: [] });
}

/** A JAR Trivy identifies by its pom.properties (no Java DB entry needed): com.example.golden:golden-lib. */
export function sampleJar(version: string): Buffer {
  const pom = `groupId=com.example.golden\nartifactId=golden-lib\nversion=${version}\n`;
  return zip([
    { name: 'META-INF/MANIFEST.MF', data: Buffer.from('Manifest-Version: 1.0\r\n\r\n') },
    { name: 'META-INF/maven/com.example.golden/golden-lib/pom.properties', data: Buffer.from(pom) },
  ]);
}

/**
 * A one-platform layout (linux/amd64, no attestation) of the Alpine image plus app/golden-lib-VERSION.jar:
 * 1.0.0 is vulnerable to CVE-2099-3001 (test/fixtures/advisories/trivy/maven.yaml), 1.0.1 is fixed.
 */
export async function javaSampleLayout(dir?: string, version = '1.0.0'): Promise<BuiltLayout> {
  const platform = 'linux/amd64';
  const files = {
    ...alpineFiles(platform, { musl: SAMPLE_MUSL.fixed }),
    [`app/golden-lib-${version}.jar`]: sampleJar(version),
  };
  return buildLayout(dir ?? (await mkdtemp(join(tmpdir(), 'golden-image-java-sample-'))), {
    platforms: [platform],
    files: { [platform]: files },
    attestations: false,
  });
}

/**
 * The same image as a repository to build: a FROM-scratch Dockerfile with one root file system per architecture,
 * so no platform needs emulation, and only the `vulnerable` platforms carry the vulnerable musl.
 */
export function sampleImageFiles(
  options: { vulnerable?: string[]; platforms?: string[] } = {},
): Record<string, string> {
  const platforms = options.platforms ?? ['linux/amd64', 'linux/arm64'];
  const files: Record<string, string> = {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Dockerfile build argument
    Dockerfile: 'FROM scratch\nARG TARGETARCH\nCOPY rootfs-${TARGETARCH}/ /\nCOPY hello.txt /hello.txt\n',
    'hello.txt': 'hello from acme/app\n',
  };
  for (const platform of platforms) {
    const arch = platform.split('/')[1] as string;
    const musl = options.vulnerable?.includes(platform) ? SAMPLE_MUSL.vulnerable : SAMPLE_MUSL.fixed;
    for (const [path, content] of Object.entries(alpineFiles(platform, { musl })))
      files[`rootfs-${arch}/${path}`] = content;
  }
  return files;
}
