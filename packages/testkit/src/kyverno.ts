import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { tempDir } from './fixtures.js';

export interface KyvernoOutcome {
  /** Admitted: the CLI exited 0 and counted a pass, no fail and no error. */
  admitted: boolean;
  exitCode: number;
  pass: number;
  fail: number;
  error: number;
  skip: number;
  /** The Pod's container images after the policy ran (mutateDigest rewrites a tag to the verified digest). */
  images: string[];
  /** stdout and stderr, for failure messages. */
  output: string;
}

/** A one-container Pod manifest running `image`. */
export function podYaml(image: string, name = 'app'): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: { containers: [{ name, image }] },
  });
}

/**
 * `kyverno apply POLICY --resource POD --registry -o OUT`: the real Kyverno CLI evaluates the policy against the Pod
 * offline (no cluster), reading signatures from the registry, and writes the Pod as mutated. `env` reaches the CLI
 * (DOCKER_CONFIG for registry credentials); HOME is a fresh directory so no local docker login leaks in.
 */
export function kyvernoApply(
  kyverno: string,
  policyYaml: string,
  image: string,
  env: NodeJS.ProcessEnv = {},
): KyvernoOutcome {
  const dir = tempDir('golden-image-kyverno-');
  const policy = join(dir, 'policy.yaml');
  const pod = join(dir, 'pod.yaml');
  const mutated = join(dir, 'mutated.yaml');
  writeFileSync(policy, policyYaml);
  writeFileSync(pod, podYaml(image));
  const result = spawnSync(
    kyverno,
    ['apply', policy, '--resource', pod, '--registry', '--remove-color', '-o', mutated],
    {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: dir, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 300_000,
    },
  );
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  const counts = /pass: (\d+), fail: (\d+), warn: \d+, error: (\d+), skip: (\d+)/.exec(output);
  if (!counts) throw new Error(`kyverno apply printed no result counts (exit ${result.status}):\n${output}`);
  const [pass, fail, error, skip] = counts.slice(1).map(Number) as [number, number, number, number];
  const exitCode = result.status ?? -1;
  return {
    admitted: exitCode === 0 && pass > 0 && fail === 0 && error === 0,
    exitCode,
    pass,
    fail,
    error,
    skip,
    images: existsSync(mutated) ? imagesIn(readFileSync(mutated, 'utf8')) : [],
    output,
  };
}

function imagesIn(yamlText: string): string[] {
  const images: string[] = [];
  for (const doc of parseAllDocuments(yamlText)) {
    const pod = doc.toJS() as { kind?: string; spec?: { containers?: { image?: string }[] } } | null;
    if (pod?.kind !== 'Pod') continue;
    for (const container of pod.spec?.containers ?? []) if (container.image) images.push(container.image);
  }
  return images;
}
