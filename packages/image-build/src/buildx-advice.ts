/** The `# syntax=` parser directive of a Dockerfile (directives come before any instruction or other comment). */
export function syntaxDirective(dockerfile: string): string | undefined {
  for (const line of dockerfile.split('\n')) {
    const directive = /^#\s*([a-zA-Z]+)\s*=\s*(\S+)\s*$/.exec(line.trim());
    if (!directive) return undefined;
    if (directive[1]?.toLowerCase() === 'syntax') return directive[2];
  }
  return undefined;
}

/**
 * What to do when BuildKit could not fetch an image the build needs ("failed to resolve source metadata for X"):
 * BuildKit pulls more than the FROM lines name. An SBOM attestation runs a scanner image, and a `# syntax=` line
 * swaps in a frontend image; on a builder without registry access (an offline or locked-down runner) those fail
 * in words that name neither. Undefined when the failure is something else.
 */
export function pullAdvice(stderr: string, dockerfile: string): string | undefined {
  const image = /failed to resolve source metadata for (\S+?):\s/.exec(stderr)?.[1];
  if (!image) return undefined;
  const offline = /no such host|dial tcp|i\/o timeout|connection refused|network is unreachable/i.test(stderr)
    ? ' (the builder cannot reach that registry)'
    : '';
  if (/\/buildkit-syft-scanner(:|@|$)/.test(image)) {
    return (
      ` The SBOM attestation runs BuildKit's scanner image ${image}, which the builder could not pull${offline}. ` +
      'Give the builder access to that registry (or a mirror of it), name a scanner image it can reach with sbom: generator=<image>, or set sbom: false.'
    );
  }
  const syntax = syntaxDirective(dockerfile);
  if (syntax && (image === syntax || image.endsWith(`/${syntax}`))) {
    return (
      ` The Dockerfile's "# syntax=${syntax}" line makes BuildKit pull that frontend image (${image}), which the builder could not pull${offline}. ` +
      "Remove the line to use the builder's built-in Dockerfile frontend, or give the builder access to that registry."
    );
  }
  return ` The builder could not pull ${image}${offline}: check the image name, and the builder's access to that registry (docker/login-action for a private one).`;
}
