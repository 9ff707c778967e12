// push-layout against a bare `skopeo copy --all --preserve-digests` of the same 256 MiB two-platform layout,
// each run into an empty registry of a local registry; then a repeat push. Prints figures, asserts nothing.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { buildLayout, runBundledAction, startRegistry, tempDir } from '@golden-image/testkit';

export async function benchPush(runs = 5): Promise<string[]> {
  const lines: string[] = [];
  const registry = await startRegistry();
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
        const pushAction = async (host: string, samples: number[], extra: Record<string, string>) => {
          const started = performance.now();
          const result = await runBundledAction('push-layout', {
            'layout-path': layout.path,
            digest: layout.digest,
            image: `${host}/bench/app`,
            tags: 'sha-1',
            'tls-verify': 'false',
            ...extra,
          });
          samples.push(performance.now() - started);
          if (result.exitCode !== 0) throw new Error(`push-layout failed:\n${result.log}`);
        };
        const guarded = () => pushAction(forAction.host, action, {});
        const unguardedPush = () => pushAction(forUnguarded.host, unguarded, { 'tag-race-window-ms': '0' });
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
      `  push-layout with the default 1500 ms race guard for new immutable tags: ${ms(med(action))}  (runs: ${action.map(ms).join(', ')})`,
      `    ratio / skopeo: ${(med(action) / med(bare)).toFixed(3)}  (the guard's fixed wait; it amortises on real pushes of tens of seconds)`,
      `repeat push of the same layout and tag: ${ms(repeat)}, blob uploads: ${repeatUploads} (goal 0)`,
      `promotion of three tags: ${ms(promote)}, blob uploads: ${promoteUploads} (goal 0)`,
    );
  } finally {
    await registry.stop();
  }
  return lines;
}

const ms = (value: number) => `${Math.round(value)} ms`;
