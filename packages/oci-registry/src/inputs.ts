import { booleanInput, optionalString } from '@golden-image/kit';

/** Registry access inputs shared by push-layout, promote-tags and the root action. */
export const registryInputSpec = () => ({
  'tls-verify': booleanInput(true),
  username: optionalString(),
  password: optionalString(),
});
