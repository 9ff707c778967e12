// actions/setup-go stand-in: the host Go when it matches go-version; it downloads nothing.
import { dirname } from 'node:path';
import * as semver from 'semver';
import { core, refuseUnimplemented, runStandIn } from '../../lib/action.js';
import { run } from '../../lib/exec.js';

const IMPLEMENTED = ['go-version', 'cache'] as const;

runStandIn('actions/setup-go', async () => {
  refuseUnimplemented(IMPLEMENTED);
  if (core.getInput('cache') !== 'false') {
    throw new Error(
      "input 'cache': module caching is not implemented by the stand-in for actions/setup-go; set cache: false",
    );
  }
  const spec = core.getInput('go-version');
  const goroot = run('go', ['env', 'GOROOT']).stdout.trim();
  const version = run('go', ['env', 'GOVERSION']).stdout.trim().replace(/^go/, '');
  const coerced = semver.coerce(version)?.version ?? version;
  if (spec) {
    const range = /^\d+\.\d+$/.test(spec.trim()) ? `~${spec.trim()}.0` : spec.trim();
    if (!semver.satisfies(coerced, range)) {
      throw new Error(
        `input 'go-version': ${spec} is not the host's Go ${version}, and the stand-in for actions/setup-go downloads none`,
      );
    }
  }
  core.addPath(`${goroot}/bin`);
  core.info(`Found in cache @ ${goroot} (the host Go ${version}, ${dirname(goroot)})`);
  core.setOutput('go-version', version);
});
