import { booleanInput, type InputSpec, inputProblem, optionalCheckedString, show, UserError } from '@golden-image/kit';
import { DENIED_SHA256, PINS, type PinTable } from './pins.js';
import type { ToolName, ToolRequest } from './types.js';

const VERSION = /^v?(\d+\.\d+\.\d+)$/;
const SHA256 = /^[a-f0-9]{64}$/;

/** Normalises `v1.2.3` to `1.2.3`; undefined when the value is not an exact release version. */
export function exactVersion(value: string): string | undefined {
  return VERSION.exec(value)?.[1];
}

export function versionProblem(tool: ToolName, value: string, pins: PinTable = PINS): string | undefined {
  const spec = pins[tool];
  if (/^(latest|stable|main|master|nightly|canary|edge)$/i.test(value)) {
    return `must be an exact release version such as ${spec.defaultVersion}; moving names like ${show(value)} are refused (a moving release channel was compromised before)`;
  }
  const version = exactVersion(value);
  if (!version) return `must be an exact release version such as ${spec.defaultVersion}, got ${show(value)}`;
  const refused = spec.refusedVersions[version];
  if (refused) return `${tool} ${version} is refused: ${refused}. Use ${spec.defaultVersion}`;
  return undefined;
}

export function sha256Problem(value: string): string | undefined {
  const hex = value.startsWith('sha256:') ? value.slice('sha256:'.length) : value;
  if (!SHA256.test(hex))
    return `must be the SHA-256 of the release asset: 64 lowercase hex characters, got ${show(value)}`;
  if (DENIED_SHA256.has(hex)) return `${show(value)} is the hash of a known-malicious release asset; it is refused`;
  return undefined;
}

export function mirrorProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `must be a base URL such as https://github.example.com, got ${show(value)}`;
  }
  // A URL is printed in download logs and errors, so it must not carry a secret.
  if (url.username || url.password) {
    return 'must not carry a user name or password (it would be printed in the log); serve the mirror to the runner without credentials in the URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `must be an http(s) URL, got ${show(value)}`;
  if (url.search || url.hash) return `must be a base URL without query or fragment, got ${show(value)}`;
  return undefined;
}

/** Input spec fragment for parseInputs: `<tool>-version`, `<tool>-sha256`, `tool-mirror`, `install-tools` (default true). */
export function toolInputSpec(tool: ToolName): InputSpec {
  return {
    [`${tool}-version`]: optionalCheckedString((value) => versionProblem(tool, value)),
    [`${tool}-sha256`]: optionalCheckedString(sha256Problem),
    'tool-mirror': optionalCheckedString(mirrorProblem),
    'install-tools': booleanInput(true),
  };
}

/**
 * Builds the request from parsed inputs, refusing (as a UserError naming the input) a version whose checksum the
 * suite does not know when no `<tool>-sha256` is given.
 */
export function toolRequest(tool: ToolName, inputs: Record<string, unknown>, pins: PinTable = PINS): ToolRequest {
  const rawVersion = inputs[`${tool}-version`];
  const rawSha = inputs[`${tool}-sha256`];
  const mirror = inputs['tool-mirror'];
  const install = inputs['install-tools'] !== false;
  const version =
    typeof rawVersion === 'string' && rawVersion !== '' ? (exactVersion(rawVersion) ?? rawVersion) : undefined;
  const sha256 = typeof rawSha === 'string' && rawSha !== '' ? rawSha.replace(/^sha256:/, '') : undefined;
  const request: ToolRequest = { tool, install };
  if (version) request.version = version;
  if (sha256) request.sha256 = sha256;
  if (typeof mirror === 'string' && mirror !== '') request.mirror = mirror.replace(/\/+$/, '');
  if (install && version && !sha256 && !pins[tool].sha256[version]) {
    const known = Object.keys(pins[tool].sha256).join(', ');
    throw new UserError(
      inputProblem(
        `${tool}-version`,
        `the suite has no checksum for ${tool} ${version} (it knows ${known}). Give its SHA-256 in "${tool}-sha256", or use a known version`,
      ),
    );
  }
  return request;
}
