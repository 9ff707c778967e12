export { authFileFor } from './auth.js';
export type { TagEngine } from './client.js';
export { Imagetools } from './imagetools.js';
export { registryInputSpec } from './inputs.js';
export { MIN_SKOPEO, type RegistryOptions, Skopeo } from './skopeo.js';
