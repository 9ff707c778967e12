export { restoreCacheBestEffort, saveCacheBestEffort } from './actions-cache.js';
export { type EnsureOptions, ensureTool, sha256Of } from './install.js';
export {
  currentPlatform,
  DENIED_SHA256,
  PINS,
  type PinTable,
  PLATFORMS,
  type PlatformKey,
  type ToolSpec,
} from './pins.js';
export { exactVersion, mirrorProblem, sha256Problem, toolInputSpec, toolRequest, versionProblem } from './request.js';
export { TOOL_NAMES, type ToolName, type ToolRequest } from './types.js';
