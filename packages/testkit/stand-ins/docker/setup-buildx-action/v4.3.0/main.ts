// docker/setup-buildx-action v4.3.0 stand-in (lib/buildx.ts).
import { runStandIn } from '../../../lib/action.js';
import { setupBuildx } from '../../../lib/buildx.js';

runStandIn('docker/setup-buildx-action', setupBuildx);
