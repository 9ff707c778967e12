export type ToolName = 'trivy' | 'osv-scanner' | 'syft' | 'cosign';
export const TOOL_NAMES: readonly ToolName[] = ['trivy', 'osv-scanner', 'syft', 'cosign'];

export interface ToolRequest {
  tool: ToolName;
  /** Default: the suite's pinned version. */
  version?: string;
  /** Required for a version the suite has no checksum for. */
  sha256?: string;
  /** Base URL that replaces https://github.com (GitHub Enterprise Server, an internal mirror). */
  mirror?: string;
  /** false: use the tool already on PATH. */
  install: boolean;
}
