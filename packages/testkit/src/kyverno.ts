import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { tempDir } from './fixtures.js';

export interface KyvernoResult {
  policy: string;
  rule: string;
  result: string;
  message: string;
}

export interface KyvernoOutcome {
  /** Admitted: the CLI exited 0 and every result of the policy under test passed (at least one). */
  admitted: boolean;
  exitCode: number;
  /** The policy report's results of the policy under test. */
  results: KyvernoResult[];
  /** When `expectImage` was given: whether the Pod, after the policy's mutation, runs an image matching it. */
  imageMatched?: boolean;
  /** Every result as `policy/rule: result: message` lines, then stdout and stderr, for failure messages. */
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

const PROBE = 'golden-image-test-probe-image';

/**
 * A policy that only checks the Pod's image against a Kyverno glob. The CLI runs every policy's verifyImages first
 * and validates the Pod as they patched it, so this sees the image after mutateDigest rewrote it (the CLI prints no
 * mutated resource for verifyImages).
 */
function probePolicy(glob: string): string {
  return stringify({
    apiVersion: 'kyverno.io/v1',
    kind: 'ClusterPolicy',
    metadata: { name: PROBE },
    spec: {
      rules: [
        {
          name: 'image',
          match: { any: [{ resources: { kinds: ['Pod'] } }] },
          validate: {
            failureAction: 'Enforce',
            message: 'the image after mutation',
            pattern: { spec: { containers: [{ image: glob }] } },
          },
        },
      ],
    },
  });
}

/**
 * `kyverno apply POLICY --resource POD --registry --policy-report`: the real Kyverno CLI evaluates the policy against
 * a Pod running `image`, offline (no cluster), reading signatures from the registry. HOME is a fresh directory, so
 * no local docker login or TUF cache leaks in; `env` is added (DOCKER_CONFIG for registry credentials); `args` are more
 * flags (-v=6: Kyverno's own log, where an ImageValidatingPolicy says why a verification failed).
 */
export function kyvernoApply(
  kyverno: string,
  policyYaml: string,
  image: string,
  options: { expectImage?: string; env?: NodeJS.ProcessEnv; args?: readonly string[] } = {},
): KyvernoOutcome {
  const dir = tempDir('golden-image-kyverno-');
  const policy = join(dir, 'policy.yaml');
  const pod = join(dir, 'pod.yaml');
  writeFileSync(policy, options.expectImage ? `${policyYaml}\n---\n${probePolicy(options.expectImage)}` : policyYaml);
  writeFileSync(pod, podYaml(image));
  const result = spawnSync(
    kyverno,
    [
      'apply',
      policy,
      '--resource',
      pod,
      '--registry',
      '--remove-color',
      '--policy-report',
      '--output-format',
      'json',
      ...(options.args ?? []),
    ],
    {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: dir, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 300_000,
    },
  );
  const raw = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  const start = (result.stdout ?? '').indexOf('{"kind":');
  if (start === -1) throw new Error(`kyverno apply printed no policy report (exit ${result.status}):\n${raw}`);
  const report = JSON.parse(result.stdout.slice(start).split('\n')[0] ?? '') as { results?: KyvernoResult[] };
  const all = (report.results ?? []).map(({ policy, rule, result, message }) => ({ policy, rule, result, message }));
  const results = all.filter((r) => r.policy !== PROBE);
  const probe = all.filter((r) => r.policy === PROBE);
  const exitCode = result.status ?? -1;
  const output = `${all.map((r) => `${r.policy}/${r.rule}: ${r.result}: ${r.message}`).join('\n')}\n${raw}`;
  return {
    admitted: exitCode === 0 && results.length > 0 && results.every((r) => r.result === 'pass'),
    exitCode,
    results,
    ...(options.expectImage ? { imageMatched: probe.length > 0 && probe.every((r) => r.result === 'pass') } : {}),
    output,
  };
}
