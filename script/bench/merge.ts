// merge-layouts on two 256 MiB one-platform layouts (as two matrix jobs hand them on) against `cp -al` of the same
// blob files: the merge moves no blob bytes, so what it adds is verification. Prints figures only.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { hashFiles, mergeLayouts, sha256File, verifyLayout } from '@golden-image/oci';
import { buildLayout, tempDir } from '@golden-image/testkit';

export async function benchMerge(runs = 5): Promise<string[]> {
  const root = tempDir('golden-image-bench-merge-');
  const inputs = await Promise.all(
    ['linux/amd64', 'linux/arm64'].map((platform) =>
      buildLayout(join(root, platform.replace('/', '-')), {
        platforms: [platform],
        layerSizes: [128 << 20, 128 << 20],
        seed: 'merge',
      }),
    ),
  );
  const blobs = inputs.flatMap((input) =>
    readdirSync(join(input.path, 'blobs', 'sha256')).map((name) => join(input.path, 'blobs', 'sha256', name)),
  );
  const samples = { cp: [] as number[], merge: [] as number[], parallel: [] as number[], oneCore: [] as number[] };
  let linked = 0;
  for (let run = 0; run < runs; run++) {
    const dest = join(root, `out-${run}`);
    mkdirSync(join(dest, 'cp', 'blobs', 'sha256'), { recursive: true });
    let started = performance.now();
    execFileSync('cp', ['-al', ...blobs, join(dest, 'cp', 'blobs', 'sha256')]);
    samples.cp.push(performance.now() - started);

    started = performance.now();
    const merged = await mergeLayouts(inputs, join(dest, 'merged'));
    samples.merge.push(performance.now() - started);
    linked = merged.linked;

    // The part of the merge that is hashing: every blob of both inputs, on every core and on one.
    started = performance.now();
    await hashFiles(blobs);
    samples.parallel.push(performance.now() - started);
    started = performance.now();
    for (const blob of blobs) await sha256File(blob);
    samples.oneCore.push(performance.now() - started);
    rmSync(dest, { recursive: true, force: true });
  }
  const sizes = await Promise.all(inputs.map((input) => verifyLayout(input.path, input.digest)));
  const mib = sizes.reduce((sum, layout) => sum + layout.totalBytes, 0) / 2 ** 20;
  const med = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
  const ms = (value: number) => `${Math.round(value)} ms`;
  rmSync(root, { recursive: true, force: true });
  return [
    `merge of two one-platform layouts (${mib.toFixed(0)} MiB, ${blobs.length} blobs), median of ${runs}:`,
    `  cp -al of the blob files: ${ms(med(samples.cp))}`,
    `  mergeLayouts (verify both against their digests, hash every blob, link ${linked} blobs, write the index): ${ms(med(samples.merge))}`,
    `    of which hashing every blob, on every core: ${ms(med(samples.parallel))}  (on one core: ${ms(med(samples.oneCore))})`,
    `    the rest (verification walk, links, index): ${ms(Math.max(0, med(samples.merge) - med(samples.parallel)))}`,
  ];
}
