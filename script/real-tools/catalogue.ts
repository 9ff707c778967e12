// What `npm run tools:real` gets: each tool's Go module, main package and build settings. Tools the suite itself
// installs on runners (suiteTool) take their version from packages/tools' pins; the others, which only the real
// tier runs, are pinned here.
import type { ToolName } from '@golden-image/tools';

export interface RealTool {
  /** File name under bin/. */
  bin: string;
  /** The pins entry the suite's installer downloads on a networked machine. */
  suiteTool?: ToolName;
  /** Pinned version for tools outside the suite's pins. */
  version: string;
  module: string;
  pkg: string;
  env?: Record<string, string>;
  tags?: string[];
  /** -X flags that make `--version` print the version, as the upstream release build does. */
  ldflags?: (version: string) => string[];
  /** Patches (script/real-tools/patches/, `patch -p1` against the module's source), each saying why. */
  patches?: string[];
}

const releaseUtils = (v: string) => [`-X sigs.k8s.io/release-utils/version.gitVersion=${v}`];

export const REAL_TOOLS: readonly RealTool[] = [
  {
    bin: 'trivy',
    suiteTool: 'trivy',
    version: '',
    module: 'github.com/aquasecurity/trivy',
    pkg: 'github.com/aquasecurity/trivy/cmd/trivy',
    // Trivy imports encoding/json/v2 (every release from 0.68.2).
    env: { GOEXPERIMENT: 'jsonv2' },
    ldflags: (v) => [`-X github.com/aquasecurity/trivy/pkg/version/app.ver=${v.replace(/^v/, '')}`],
  },
  {
    bin: 'osv-scanner',
    suiteTool: 'osv-scanner',
    version: '',
    module: 'github.com/google/osv-scanner/v2',
    pkg: 'github.com/google/osv-scanner/v2/cmd/osv-scanner',
  },
  {
    bin: 'syft',
    suiteTool: 'syft',
    version: '',
    module: 'github.com/anchore/syft',
    pkg: 'github.com/anchore/syft/cmd/syft',
    ldflags: (v) => [`-X main.version=${v.replace(/^v/, '')}`],
  },
  {
    bin: 'cosign',
    suiteTool: 'cosign',
    version: '',
    module: 'github.com/sigstore/cosign/v2',
    pkg: 'github.com/sigstore/cosign/v2/cmd/cosign',
    ldflags: releaseUtils,
  },
  {
    bin: 'cosign-v3',
    version: '3.1.3',
    module: 'github.com/sigstore/cosign/v3',
    pkg: 'github.com/sigstore/cosign/v3/cmd/cosign',
    ldflags: releaseUtils,
  },
  {
    bin: 'fulcio',
    version: '1.8.8',
    module: 'github.com/sigstore/fulcio',
    pkg: 'github.com/sigstore/fulcio',
    ldflags: releaseUtils,
  },
  {
    bin: 'kyverno',
    version: '1.19.1',
    module: 'github.com/kyverno/kyverno',
    pkg: 'github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno',
    ldflags: (v) => [`-X github.com/kyverno/kyverno/pkg/version.BuildVersion=${v}`],
  },
  {
    bin: 'buildkitd',
    version: '0.34.2',
    module: 'github.com/moby/buildkit',
    pkg: 'github.com/moby/buildkit/cmd/buildkitd',
    tags: ['osusergo', 'netgo', 'static_build'],
    ldflags: (v) => [`-X github.com/moby/buildkit/version.Version=${v}`],
  },
  {
    bin: 'buildctl',
    version: '0.34.2',
    module: 'github.com/moby/buildkit',
    pkg: 'github.com/moby/buildkit/cmd/buildctl',
    tags: ['osusergo', 'netgo', 'static_build'],
    ldflags: (v) => [`-X github.com/moby/buildkit/version.Version=${v}`],
  },
  {
    bin: 'docker-buildx',
    version: '0.38.2',
    module: 'github.com/docker/buildx',
    pkg: 'github.com/docker/buildx/cmd/buildx',
    ldflags: (v) => [`-X github.com/docker/buildx/version.Version=${v}`],
  },
  {
    // nektos/act runs the workflow tier: the project's own workflow files, on the host, offline.
    bin: 'act',
    version: '0.2.89',
    module: 'github.com/nektos/act',
    pkg: 'github.com/nektos/act',
    ldflags: (v) => [`-X main.version=${v.replace(/^v/, '')}`],
    // Where act on the host is not GitHub, each patch says why: matrix outputs (nektos/act#981), a HOME per job,
    // a skipped job's outputs.
    patches: ['act-matrix-outputs.patch', 'act-job-home.patch', 'act-skipped-job-outputs.patch'],
  },
];
