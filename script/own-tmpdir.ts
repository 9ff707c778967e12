// Imported first by a script (demo, bench, workflow): its temporary files, and those of every tool and registry it
// starts, go under a TMPDIR of its own, removed when it exits, as each test run's are (tmpdir-setup.cjs).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const setup = require('./tmpdir-setup.cjs') as () => Promise<void>;
const teardown = require('./tmpdir-teardown.cjs') as () => Promise<void>;

await setup();
// The teardown removes synchronously, so it completes inside the exit handler.
process.on('exit', () => void teardown());
