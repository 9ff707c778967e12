// push-layout against a bare `skopeo copy --all --preserve-digests` of the same 256 MiB two-platform layout,
// each run into an empty registry of a local registry; then a repeat push. Prints figures, asserts nothing.
//
// The upload itself varies by ±20 % from run to run here, more than push-layout adds, so besides the ratio of
// medians the bench measures push-layout's own cost directly: its wall time less the time of its one uploading
// skopeo copy (and less the race-guard window), timed by a wrapper around skopeo.
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildLayout, runBundledAction, startRegistry, tempDir } from '@golden-image/testkit';

const WINDOW_MS = 1500;

/** A directory whose `skopeo` runs the real one and appends `<ms> <argv>` per call to $GOLDEN_IMAGE_SKOPEO_TIMES. */
function timedSkopeo(): string {
  const dir = tempDir('golden-image-bench-skopeo-');
  const real = execFileSync('sh', ['-c', 'command -v skopeo'], { encoding: 'utf8' }).trim();
  writeFileSync(
    join(dir, 'skopeo'),
    `#!/bin/sh\ns=$(date +%s%N); ${JSON.stringify(real)} "$@"; rc=$?; e=$(date +%s%N)\necho "$(( (e - s) / 1000000 )) $*" >> "$GOLDEN_IMAGE_SKOPEO_TIMES"; exit $rc\n`,
  );
  chmodSync(join(dir, 'skopeo'), 0o755);
  return dir;
}

export async function benchPush(runs = 5): Promise<string[]> {
  const lines: string[] = [];
  const registry = await startRegistry();
  const wrapper = timedSkopeo();
  try {
    const layout = await buildLayout(join(tempDir(), 'layout'), {
      platforms: ['linux/amd64', 'linux/arm64'],
      layerSizes: [64 << 20, 64 << 20],
      seed: 'bench',
    });
    const uploads = (repo: string) => registry.requests(new RegExp(`"POST /v2/${repo}/blobs/uploads/`)).length;
    const action: number[] = [];
    const unguarded: number[] = [];
    const bare: number[] = [];
    const fixed = { guarded: [] as number[], unguarded: [] as number[], calls: { guarded: 0, unguarded: 0 } };
    // Each measured push goes to an empty registry: in one registry skopeo would mount blobs across repositories.
    for (let run = 0; run < runs; run++) {
      const [forBare, forAction, forUnguarded] = await Promise.all([startRegistry(), startRegistry(), startRegistry()]);
      try {
        const pushBare = () => {
          const started = performance.now();
          execFileSync('skopeo', [
            'copy',
            '--all',
            '--preserve-digests',
            '--quiet',
            '--dest-tls-verify=false',
            `oci:${layout.path}`,
            `docker://${forBare.host}/bench/app:sha-1`,
          ]);
          bare.push(performance.now() - started);
        };
        const pushAction = async (host: string, samples: number[], guard: 'guarded' | 'unguarded') => {
          const times = join(tempDir('golden-image-bench-times-'), 'skopeo');
          writeFileSync(times, '');
          const started = performance.now();
          const result = await runBundledAction(
            'push-layout',
            {
              'layout-path': layout.path,
              digest: layout.digest,
              image: `${host}/bench/app`,
              tags: 'sha-1',
              'tls-verify': 'false',
              ...(guard === 'unguarded' ? { 'tag-race-window-ms': '0' } : {}),
            },
            { env: { PATH: `${wrapper}:${process.env.PATH}`, GOLDEN_IMAGE_SKOPEO_TIMES: times } },
          );
          const total = performance.now() - started;
          samples.push(total);
          if (result.exitCode !== 0) throw new Error(`push-layout failed:\n${result.log}`);
          const calls = readFileSync(times, 'utf8').trim().split('\n');
          // The one call that uploads: the first full copy (--all), to the digest or to the first tag.
          const upload = Number(calls.find((call) => call.split(' ').includes('--all'))?.split(' ')[0]);
          fixed[guard].push(total - upload - (guard === 'guarded' ? WINDOW_MS : 0));
          fixed.calls[guard] = calls.length;
        };
        const guarded = () => pushAction(forAction.host, action, 'guarded');
        const unguardedPush = () => pushAction(forUnguarded.host, unguarded, 'unguarded');
        // Alternate which goes first, so none always meets a warmer page cache.
        if (run % 2 === 0) {
          pushBare();
          await guarded();
          await unguardedPush();
        } else {
          await unguardedPush();
          await guarded();
          pushBare();
        }
      } finally {
        await Promise.all([forBare.stop(), forAction.stop(), forUnguarded.stop()]);
      }
    }
    // A first push, then the same push again: the repeat must upload nothing.
    const pushOnce = () =>
      runBundledAction('push-layout', {
        'layout-path': layout.path,
        digest: layout.digest,
        image: `${registry.host}/bench/action-0`,
        tags: 'sha-1',
        'tls-verify': 'false',
      });
    await pushOnce();
    const before = uploads('bench/action-0');
    let started = performance.now();
    await pushOnce();
    const repeat = performance.now() - started;
    const repeatUploads = uploads('bench/action-0') - before;
    started = performance.now();
    const promoted = await runBundledAction('promote-tags', {
      image: `${registry.host}/bench/action-0`,
      digest: layout.digest,
      tags: 'latest,nightly,nightly-{date}',
      engine: 'skopeo',
      'tls-verify': 'false',
      // cosign cannot run here; the signature check is measured by the e2e workflow.
      'require-signature': 'false',
    });
    if (promoted.exitCode !== 0) throw new Error(`promote-tags failed:\n${promoted.log}`);
    const promote = performance.now() - started;
    const promoteUploads = uploads('bench/action-0') - before - repeatUploads;
    const med = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
    lines.push(
      `push of a 256 MiB two-platform layout (${layout.digest.slice(0, 19)}…), median of ${runs} runs, each into an empty registry:`,
      `  bare skopeo copy --all --preserve-digests: ${ms(med(bare))}  (runs: ${bare.map(ms).join(', ')})`,
      `  push-layout (bundle, all checks, read-back), race guard off (tag-race-window-ms: 0, as the reusable workflow runs it): ${ms(med(unguarded))}  (runs: ${unguarded.map(ms).join(', ')})`,
      `    ratio / skopeo: ${(med(unguarded) / med(bare)).toFixed(3)}  (goal <= 1.10)`,
      `    its own cost (wall time less its uploading skopeo copy): ${ms(med(fixed.unguarded))}  (runs: ${fixed.unguarded.map(ms).join(', ')}; ${fixed.calls.unguarded} skopeo calls); (bare + own cost) / bare: ${((med(bare) + med(fixed.unguarded)) / med(bare)).toFixed(3)}`,
      `  push-layout with the default ${WINDOW_MS} ms race guard for new immutable tags: ${ms(med(action))}  (runs: ${action.map(ms).join(', ')})`,
      `    ratio / skopeo: ${(med(action) / med(bare)).toFixed(3)}  (the guard's fixed wait; it amortises on real pushes of tens of seconds)`,
      `    its own cost beyond the window (wall time less its uploading copy and ${WINDOW_MS} ms): ${ms(med(fixed.guarded))}  (runs: ${fixed.guarded.map(ms).join(', ')}; ${fixed.calls.guarded} skopeo calls)  (goal <= 200 ms)`,
      `repeat push of the same layout and tag: ${ms(repeat)}, blob uploads: ${repeatUploads} (goal 0)`,
      `promotion of three tags: ${ms(promote)}, blob uploads: ${promoteUploads} (goal 0)`,
    );
  } finally {
    await registry.stop();
  }
  return lines;
}

const ms = (value: number) => `${Math.round(value)} ms`;
