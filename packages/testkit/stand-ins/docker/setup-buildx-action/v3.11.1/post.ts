// docker/setup-buildx-action v3.11.1 stand-in, post: removes the builder when cleanup is true.
import { runStandIn } from '../../../lib/action.js';
import { cleanupBuildx } from '../../../lib/buildx.js';

runStandIn('docker/setup-buildx-action', cleanupBuildx);
