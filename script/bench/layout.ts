// Layout verification of a 1 GiB two-platform layout, every layer hashed (layers: 'digest'), against sha256sum
// over the same blob files. Prints figures only.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { verifyLayout } from '@golden-image/oci';
import { buildLayout, tempDir } from '@golden-image/testkit';

export async function benchLayoutVerification(runs = 3): Promise<string[]> {
  const dir = join(tempDir('golden-image-bench-layout-'), 'layout');
  const layout = await buildLayout(dir, {
    platforms: ['linux/amd64', 'linux/arm64'],
    layerSizes: [256 << 20, 256 << 20],
    seed: 'verify',
  });
  const blobs = join(dir, 'blobs', 'sha256');
  const files = readdirSync(blobs).map((name) => join(blobs, name));
  const ours: number[] = [];
  const sha256sum: number[] = [];
  for (let run = 0; run < runs; run++) {
    let started = performance.now();
    execFileSync('sha256sum', files, { stdio: 'ignore' });
    sha256sum.push(performance.now() - started);
    started = performance.now();
    const verified = await verifyLayout(dir, layout.digest, { layers: 'digest' });
    ours.push(performance.now() - started);
    if (verified.totalBytes < 1 << 30) throw new Error('the layout is smaller than 1 GiB');
  }
  const med = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
  const gib = (await verifyLayout(dir, layout.digest)).totalBytes / 2 ** 30;
  return [
    `verification of a ${gib.toFixed(2)} GiB layout (${files.length} blobs), every blob hashed, median of ${runs}:`,
    `  sha256sum over the blob files: ${Math.round(med(sha256sum))} ms`,
    `  verifyLayout(layers: 'digest'): ${Math.round(med(ours))} ms  (also parses and checks every manifest and size)`,
    `  ratio verifyLayout / sha256sum: ${(med(ours) / med(sha256sum)).toFixed(3)}  (goal <= 1.0)`,
  ];
}
