import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { sha256File } from './digest.js';

/** Below this many bytes in all, worker start-up (~30 ms each) costs more than a second core saves. */
const PARALLEL_FROM_BYTES = 64 << 20;

// Inline, so the action's single-file bundle needs no second file.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { createReadStream } = require('node:fs');
parentPort.on('message', async (path) => {
  try {
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk);
    parentPort.postMessage({ digest: 'sha256:' + hash.digest('hex') });
  } catch (error) {
    parentPort.postMessage({ error: String(error) });
  }
});`;

/**
 * The sha256 digest of each file, in order. Large sets are hashed on every core (Node hashes on the thread that
 * calls it), the largest files first so no core waits on one big file at the end.
 */
export async function hashFiles(paths: readonly string[]): Promise<string[]> {
  const sizes = await Promise.all(paths.map(async (path) => (await stat(path)).size));
  const total = sizes.reduce((sum, size) => sum + size, 0);
  const threads = Math.min(availableParallelism(), paths.length);
  const digests: string[] = new Array(paths.length);
  if (threads < 2 || total < PARALLEL_FROM_BYTES) {
    for (const [i, path] of paths.entries()) digests[i] = await sha256File(path);
    return digests;
  }
  const queue = paths.map((_, i) => i).sort((a, b) => (sizes[b] as number) - (sizes[a] as number));
  const workers = Array.from({ length: threads }, () => new Worker(WORKER_SOURCE, { eval: true }));
  try {
    await Promise.all(
      workers.map(async (worker) => {
        for (let i = queue.shift(); i !== undefined; i = queue.shift())
          digests[i] = await hashIn(worker, paths[i] as string);
      }),
    );
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
  return digests;
}

function hashIn(worker: Worker, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    worker.once('error', onError);
    worker.once('message', (message: { digest?: string; error?: string }) => {
      worker.off('error', onError);
      if (message.digest) resolve(message.digest);
      else reject(new Error(`hashing ${path} failed: ${message.error}`));
    });
    worker.postMessage(path);
  });
}
