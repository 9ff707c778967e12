// npm run bench: prints the suite's speed and size figures. Goals are printed beside the figures; nothing here
// fails on a slow machine (these machines are noisy), and no test asserts a time.
import { cpus, totalmem } from 'node:os';
import { benchPush } from './bench/push.ts';

console.log(`golden-image benchmark, ${new Date().toISOString()}`);
console.log(
  `machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}\n`,
);
for (const line of await benchPush()) console.log(line);
