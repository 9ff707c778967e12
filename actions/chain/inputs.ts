import { buildSecretsInput } from '@golden-image/image-build';
import { booleanInput, enumInput, listInput, optionalString, type parseInputs } from '@golden-image/kit';
import { imagesInput } from '@golden-image/oci';
import { keyInput, POLICY_KIND_CHOICES } from '@golden-image/signing';

/** The root (Marketplace) action's inputs, as action.yml declares them: each handed to the step that takes it. */
export const inputs = {
  image: imagesInput(),
  context: optionalString(),
  file: optionalString(),
  // Lists are checked entry by entry by the step that takes them (build-oci), with the same input names.
  platforms: listInput({}),
  'build-args': listInput({ lines: true }),
  'build-secrets': buildSecretsInput(),
  'secret-files': listInput({ lines: true }),
  ssh: listInput({ lines: true }),
  'build-contexts': listInput({ lines: true }),
  'no-cache': booleanInput(false),
  pull: booleanInput(false),
  target: optionalString(),
  labels: listInput({ lines: true }),
  annotations: listInput({ lines: true }),
  'cache-from': listInput({ lines: true }),
  'cache-to': listInput({ lines: true }),
  provenance: optionalString(),
  sbom: optionalString(),
  // Checked by build-oci (its explanation of a setup-buildx-action builder name included).
  builder: optionalString(),
  tags: listInput({}),
  'rolling-tags': listInput({}),
  push: enumInput(['auto', 'true', 'false'], 'auto'),
  'allow-overwrite': booleanInput(false),
  // Checked by push-layout (0 to 60000).
  'tag-race-window-ms': optionalString(),
  severity: optionalString(),
  'ignore-unfixed': booleanInput(false),
  trivyignores: listInput({}),
  'skip-dirs': listInput({}),
  scanners: listInput({}),
  'scan-repo': booleanInput(true),
  'scan-repo-path': optionalString(),
  'block-uncalled': booleanInput(true),
  'osv-offline-db': optionalString(),
  'db-repository': optionalString(),
  'java-db-repository': optionalString(),
  sign: booleanInput(true),
  attest: booleanInput(true),
  key: keyInput(),
  'kyverno-policy-kind': enumInput(POLICY_KIND_CHOICES, 'auto'),
  // The private Sigstore instance, checked by sign-digest, attest-evidence and promote-tags.
  'fulcio-url': optionalString(),
  'rekor-url': optionalString(),
  'transparency-log': optionalString(),
  'ct-log': optionalString(),
  'certificate-chain': optionalString(),
  'trusted-root': optionalString(),
  'tls-verify': booleanInput(true),
  username: optionalString(),
  password: optionalString(),
  'install-tools': booleanInput(true),
  'tool-mirror': optionalString(),
};

export type Input = ReturnType<typeof parseInputs<typeof inputs>>;
