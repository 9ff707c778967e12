// npm run bench -- chain: one two-platform image built with the real BuildKit, released two ways against the same
// tools, registry and BuildKit cache state, alternating, N runs each (BENCH_RUNS, default 3):
//   (a) the usual stack: `docker buildx build --push`, `trivy image` on the pushed reference, `cosign sign` by digest;
//   (b) the root action (dist/chain/index.js as the runner runs it, like `npm run demo`), once with attest: false
//       (the same release as (a), plus what the suite checks) and once with its defaults (SBOM and scan-result
//       attestations too).
// Every run builds something new (a stamp file per run, so BuildKit rebuilds the last layer and pushes new blobs),
// into a registry that already holds the earlier runs, as a CI job does. Prints the median wall times, their ratios,
// where (b)'s time goes (each tool's time, from a wrapper on PATH, and the rest), and what (b) did that (a) did not.
// Needs the real tools (npm run tools:real): buildkitd, docker-buildx, trivy, cosign, syft; the docker CLI client.
// Prints figures only; nothing here is asserted.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  alpineFiles,
  offlineTrivyCache,
  pushTrivyDbArtifact,
  realTool,
  runBundledAction,
  SAMPLE_MUSL,
  startBuildkit,
  startRegistry,
  tempDir,
  toolAvailable,
} from '@golden-image/testkit';

const PLATFORMS = ['linux/amd64', 'linux/arm64'];
const PASSWORD = 'bench-password';

/**
 * A PATH directory whose tools run the real ones and append `<start ns> <end ns> <tool> <argv>` to one log file. The
 * file's path is written into each wrapper: the suite runs its scanners with an environment of its own.
 */
function timedTools(tools: Record<string, string>): { dir: string; log: string } {
  const dir = tempDir('golden-image-bench-tools-');
  const log = join(dir, 'calls.log');
  for (const [name, real] of Object.entries(tools)) {
    writeFileSync(
      join(dir, name),
      `#!/bin/sh\ns=$(date +%s%N); ${JSON.stringify(real)} "$@"; rc=$?; e=$(date +%s%N)\necho "$s $e ${name} $*" >> ${JSON.stringify(log)}; exit $rc\n`,
    );
    chmodSync(join(dir, name), 0o755);
  }
  return { dir, log };
}

interface ToolCall {
  start: number;
  end: number;
  tool: string;
  args: string;
}

function readCalls(file: string): ToolCall[] {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [start = '0', end = '0', tool = '', ...args] = line.split(' ');
      return {
        start: Number(BigInt(start) / 1000n) / 1000,
        end: Number(BigInt(end) / 1000n) / 1000,
        tool,
        args: args.join(' '),
      };
    });
}

/** Milliseconds covered by the calls of one tool (overlapping calls counted once). */
function covered(calls: ToolCall[]): number {
  const sorted = [...calls].sort((a, b) => a.start - b.start);
  let total = 0;
  let until = Number.NEGATIVE_INFINITY;
  for (const call of sorted) {
    if (call.end <= until) continue;
    total += call.end - Math.max(call.start, until);
    until = call.end;
  }
  return total;
}

/** A build context: Alpine-like files per platform (fixed musl: the gates pass), the application, a stamp. */
function context(appMiB: number): string {
  const dir = tempDir('golden-image-bench-context-');
  writeFileSync(
    join(dir, 'Dockerfile'),
    [
      'FROM scratch',
      'ARG TARGETARCH',
      'COPY rootfs-$' + '{TARGETARCH}/ /',
      'COPY app.bin /app/app.bin',
      'COPY stamp.txt /app/stamp.txt',
      '',
    ].join('\n'),
  );
  for (const platform of PLATFORMS) {
    for (const [path, text] of Object.entries(alpineFiles(platform, { musl: SAMPLE_MUSL.fixed }))) {
      const file = join(dir, `rootfs-${platform.split('/')[1]}`, path);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, text);
    }
  }
  writeFileSync(join(dir, 'app.bin'), randomBytes(appMiB << 20));
  return dir;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const ms = (value: number) => `${Math.round(value)} ms`;
const s = (value: number) => `${(value / 1000).toFixed(1)} s`;

export async function benchChain(
  runs = Number(process.env.BENCH_RUNS ?? 3),
  appMiB = Number(process.env.BENCH_APP_MIB ?? 16),
): Promise<string[]> {
  const tools = {
    buildkitd: realTool('buildkitd'),
    buildx: realTool('docker-buildx', ['version']),
    trivy: realTool('trivy'),
    cosign: realTool('cosign', ['version']),
    syft: realTool('syft', ['version']),
  };
  const missing = Object.entries(tools)
    .filter(([, path]) => !path)
    .map(([name]) => name);
  if (missing.length > 0 || !toolAvailable('docker') || !toolAvailable('skopeo'))
    return [
      `skipped: the real ${missing.join(', ') || 'docker CLI or skopeo'} ${missing.length === 1 ? 'is' : 'are'} not here (npm run tools:real builds them)`,
    ];
  const buildkit = await startBuildkit({ buildkitd: tools.buildkitd as string, buildx: tools.buildx as string });
  const registry = await startRegistry();
  const lines: string[] = [];
  try {
    const ctxDir = context(appMiB);
    const keys = tempDir('golden-image-bench-keys-');
    execFileSync(tools.cosign as string, ['generate-key-pair'], {
      cwd: keys,
      env: { ...process.env, COSIGN_PASSWORD: PASSWORD },
      stdio: 'ignore',
    });
    const key = join(keys, 'cosign.key');
    const wrappers = timedTools({
      docker: execFileSync('sh', ['-c', 'command -v docker'], { encoding: 'utf8' }).trim(),
      skopeo: execFileSync('sh', ['-c', 'command -v skopeo'], { encoding: 'utf8' }).trim(),
      trivy: tools.trivy as string,
      cosign: tools.cosign as string,
      syft: tools.syft as string,
    });
    const baseEnv: NodeJS.ProcessEnv = {
      ...process.env,
      ...buildkit.env,
      PATH: `${wrappers.dir}:${process.env.PATH}`,
      COSIGN_PASSWORD: PASSWORD,
      GITHUB_WORKSPACE: ctxDir,
    };
    delete baseEnv.ACTIONS_ID_TOKEN_REQUEST_URL;
    delete baseEnv.ACTIONS_RUNTIME_TOKEN;

    // (a): the trivy-action way, with the same offline DB (Trivy's own cache dir, as trivy-action caches it).
    const usualCache = await offlineTrivyCache(join(tempDir('golden-image-bench-trivy-'), 'cache'));
    const goldenDb = await pushTrivyDbArtifact(registry, 'bench/trivy-db');
    const usual = async (run: number) => {
      writeFileSync(join(ctxDir, 'stamp.txt'), `usual ${run} ${Date.now()}\n`);
      const work = tempDir('golden-image-bench-usual-');
      writeFileSync(wrappers.log, '');
      const env = baseEnv;
      const ref = `${registry.host}/bench/usual`;
      const metadata = join(work, 'metadata.json');
      const report = join(work, 'trivy.json');
      const started = performance.now();
      execFileSync(
        'docker',
        ['buildx', 'build', '--platform', PLATFORMS.join(','), '--provenance', 'mode=max', '--sbom', 'false'].concat([
          '--push',
          '--tag',
          `${ref}:run-${run}`,
          '--metadata-file',
          metadata,
          ctxDir,
        ]),
        { env, stdio: 'ignore' },
      );
      const digest = JSON.parse(readFileSync(metadata, 'utf8'))['containerimage.digest'] as string;
      execFileSync(
        'trivy',
        [
          'image',
          '--cache-dir',
          usualCache,
          '--skip-db-update',
          '--skip-java-db-update',
          '--skip-version-check',
        ].concat(
          ['--disable-telemetry', '--scanners', 'vuln', '--severity', 'HIGH,CRITICAL', '--exit-code', '1'],
          ['--format', 'json', '--output', report, '--no-progress', `${ref}:run-${run}`],
        ),
        { env, stdio: 'ignore' },
      );
      execFileSync('cosign', ['sign', '--key', key, '--tlog-upload=false', '--yes', `${ref}@${digest}`], {
        env,
        stdio: 'ignore',
      });
      const wall = performance.now() - started;
      const scanned = (
        JSON.parse(readFileSync(report, 'utf8')) as { Metadata?: { ImageConfig?: { architecture?: string } } }
      ).Metadata?.ImageConfig?.architecture;
      return { wall, calls: readCalls(wrappers.log), scanned };
    };

    // (b): the root action's bundle, its scans pulling the same offline DB by digest from the local registry.
    // BENCH_BASELINE=FILE: another build of dist/chain/index.js (git show REV:dist/chain/index.js > FILE), run as
    // (b) attest: false beside the current one, alternating, for a before/after on the same machine and minute.
    const baseline = process.env.BENCH_BASELINE;
    const golden = async (run: number, attest: boolean, entry?: string, extra: Record<string, string> = {}) => {
      writeFileSync(join(ctxDir, 'stamp.txt'), `golden ${attest} ${run} ${Date.now()}\n`);
      const runnerTemp = tempDir('golden-image-bench-runner-');
      writeFileSync(wrappers.log, '');
      const started = performance.now();
      const result = await runBundledAction(
        'chain',
        {
          image: `${registry.host}/bench/golden${attest ? '-attested' : ''}${entry ? '-baseline' : ''}${Object.keys(extra).length ? '-extra' : ''}`,
          context: ctxDir,
          platforms: PLATFORMS.join(','),
          provenance: 'mode=max',
          sbom: 'false',
          'cache-from': 'none',
          'cache-to': 'none',
          tags: `sha-${(0xbe0000 + run * 16 + (attest ? 1 : 0) + (entry ? 2 : 0) + (Object.keys(extra).length ? 4 : 0)).toString(16)}${'0'.repeat(4)}`,
          'rolling-tags': 'latest',
          push: 'true',
          'scan-repo': 'false',
          key,
          // offline, as (a): no transparency log (cosign sign --tlog-upload=false)
          'transparency-log': 'false',
          ...(attest ? {} : { attest: 'false' }),
          'tls-verify': 'false',
          'install-tools': 'false',
          // the same offline DB, pulled by digest from the local registry (the step's own DB work is timed)
          'db-repository': goldenDb,
          ...extra,
        },
        { env: { ...baseEnv, RUNNER_TEMP: runnerTemp, GITHUB_SHA: '0'.repeat(40) }, ...(entry ? { entry } : {}) },
      );
      const wall = performance.now() - started;
      if (result.exitCode !== 0) throw new Error(`the root action failed:\n${result.log.slice(-4000)}`);
      // The root action's own "Where the time went" table: seconds per step.
      const steps = [...result.summary.matchAll(/^\| ([a-z-]+(?: [^|]+)?) \| (\d+\.\d+) \|$/gm)].map(
        (m) => [m[1] as string, Number(m[2]) * 1000] as const,
      );
      return { wall, calls: readCalls(wrappers.log), outputs: result.outputs, steps };
    };

    // One warm-up of each, so the BuildKit state, the page cache and the registry are in the same state for both.
    await usual(0);
    await golden(0, false);
    if (baseline) await golden(0, false, baseline);
    const a: number[] = [];
    const b: number[] = [];
    const before: number[] = [];
    const beforeAttested: number[] = [];
    const noWindow: number[] = [];
    const bAttested: number[] = [];
    const phases = new Map<string, number[]>();
    const usualPhases = new Map<string, number[]>();
    const stepPhases = new Map<string, number[]>();
    const add = (into: Map<string, number[]>, name: string, value: number) =>
      into.set(name, [...(into.get(name) ?? []), value]);
    const byTool = (into: Map<string, number[]>, calls: ToolCall[], wall: number) => {
      for (const tool of ['docker', 'trivy', 'skopeo', 'cosign', 'syft'])
        add(into, tool, covered(calls.filter((call) => call.tool === tool)));
      add(into, 'in any tool (overlaps counted once)', covered(calls));
      add(into, 'in node alone', wall - covered(calls));
    };
    let scannedByA: string | undefined;
    let lastB: Awaited<ReturnType<typeof golden>> | undefined;
    for (let run = 1; run <= runs; run++) {
      const order = [...(baseline ? ['y', 'z'] : []), 'a', 'b', 'c', 'w'];
      for (const which of run % 2 === 1 ? order : order.reverse()) {
        if (which === 'y') {
          beforeAttested.push((await golden(run, true, baseline)).wall);
        } else if (which === 'z') {
          before.push((await golden(run, false, baseline)).wall);
        } else if (which === 'w') {
          noWindow.push((await golden(run, false, undefined, { 'tag-race-window-ms': '0' })).wall);
        } else if (which === 'a') {
          const result = await usual(run);
          a.push(result.wall);
          scannedByA = result.scanned;
          byTool(usualPhases, result.calls, result.wall);
        } else {
          const result = await golden(run, which === 'c');
          (which === 'c' ? bAttested : b).push(result.wall);
          if (which === 'b') {
            lastB = result;
            byTool(phases, result.calls, result.wall);
            for (const [step, time] of result.steps) add(stepPhases, step, time);
          }
        }
      }
    }
    const ma = median(a);
    const mb = median(b);
    const mc = median(bAttested);
    lines.push(
      `one ${PLATFORMS.length}-platform image (${appMiB} MiB of application (BENCH_APP_MIB), Alpine-like files per platform, a new stamp each run), the real BuildKit (remote driver), a local registry, median of ${runs} runs (BENCH_RUNS) after one warm-up, runs alternating:`,
      '',
      '| what | median | runs | ratio to (a) |',
      '|---|---|---|---|',
      `| (a) \`docker buildx build --push\`, \`trivy image\` on the pushed reference, \`cosign sign\` by digest | ${s(ma)} | ${a.map(s).join(', ')} | 1.00 |`,
      `| (b) the root action, \`attest: false\` (the same release, plus the suite's checks) | ${s(mb)} | ${b.map(s).join(', ')} | ${(mb / ma).toFixed(2)} (goal <= 1.15) |`,
      `| (b) the root action, defaults (also SBOM and scan-result attestations, checked before promotion) | ${s(mc)} | ${bAttested.map(s).join(', ')} | ${(mc / ma).toFixed(2)} |`,
      `| (b) \`attest: false\`, \`tag-race-window-ms: 0\` (a concurrency group serialises releases of the image) | ${s(median(noWindow))} | ${noWindow.map(s).join(', ')} | ${(median(noWindow) / ma).toFixed(2)} |`,
      ...(baseline
        ? [
            `| before (BENCH_BASELINE ${baseline}): \`attest: false\` | ${s(median(before))} | ${before.map(s).join(', ')} | ${(median(before) / ma).toFixed(2)} |`,
            `| before: defaults | ${s(median(beforeAttested))} | ${beforeAttested.map(s).join(', ')} | ${(median(beforeAttested) / ma).toFixed(2)} |`,
          ]
        : []),
      '',
      `(b) with attest: false takes ${s(mb - ma)} more than (a), most of it a fixed cost (below), not a share of the build: the ratio`,
      `is <= 1.15 for a release whose (a) takes ${s((mb - ma) / 0.15)} or more (a build of minutes: 1.0x), and far above it for this`,
      'tiny one, where (a) is mostly process starts.',
      '',
      "where the time goes (median per run; a tool's calls that overlap are counted once; docker is the build, with its push in (a); node alone is the bundle's start, its checks, hashing and outputs):",
      '',
      '| | (a) | (b), attest: false |',
      '|---|---|---|',
      ...[...phases.keys()].map(
        (name) => `| ${name} | ${ms(median(usualPhases.get(name) ?? []))} | ${ms(median(phases.get(name) ?? []))} |`,
      ),
      '',
      "(b)'s steps, from its own summary (median):",
      '',
      '| step | median |',
      '|---|---|',
      ...[...stepPhases.entries()].map(([name, values]) => `| ${name} | ${ms(median(values))} |`),
      '',
    );
    const calls = lastB?.calls ?? [];
    const count = (tool: string, word: string) => calls.filter((c) => c.tool === tool && c.args.includes(word)).length;
    const platforms = Object.keys(JSON.parse(lastB?.outputs.platforms ?? '{}'));
    if (process.env.BENCH_CALLS)
      lines.push(
        "(b)'s tool calls in its last run:",
        ...calls.map(
          (c) =>
            `  ${String(Math.round(c.end - c.start)).padStart(5)} ms  ${c.tool} ${c.args.replace(/\S{60,}/g, (w) => `${w.slice(0, 40)}…`).slice(0, 140)}`,
        ),
        '',
      );
    lines.push(
      'what (b) did that (a) did not (counted in its last run):',
      `- platforms scanned: ${count('trivy', '--input')} of ${platforms.length} (${platforms.join(', ')}); (a) scanned 1 (${scannedByA ? `linux/${scannedByA}` : "the runner's platform"}: Trivy on a multi-platform reference takes the runner's)`,
      '- the layout verified before the scan and again before the push, every blob hashed once after the build; skopeo checks every blob it uploads against its digest',
      `- tags read back after writing: ${count('skopeo', 'inspect')} registry reads by skopeo (the tag look-ups before the push included); (a) read nothing back`,
      `- the signature verified after signing (${count('cosign', 'verify')} cosign verify), and again before the rolling tag moved; (a) did not verify`,
      `- signed the index and each platform manifest (${count('cosign', 'sign --yes')} cosign sign, not BuildKit's attestation manifests); (a) signed the index only`,
      '- one immutable tag pushed first and never moved, the rolling tag moved only to the signed digest and read back',
    );
  } finally {
    await Promise.all([buildkit.stop(), registry.stop()]);
  }
  return lines;
}
