// The cosign room: the binary, its version (read once), the one table of what each version can do, the step's
// settings every command shares (bundle format, Sigstore instance, registry flags), the private registry
// environment, and the pinned cosign v3 that checks a legacy signature when a v2 will not look at it.
// Anchor: docker/actions-toolkit's Cosign class (a binary path, version() read once, versionSatisfies).
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ActionContext, type RunResult, runChecked, UserError } from '@golden-image/kit';
import { ensureTool, PINS, type ToolRequest } from '@golden-image/tools';
import {
  type BundleFormat,
  type Signer,
  type SigstoreInstance,
  signArgs,
  signatureLocation,
  verifyArgs,
} from './args.js';
import {
  abilitiesOf,
  bundleFormatProblem,
  COSIGN_ABILITIES,
  type CosignAbilities,
  type CosignVersion,
  cosignVersionOf,
  parseCosignVersion,
  pinnedCosignV3,
} from './cosign-abilities.js';
import { shellCommand } from './shell.js';

const OLDEST = COSIGN_ABILITIES.at(-1)?.from ?? '2.4.0';

/**
 * Before anything is installed or run: refuses bundle-format new when the inputs install a cosign older than v3.
 * With install-tools: false the version is only known once cosign runs (Cosign.requireSigningFormat).
 */
export function checkCosignRequest(request: ToolRequest, format: BundleFormat): void {
  if (!request.install) return;
  const problem = bundleFormatProblem(format, cosignVersionOf(request.version ?? PINS.cosign.defaultVersion), false);
  if (problem) throw new UserError(problem);
}

export interface ArgvSettings {
  version: CosignVersion;
  bundleFormat: BundleFormat;
  instance?: SigstoreInstance;
  registryFlags: readonly string[];
}

/** What every cosign command of one step shares. */
export interface CosignSetup {
  bundleFormat: BundleFormat;
  /** The Sigstore instance; the public-good one when absent. */
  instance?: SigstoreInstance;
  /** Registry flags, e.g. registryFlags({ tlsVerify: false }). */
  registryFlags?: readonly string[];
}

/** What copies of one Cosign share (the same binary): its version, read once, and derived trust material. */
interface Shared {
  version?: Promise<CosignVersion>;
  verifyInstances: Map<string, Promise<SigstoreInstance | undefined>>;
}

export interface CosignOptions {
  /** The environment cosign runs with; ctx.env when absent. */
  env?: NodeJS.ProcessEnv;
  /** Fetches the pinned cosign v3 (see legacyVerifier); none when absent. */
  fetchV3?: () => Promise<string>;
}

export class Cosign {
  readonly setup: Readonly<Required<Pick<CosignSetup, 'bundleFormat' | 'registryFlags'>> & CosignSetup>;
  readonly env: NodeJS.ProcessEnv;
  private readonly fetchV3?: () => Promise<string>;
  private readonly shared: Shared;

  constructor(
    private readonly ctx: ActionContext,
    /** The executable: an absolute path, or a name on PATH. */
    readonly path: string,
    setup: Partial<CosignSetup> = {},
    options: CosignOptions = {},
    shared?: Shared,
  ) {
    this.setup = {
      ...setup,
      bundleFormat: setup.bundleFormat ?? 'legacy',
      registryFlags: setup.registryFlags ?? [],
    };
    this.env = options.env ?? ctx.env;
    this.fetchV3 = options.fetchV3;
    this.shared = shared ?? { verifyInstances: new Map() };
  }

  get bundleFormat(): BundleFormat {
    return this.setup.bundleFormat;
  }

  /** The same binary and settings with another environment (the private registry config). */
  withEnv(env: NodeJS.ProcessEnv): Cosign {
    return new Cosign(this.ctx, this.path, this.setup, { env, fetchV3: this.fetchV3 }, this.shared);
  }

  /** `cosign version`, read once for this binary; refuses a cosign older than the table's last row. */
  version(): Promise<CosignVersion> {
    this.shared.version ??= this.readVersion();
    return this.shared.version;
  }

  private async readVersion(): Promise<CosignVersion> {
    const result = await runChecked(this.ctx.runner, this.path, ['version'], 'Reading the cosign version', {
      env: this.env,
      silent: true,
    });
    const version = parseCosignVersion(`${result.stdout.toString('utf8')}\n${result.stderr}`);
    if (!version) {
      throw new UserError(
        `Could not read the cosign version from "${this.path} version"; its output has no GitVersion line.`,
      );
    }
    if (!abilitiesOf(version)) {
      throw new UserError(
        `cosign ${version.text} is too old: the suite needs cosign v${OLDEST} or newer (v${PINS.cosign.defaultVersion} is the default).`,
      );
    }
    return version;
  }

  /** The table's row for this cosign. */
  async abilities(): Promise<CosignAbilities> {
    return abilitiesOf(await this.version()) as CosignAbilities;
  }

  /** Refuses to sign in a format this cosign cannot serve (bundle-format new needs v3), before anything is signed. */
  async requireSigningFormat(): Promise<void> {
    const problem = bundleFormatProblem(this.bundleFormat, await this.version(), true);
    if (problem) throw new UserError(problem);
  }

  run(args: readonly string[], options: { silent?: boolean } = {}): Promise<RunResult> {
    return this.ctx.runner.run(this.path, args, { env: this.env, ...options });
  }

  runChecked(args: readonly string[], what: string, options: { silent?: boolean } = {}): Promise<RunResult> {
    return runChecked(this.ctx.runner, this.path, args, what, { env: this.env, ...options });
  }

  /**
   * The step's registry credentials for cosign, which reads them only from a docker config (DOCKER_CONFIG/
   * config.json, else ~/.docker/config.json): it has no --authfile, and --registry-password would put the password
   * in argv. The private auth file the registry package wrote from the username/password inputs (`{"auths": …}`,
   * the same format) becomes the config.json of a private directory only this cosign is pointed at, deleted when fn
   * ends, however it ends. Without an auth file cosign keeps the job's own docker login.
   */
  async withRegistryAuth<T>(authFile: string | undefined, fn: (cosign: Cosign) => Promise<T>): Promise<T> {
    if (!authFile) return fn(this);
    const dir = mkdtempSync(join(this.ctx.tempDir, 'golden-image-cosign-auth-'));
    try {
      copyFileSync(authFile, join(dir, 'config.json'));
      return await fn(this.withEnv({ ...this.env, DOCKER_CONFIG: dir }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /**
   * When this cosign's verify looks only at attached bundles (bundlesHideLegacy) and the suite installs tools: the
   * pinned cosign v3, with the same settings and environment, to check a legacy signature. Otherwise undefined.
   */
  async legacyVerifier(): Promise<Cosign | undefined> {
    if (!this.fetchV3 || !(await this.abilities()).bundlesHideLegacy) return undefined;
    return new Cosign(this.ctx, await this.fetchV3(), this.setup, { env: this.env });
  }

  /** What every argv builder takes from this cosign: its version and the step's format, instance and registry flags. */
  async argvSettings(): Promise<ArgvSettings> {
    return {
      version: await this.version(),
      bundleFormat: this.bundleFormat,
      instance: this.setup.instance,
      registryFlags: this.setup.registryFlags,
    };
  }

  /** `cosign sign` of one image reference in the step's format, instance and registry. */
  async signArgs(imageRef: string, options: { recursive: boolean; key?: string }): Promise<string[]> {
    return signArgs({ imageRef, ...(await this.argvSettings()), recursive: options.recursive, key: options.key });
  }

  /** `cosign verify` pinned to the signer, with the trust material verification needs (verifyInstance). */
  async verifyArgs(imageRef: string, signer: Signer): Promise<string[]> {
    return verifyArgs({
      imageRef,
      signer,
      ...(await this.argvSettings()),
      instance: await this.verifyInstance(signer),
    });
  }

  /** The verify command for people, runnable as printed. */
  async verifyCommand(imageRef: string, signer: Signer): Promise<string> {
    return shellCommand(['cosign', ...(await this.verifyArgs(imageRef, signer))]);
  }

  /** Where cosign stores the signature of a digest in the step's format, for the `signature` output. */
  signatureLocation(image: string, digest: string): string {
    return signatureLocation(image, digest, this.bundleFormat, this.env);
  }

  /**
   * The instance a verification of this signer uses, made once per kind of signer: a keyless bundle is verified
   * against a trusted root only (cosign refuses --certificate-chain with bundles), so a certificate chain is turned
   * into one with `cosign trusted-root create`; a key-signed bundle on a cosign that insists on trusted material
   * with the log off gets an empty trusted root.
   */
  verifyInstance(signer: Signer): Promise<SigstoreInstance | undefined> {
    const kind = signer.key === undefined ? 'keyless' : 'key';
    let made = this.shared.verifyInstances.get(kind);
    if (!made) {
      made = this.makeVerifyInstance(signer);
      this.shared.verifyInstances.set(kind, made);
    }
    return made;
  }

  private async makeVerifyInstance(signer: Signer): Promise<SigstoreInstance | undefined> {
    const instance = this.setup.instance;
    if (this.bundleFormat !== 'new' || !instance) return instance;
    if (signer.key === undefined) {
      if (!instance.certificateChain || instance.trustedRoot) return instance;
      if (!instance.fulcioUrl) {
        throw new UserError(
          'Input "certificate-chain" with bundle-format new: a bundle is verified against a trusted root, which the suite ' +
            'makes from the chain with cosign trusted-root create; give "fulcio-url" too (it is recorded in the trusted ' +
            'root), or give "trusted-root" instead.',
        );
      }
      mkdirSync(this.ctx.tempDir, { recursive: true });
      const trustedRoot = join(this.ctx.tempDir, 'golden-image-trusted-root.json');
      await this.runChecked(
        [
          'trusted-root',
          'create',
          '--fulcio',
          `url=${instance.fulcioUrl},certificate-chain=${instance.certificateChain}`,
          '--out',
          trustedRoot,
        ],
        'Making a trusted root from the certificate chain',
        { silent: true },
      );
      return { ...instance, trustedRoot };
    }
    if (!(await this.abilities()).keyBundleNeedsTrustedRoot) return instance;
    if (instance.transparencyLog || instance.trustedRoot) return instance;
    mkdirSync(this.ctx.tempDir, { recursive: true });
    const trustedRoot = join(this.ctx.tempDir, 'golden-image-empty-trusted-root.json');
    writeFileSync(
      trustedRoot,
      JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1' }),
    );
    return { ...instance, trustedRoot };
  }
}

/**
 * The step's cosign as its inputs ask: installed and checked against the pinned SHA-256 (or taken from PATH with
 * install-tools: false), with the pinned v3 at hand for legacy checks when the suite installs tools.
 */
export async function installCosign(
  ctx: ActionContext,
  request: ToolRequest,
  setup: CosignSetup,
  install: typeof ensureTool = ensureTool,
): Promise<Cosign> {
  const path = await install(ctx, request);
  const v3 = request.install ? pinnedCosignV3() : undefined;
  const fetchV3 = v3
    ? () => install(ctx, { tool: 'cosign', version: v3, install: true, mirror: request.mirror })
    : undefined;
  return new Cosign(ctx, path, setup, { fetchV3 });
}
