// Everything a caller's workflow needs around it to run here, offline: a registry for the images (`vars.REGISTRY`,
// open like GHCR to the job's own token; it also holds the Trivy DB as a mirror would), a second registry with basic
// auth (logins, registry-auth), OSV-Scanner's offline DB, BuildKit, a GitHub OIDC token endpoint and a real Fulcio
// trusting it (keyless signing), and the organisation variables that point the reusable workflows at them. The same
// for the tests and `npm run workflow`.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startBuildkit, type TestBuildkit } from '../buildkit.js';
import { tempDir } from '../fixtures.js';
import { startFulcio, type TestFulcio } from '../fulcio.js';
import { offlineOsvDb } from '../offline/osv-db.js';
import { pushTrivyDbArtifact } from '../offline/trivy-db.js';
import { type OidcIssuer, startOidcIssuer } from '../oidc-issuer.js';
import { realTool } from '../real-tools.js';
import { startRegistry, type TestRegistry } from '../registry.js';
import { startVerdaccio, type TestNpmRegistry } from '../verdaccio.js';
import type { StandInConfig } from './stand-in-config.js';

export const REGISTRY_USER = { username: 'publisher', password: 'registry-password-for-tests' };

export interface WorkflowEnvironment {
  /** The images' registry, `vars.REGISTRY`; it holds the Trivy DB artifact too. */
  registry: TestRegistry;
  /** A registry with basic auth (REGISTRY_USER). */
  privateRegistry: TestRegistry;
  issuer: OidcIssuer;
  /** Absent with `images: false` (an npm-only run). */
  fulcio?: TestFulcio;
  buildkit?: TestBuildkit;
  npm?: TestNpmRegistry;
  /** The organisation variables a caller's repository would set for this infrastructure. */
  vars: Record<string, string>;
  /** What the stand-ins of third-party actions know about this machine. */
  standIns: Omit<StandInConfig, 'repositories' | 'sarifDir'>;
  stop(): Promise<void>;
}

export async function startWorkflowEnvironment(
  options: { npm?: boolean; images?: boolean } = {},
): Promise<WorkflowEnvironment> {
  const images = options.images ?? true;
  const need = (bin: string, args?: string[]) => {
    const path = realTool(bin, args);
    if (!path) throw new Error(`${bin} is not in the real tools: run npm run tools:real`);
    return path;
  };
  const started: { stop(): Promise<void> }[] = [];
  try {
    const registry = await startRegistry();
    started.push(registry);
    const privateRegistry = await startRegistry({ auth: REGISTRY_USER });
    started.push(privateRegistry);
    const issuer = await startOidcIssuer();
    started.push({ stop: () => issuer.close() });
    const fulcio = images ? await startFulcio(need('fulcio', ['version']), issuer.url) : undefined;
    if (fulcio) started.push(fulcio);
    const buildkit = images
      ? await startBuildkit({ buildkitd: need('buildkitd'), buildx: need('docker-buildx', ['version']) })
      : undefined;
    if (buildkit) started.push(buildkit);
    const npm = options.npm ? await startVerdaccio() : undefined;
    if (npm) started.push(npm);

    const dir = tempDir('golden-image-workflow-env-');
    const osv = offlineOsvDb(join(dir, 'osv'), { ecosystems: ['npm', 'Go', 'Alpine'] });
    mkdirSync(osv.dir, { recursive: true });
    const db = await pushTrivyDbArtifact(registry, 'aquasecurity/trivy-db');
    const javaDb = await pushTrivyDbArtifact(registry, 'aquasecurity/trivy-java-db', { java: true });

    return {
      registry,
      privateRegistry,
      issuer,
      fulcio,
      buildkit,
      npm,
      vars: {
        REGISTRY: registry.host,
        GOLDEN_IMAGE_INSTALL_TOOLS: 'false',
        GOLDEN_IMAGE_DB_REPOSITORY: db,
        GOLDEN_IMAGE_JAVA_DB_REPOSITORY: javaDb,
        GOLDEN_IMAGE_OSV_OFFLINE_DB: osv.dir,
        ...(fulcio
          ? {
              GOLDEN_IMAGE_FULCIO_URL: fulcio.url,
              GOLDEN_IMAGE_CERTIFICATE_CHAIN: fulcio.chainPem,
              GOLDEN_IMAGE_TRANSPARENCY_LOG: 'false',
              GOLDEN_IMAGE_CT_LOG: 'false',
            }
          : {}),
        ...(npm ? { NPM_REGISTRY: npm.url } : {}),
      },
      standIns: {
        registries: {
          [registry.host]: { address: `127.0.0.1:${registry.port}`, tls: false },
          [privateRegistry.host]: { address: `127.0.0.1:${privateRegistry.port}`, tls: false, ...REGISTRY_USER },
        },
        ...(buildkit ? { buildkitAddress: buildkit.address, buildxPlugin: need('docker-buildx', ['version']) } : {}),
      },
      async stop() {
        await Promise.allSettled(started.reverse().map((service) => service.stop()));
      },
    };
  } catch (error) {
    await Promise.allSettled(started.reverse().map((service) => service.stop()));
    throw error;
  }
}
