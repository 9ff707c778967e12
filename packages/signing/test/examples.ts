// The example policies of examples/kyverno, as sign-digest writes them for a fork; shared by the fast test that keeps
// the files in step and the real Kyverno tier that evaluates them.
import { buildPolicy, defaultImageReferences, type PolicyKind, type PolicyOptions, policyYaml } from '../src/index.js';

export const EXAMPLE = {
  image: 'ghcr.io/your-fork/app',
  // signed through the suite's reusable workflow: the identity is that workflow, the source repository the fork
  identity: 'https://github.com/golden-image/golden-image/.github/workflows/docker-publish.yml@refs/tags/v1.2.0',
  issuer: 'https://token.actions.githubusercontent.com',
  repository: 'your-fork/app',
  // A throwaway P-256 public key (its private half was discarded); replace it with your cosign.pub.
  pem: `-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAELby4WsuLybXUvuCmdgeF2fJjzyyl
hTtM4R3KJsFhg72dHZDA4uFNfMVDdMiZjqiHKx72rPBUGmiSj+/o34qNxg==
-----END PUBLIC KEY-----
`,
  // A throwaway self-signed root (its key was discarded); replace it with your Fulcio's chain.
  roots: `-----BEGIN CERTIFICATE-----
MIIBsTCCAVegAwIBAgIUCpF9tPIIvc4Z4q95ueTe3p4tdFMwCgYIKoZIzj0EAwIw
LjERMA8GA1UECgwIeW91ci1vcmcxGTAXBgNVBAMMEHlvdXItZnVsY2lvLXJvb3Qw
HhcNMjYxMTMwMDgwMzU1WhcNMzYxMTI3MDgwMzU1WjAuMREwDwYDVQQKDAh5b3Vy
LW9yZzEZMBcGA1UEAwwQeW91ci1mdWxjaW8tcm9vdDBZMBMGByqGSM49AgEGCCqG
SM49AwEHA0IABKhfp94r0Ph7lJV1qsWepo1csYZXz78IKCPKQGZDsKpGJSJ0vgdg
RhqgF2ekuEVOxfRmEQAWJ8Tulbx7VI8KRmSjUzBRMB0GA1UdDgQWBBRoYuQzi49Z
wsEjYZFdvc6Q764UzTAfBgNVHSMEGDAWgBRoYuQzi49ZwsEjYZFdvc6Q764UzTAP
BgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIQDECS9n/Xsfa0/pf8xQ
VIH/yeClwR8IVh60TCBnOih93gIgMZkuQxuwfUirLVuk4M5KJoj/CTife5/uWbIM
TMHt0mk=
-----END CERTIFICATE-----
`,
};

const base = { image: EXAMPLE.image, imageReferences: defaultImageReferences(EXAMPLE.image) };
const keyless = (match: 'exact' | 'any-ref') =>
  ({
    kind: 'keyless',
    identity: EXAMPLE.identity,
    issuer: EXAMPLE.issuer,
    match,
    source: { repository: EXAMPLE.repository },
  }) as const;
const offline = { transparencyLog: false, ctLog: false };

export interface Example {
  kind: PolicyKind;
  options: PolicyOptions;
}

const key = { kind: 'key', pem: EXAMPLE.pem } as const;

/** file name -> the form and what sign-digest was given (kyverno-policy-kind: auto unless the name says otherwise). */
export const EXAMPLES: Record<string, Example> = {
  'keyless.yaml': { kind: 'ClusterPolicy', options: { ...base, bundleFormat: 'legacy', signer: keyless('exact') } },
  'keyless-any-ref.yaml': {
    kind: 'ClusterPolicy',
    options: { ...base, bundleFormat: 'legacy', signer: keyless('any-ref') },
  },
  'keyless-private-instance.yaml': {
    kind: 'ClusterPolicy',
    options: {
      ...base,
      bundleFormat: 'legacy',
      signer: keyless('exact'),
      instance: { ...offline, rootsPem: EXAMPLE.roots },
    },
  },
  // a key with the public transparency log: auto keeps the ClusterPolicy (neither form can be checked offline)
  'key.yaml': { kind: 'ClusterPolicy', options: { ...base, bundleFormat: 'legacy', signer: key } },
  'key-sigstore-bundle.yaml': { kind: 'ClusterPolicy', options: { ...base, bundleFormat: 'new', signer: key } },
  // the same, kyverno-policy-kind: ImageValidatingPolicy
  'key-imagevalidatingpolicy.yaml': {
    kind: 'ImageValidatingPolicy',
    options: { ...base, bundleFormat: 'legacy', signer: key },
  },
  // a key without a transparency log: auto writes the ImageValidatingPolicy
  'key-no-log.yaml': {
    kind: 'ImageValidatingPolicy',
    options: { ...base, bundleFormat: 'legacy', signer: key, instance: { transparencyLog: false, ctLog: true } },
  },
  'key-sigstore-bundle-no-log.yaml': {
    kind: 'ImageValidatingPolicy',
    options: { ...base, bundleFormat: 'new', signer: key, instance: { transparencyLog: false, ctLog: true } },
  },
};

export function examplePolicy(file: string): string {
  const example = EXAMPLES[file];
  if (!example) throw new Error(`no example ${file}`);
  return policyYaml(buildPolicy(example.kind, example.options));
}
