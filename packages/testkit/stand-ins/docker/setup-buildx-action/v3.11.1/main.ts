// docker/setup-buildx-action v3.11.1 stand-in (lib/buildx.ts).
import { runStandIn } from '../../../lib/action.js';
import { setupBuildx } from '../../../lib/buildx.js';

runStandIn('docker/setup-buildx-action', setupBuildx);
