import type { ActionContext } from '@golden-image/kit';
import type { VerifiedLayout } from '@golden-image/oci';

/** What a build needs from its surroundings: the action context fits, and so does a plain object in the demo. */
export type BuildContext = Pick<ActionContext, 'runner' | 'env' | 'tempDir' | 'info' | 'warning'>;

/** One build, already validated. Paths are absolute. Lists hold one entry per flag. */
export interface BuildRequest {
  context: string;
  file?: string;
  platforms: string[];
  buildArgs: string[];
  secrets: string[];
  labels: string[];
  annotations: string[];
  target?: string;
  /** SSH agent sockets or keys (`default`, `ID=PATH`), local paths absolute. */
  ssh: string[];
  /** More build contexts, NAME=VALUE (a local directory absolute). */
  buildContexts: string[];
  /** Build every step again, using no cache. */
  noCache: boolean;
  /** Pull newer base images even when the builder holds them. */
  pull: boolean;
  cacheFrom: string[];
  cacheTo: string[];
  /** buildx `--provenance` value (`mode=max`, `false`, …). */
  provenance: string;
  /** buildx `--sbom` value (`true`, `false`, …). */
  sbom: string;
  /** A fresh, empty (or absent) directory the layout is written to. */
  layoutPath: string;
  /** Created time for reproducible builds (buildah `--timestamp`); buildx reads SOURCE_DATE_EPOCH itself. */
  timestamp?: number;
}

export interface BuildResult {
  builder: 'buildx' | 'buildah';
  layout: VerifiedLayout;
  /** Runnable platforms of the layout, attestations left out. */
  platforms: Record<string, string>;
  /** buildx: the metadata file as written; buildah: {builder, version, digest, manifest-list, platforms}. */
  metadata: Record<string, unknown>;
}
