// Everything a caller's workflow needs around it to run here, offline: a registry for the images (`vars.REGISTRY`,
// open like GHCR to the job's own token; it also holds the Trivy DB as a mirror would), a second registry with basic
// auth (logins, registry-auth), OSV-Scanner's offline DB, BuildKit, a GitHub OIDC token endpoint and a real Fulcio
// trusting it (keyless signing), and the organisation variables that point the reusable workflows at them. The same
// for the tests and `npm run workflow`.
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startBuildkit, type TestBuildkit } from '../buildkit.js';
import { tempDir } from '../fixtures.js';
import { startFulcio, type TestFulcio } from '../fulcio.js';
import { offlineOsvDb } from '../offline/osv-db.js';
import { pushTrivyDbArtifact } from '../offline/trivy-db.js';
import { type OidcIssuer, startOidcIssuer } from '../oidc-issuer.js';
import { projectGoTool } from '../project-go-tool.js';
import { realTool } from '../real-tools.js';
import { startRegistry, type TestRegistry } from '../registry.js';
import { startVerdaccio, type TestNpmRegistry } from '../verdaccio.js';
import type { StandInConfig } from './stand-in-config.js';

const execFileAsync = promisify(execFile);

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
    // docker.io comes from the local registry, as a mirror would serve it on an air-gapped network: BuildKit pulls
    // its SBOM generator (docker/buildkit-syft-scanner) from there.
    const buildkit = images
      ? await startBuildkit({
          buildkitd: need('buildkitd'),
          buildx: need('docker-buildx', ['version']),
          config: `[registry."docker.io"]\n  mirrors = ["${registry.host}"]\n[registry."${registry.host}"]\n  http = true\n`,
        })
      : undefined;
    if (buildkit) {
      started.push(buildkit);
      await pushSbomGenerator(buildkit, registry, need('buildctl', ['--version']), need('syft', ['version']));
    }
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

export interface ImpersonatedRegistry {
  /** The names it answers to over TLS on port 443 (ghcr.io, 123456789012.dkr.ecr.eu-west-1.amazonaws.com, ...). */
  names: string[];
  auth?: { username: string; password: string };
}

export interface CloudRegistries {
  /** By first name. */
  registries: Record<string, TestRegistry>;
  /** For runWorkflow's hosts: every name -> its own loopback address. */
  hosts: Record<string, string>;
  /** The runner trusts their CA (Go tools read SSL_CERT_FILE, Node NODE_EXTRA_CA_CERTS). */
  runnerEnv: Record<string, string>;
  /** What the stand-ins know of them (login checks, the cloud logins' credentials). */
  standIns: Record<string, { address: string; tls: true; caFile: string; username?: string; password?: string }>;
  /** A file of the CA certificates alone, for reading the registries back with skopeo (--cert-dir wants a dir). */
  certDir: string;
  stop(): Promise<void>;
}

/**
 * Registries that answer to real hosts' names (GHCR, Docker Hub, ECR, Artifact Registry) on 443 of addresses of
 * their own in 127.0.0.0/8, with certificates for those names: with a run's hosts file, the examples push where they
 * are written to push, without a byte leaving the machine. Binding 443 needs root.
 */
export async function startImpersonatedRegistries(specs: ImpersonatedRegistry[]): Promise<CloudRegistries> {
  const started: TestRegistry[] = [];
  try {
    const dir = tempDir('golden-image-cloud-registries-');
    const certDir = join(dir, 'certs');
    mkdirSync(certDir, { recursive: true });
    const registries: Record<string, TestRegistry> = {};
    const hosts: Record<string, string> = {};
    const standIns: CloudRegistries['standIns'] = {};
    const cas: string[] = [];
    for (const [index, spec] of specs.entries()) {
      const address = `127.0.0.${index + 10}`;
      const registry = await startRegistry({
        tls: true,
        port: 443,
        address,
        names: spec.names,
        ...(spec.auth ? { auth: spec.auth } : {}),
      });
      started.push(registry);
      registries[spec.names[0] as string] = registry;
      const ca = readFileSync(registry.caCert as string, 'utf8');
      cas.push(ca);
      for (const name of spec.names) {
        hosts[name] = address;
        standIns[name] = { address: `${address}:443`, tls: true, caFile: registry.caCert as string, ...spec.auth };
      }
    }
    const system = existsSync('/etc/ssl/certs/ca-certificates.crt')
      ? readFileSync('/etc/ssl/certs/ca-certificates.crt', 'utf8')
      : '';
    const bundle = join(dir, 'ca-bundle.pem');
    writeFileSync(bundle, `${system}\n${cas.join('\n')}`);
    const ours = join(dir, 'registries-ca.pem');
    writeFileSync(ours, cas.join('\n'));
    writeFileSync(join(certDir, 'ca.crt'), cas.join('\n'));
    return {
      registries,
      hosts,
      runnerEnv: { SSL_CERT_FILE: bundle, NODE_EXTRA_CA_CERTS: ours },
      standIns,
      certDir,
      stop: async () => {
        await Promise.allSettled(started.map((registry) => registry.stop()));
      },
    };
  } catch (error) {
    await Promise.allSettled(started.map((registry) => registry.stop()));
    throw error;
  }
}

/**
 * docker/buildkit-syft-scanner:stable-1 (BuildKit's default SBOM generator) as this machine can make it: the real
 * syft and the project's generator program (packages/testkit/programs/sbom-scanner), built by BuildKit itself and
 * pushed to the local registry that mirrors docker.io.
 */
async function pushSbomGenerator(buildkit: TestBuildkit, registry: TestRegistry, buildctl: string, syft: string) {
  const context = tempDir('golden-image-sbom-generator-');
  copyFileSync(syft, join(context, 'syft'));
  copyFileSync(await projectGoTool('sbom-scanner'), join(context, 'scanner'));
  writeFileSync(
    join(context, 'Dockerfile'),
    'FROM scratch\nCOPY syft /syft\nCOPY scanner /scanner\nENTRYPOINT ["/scanner"]\n',
  );
  await execFileAsync(
    buildctl,
    [
      '--addr',
      buildkit.address,
      'build',
      '--frontend',
      'dockerfile.v0',
      '--local',
      `context=${context}`,
      '--local',
      `dockerfile=${context}`,
      '--output',
      `type=image,name=${registry.host}/docker/buildkit-syft-scanner:stable-1,push=true,registry.insecure=true`,
    ],
    { maxBuffer: 16 << 20 },
  );
}
