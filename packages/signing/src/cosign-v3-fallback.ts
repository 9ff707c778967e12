import type { ActionContext } from '@golden-image/kit';
import { ensureTool, PINS, type ToolRequest } from '@golden-image/tools';

/**
 * The newest pinned cosign v3, for checking a legacy signature that cosign v2.6.3+ will not look at once a bundle is
 * attached. Only when the suite installs tools: with install-tools: false it uses only what is on PATH.
 */
export function cosignV3Fallback(ctx: ActionContext, request: ToolRequest): (() => Promise<string>) | undefined {
  if (!request.install) return undefined;
  const v3 = Object.keys(PINS.cosign.sha256)
    .filter((version) => version.startsWith('3.'))
    .sort((a, b) => a.localeCompare(b, undefined, { numeric: true }))
    .at(-1);
  if (!v3) return undefined;
  return () => ensureTool(ctx, { tool: 'cosign', version: v3, install: true, mirror: request.mirror });
}
